// argv -> Command, driven by the verb table: the global flags, then a group
// and a verb, whose row says which flags and arguments it takes.
#include "ctl/command.h"

#include <fmt/format.h>

#include <algorithm>

#include "ctl/flags.h"
#include "ctl/help.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

Command help_command(std::string text) {
  Command cmd;
  cmd.help_text = std::move(text);
  return cmd;
}

// Checks the positional arguments against the names the row gives them.
void check_positional(const std::vector<std::string>& got, const Positionals& expected,
                      std::string_view context) {
  if (expected.arity == Arity::kOptional && got.empty()) return;
  const std::vector<std::string>& names = expected.names;
  if (got.size() < names.size()) {
    throw UsageError(with_context(context, "missing argument " + names[got.size()]));
  }
  if (expected.arity != Arity::kVariadic && got.size() > names.size()) {
    throw UsageError(
        with_context(context, fmt::format("unexpected argument \"{}\"", got[names.size()])));
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].empty()) {
      const std::string& name = names[std::min(i, names.size() - 1)];
      throw UsageError(with_context(context, name + " must not be empty"));
    }
  }
}

// The arguments after the verb's words.
Command parse_verb(const VerbRow& row, const std::vector<std::string>& args, Command cmd) {
  po::options_description flags;
  add_flags(flags, row.flags);
  if (row.standard_output_flags) add_flags(flags, kOutputFlags);
  add_flags(flags, kCommonFlags);
  const ParsedArgs parsed = parse_args(args, flags, row.name);
  if (wants_help(parsed.vm)) return help_command(verb_help(row));
  apply_common_flags(parsed.vm, cmd, row.name);
  check_positional(parsed.positional, row.args, row.name);
  cmd.row = &row;
  row.call.build(VerbArgs(row, parsed), cmd);
  return cmd;
}

// The arguments after a group's name: a verb of the group and its arguments.
Command parse_group(const VerbRow& group, const std::vector<std::string>& args, Command cmd) {
  const std::string& name = group.name;
  if (args.empty()) {
    throw UsageError(fmt::format("{}: missing command ({}; see 'bpfnetctl {} --help')", name,
                                 fmt::join(verb_words(name), ", "), name));
  }
  const std::string& word = args[0];
  if (word == "-h" || word == "--help") return help_command(group_help(name));
  if (word.size() > 1 && word[0] == '-') {
    throw UsageError(fmt::format("{}: unknown flag: {}", name, word));
  }
  const VerbRow* row = find_row(name, word);
  if (row == nullptr) {
    throw UsageError(
        fmt::format("{}: unknown command \"{}\" (see 'bpfnetctl {} --help')", name, word, name));
  }
  return parse_verb(*row, std::vector<std::string>(args.begin() + 1, args.end()), std::move(cmd));
}

}  // namespace

Json Request::to_json() const {
  Json j = Json::object();
  j["op"] = op;
  j["args"] = args;
  return j;
}

std::string_view Command::verb() const {
  if (row == nullptr) return "help";
  return row->name;
}

Command parse_command(const std::vector<std::string>& args) {
  // Global flags come before the verb; find where the verb starts.
  size_t verb_at = 0;
  while (verb_at < args.size()) {
    const std::string& a = args[verb_at];
    if (a.size() < 2 || a[0] != '-') break;
    const bool takes_value = a == "--socket" || a == "-o" || a == "--output";
    verb_at += takes_value ? 2 : 1;
  }
  verb_at = std::min(verb_at, args.size());

  po::options_description global;
  add_flags(global, kGlobalFlags);
  po::variables_map vm;
  try {
    const std::vector<std::string> prefix(args.begin(), args.begin() + verb_at);
    po::store(po::command_line_parser(prefix).options(global).style(kFlagStyle).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw usage_from(e, "");
  }
  Command cmd;
  apply_common_flags(vm, cmd, "");
  if (wants_help(vm)) return help_command(global_help());
  if (verb_at == args.size()) throw UsageError("missing command (see 'bpfnetctl --help')");

  const std::string& word = args[verb_at];
  const std::vector<std::string> rest(args.begin() + verb_at + 1, args.end());
  if (const VerbRow* row = find_row("", word)) {
    return row->is_group() ? parse_group(*row, rest, std::move(cmd))
                           : parse_verb(*row, rest, std::move(cmd));
  }
  if (word == "help") {
    if (rest.empty()) return help_command(global_help());
    std::vector<std::string> again = rest;
    again.emplace_back("--help");
    return parse_command(again);
  }
  throw UsageError(fmt::format("unknown command \"{}\" (see 'bpfnetctl --help')", word));
}

}  // namespace bpfnet::ctl
