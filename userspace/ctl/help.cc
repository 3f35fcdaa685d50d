#include "ctl/help.h"

#include <fmt/format.h>

#include <algorithm>

#include "ctl/command.h"

namespace bpfnet::ctl {
namespace {

// Where descriptions start, in the options and in the command lists.
constexpr size_t kFlagColumn = 25;
constexpr size_t kCommandColumn = 12;

// "[OPTIONS] NETWORK [NETWORK...]" without the leading "[OPTIONS]".
std::string positional_usage(const Positionals& args) {
  std::string names;
  for (const std::string& name : args.names) names += " " + name;
  switch (args.arity) {
    case Arity::kExact:
      return names;
    case Arity::kVariadic:
      return fmt::format("{} [{}...]", names, args.names.back());
    case Arity::kOptional:
      return fmt::format(" [{}]", names.substr(1));
  }
  return names;
}

// "  NAME        Description\n" lines, sorted by name.
std::string command_lines(std::vector<std::pair<std::string_view, std::string_view>> commands) {
  std::sort(commands.begin(), commands.end());
  std::string lines;
  for (const auto& [name, listed] : commands) {
    lines += fmt::format("  {:<{}}{}\n", name, kCommandColumn, listed);
  }
  return lines;
}

// "  WORD        Listed\n" for the rows after the words of `group`.
std::string rows_listed(std::string_view group) {
  std::vector<std::pair<std::string_view, std::string_view>> commands;
  for (const VerbRow& row : verb_table()) {
    if (row.group() == group) commands.emplace_back(row.word(), row.help.listed);
  }
  return command_lines(std::move(commands));
}

// The help of bpfnetctl or of a group: a list of commands. `words` is what
// comes before COMMAND ("network ", or "" for bpfnetctl itself).
std::string listing_help(std::string_view words, std::string_view description,
                         std::span<const FlagSpec> flags, std::string_view commands) {
  std::string text = fmt::format("Usage:  bpfnetctl {}{}COMMAND\n\n{}\n\n", words,
                                 flags.empty() ? "" : "[OPTIONS] ", description);
  if (!flags.empty()) text += "Options:\n" + flag_lines(flags) + "\n";
  text += fmt::format(
      "Commands:\n{}\nRun 'bpfnetctl {}COMMAND --help' for more information on a command.\n",
      commands, words);
  return text;
}

}  // namespace

std::string flag_lines(std::span<const FlagSpec> flags) {
  std::string lines;
  for (const FlagSpec& flag : flags) {
    const std::string head =
        fmt::format("{}{}", flag.short_name().empty() ? "      " : "  ", flag.head);
    // A head too long for its column puts the description on the next line.
    lines += head.size() + 2 <= kFlagColumn ? fmt::format("{:<{}}", head, kFlagColumn)
                                            : fmt::format("{}\n{:<{}}", head, "", kFlagColumn);
    std::string_view help = flag.help;
    for (size_t eol = help.find('\n'); eol != std::string_view::npos; eol = help.find('\n')) {
      lines += fmt::format("{}\n{:<{}}", help.substr(0, eol), "", kFlagColumn);
      help.remove_prefix(eol + 1);
    }
    lines += fmt::format("{}\n", help);
  }
  return lines;
}

std::string verb_help(const VerbRow& row) {
  std::string text = fmt::format("Usage:  bpfnetctl {} [OPTIONS]{}\n\n{}\n\nOptions:\n", row.name,
                                 positional_usage(row.args), row.help.summary);
  text += flag_lines(row.flags);
  if (row.standard_output_flags) text += flag_lines(kOutputFlags);
  text += flag_lines(kCommonFlags);
  if (!row.help.notes.empty()) text += "\n" + row.help.notes;
  return text;
}

std::vector<std::string_view> verb_words(std::string_view group) {
  std::vector<std::string_view> words;
  for (const VerbRow& row : verb_table()) {
    if (row.group() == group) words.push_back(row.word());
  }
  std::sort(words.begin(), words.end());
  return words;
}

std::string global_help() {
  return listing_help("", "Control bpfnetd, the eBPF datapath for Docker-style bridge networks.",
                      kGlobalFlags,
                      rows_listed("") + command_lines({{"help", "Show the help of a command"}}));
}

std::string group_help(std::string_view name) {
  const VerbRow* group = find_row("", name);
  if (group == nullptr || !group->is_group()) return global_help();
  return listing_help(fmt::format("{} ", name), group->help.summary, {}, rows_listed(name));
}

std::string network_help() { return group_help("network"); }
std::string port_map_help() { return group_help("port-map"); }
std::string service_help() { return group_help("service"); }

}  // namespace bpfnet::ctl
