#include "ctl/complete.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>

#include "ctl/command.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

std::vector<FlagSpec> flags_of(const VerbRow* row) {
  std::vector<FlagSpec> flags(kGlobalFlags.begin(), kGlobalFlags.end());
  if (row == nullptr) return flags;
  flags.insert(flags.end(), row->flags.begin(), row->flags.end());
  if (row->standard_output_flags && !row->is_group())
    flags.insert(flags.end(), kOutputFlags.begin(), kOutputFlags.end());
  return flags;
}

// The flag a word names (--name, --name=value, -n), if any.
const FlagSpec* find_flag(const std::vector<FlagSpec>& flags, std::string_view word) {
  std::string_view name = word.substr(0, word.find('='));
  for (const FlagSpec& flag : flags) {
    if (name == "--" + std::string(flag.long_name())) return &flag;
    if (!flag.short_name().empty() && name == "-" + std::string(flag.short_name())) return &flag;
  }
  return nullptr;
}

// Names of the objects a positional argument names ("NETWORK", "CONTAINER").
std::vector<std::string> names_for(std::string_view arg, const std::string& socket,
                                   const CompletionQuery& ask) {
  std::set<std::string> names;
  try {
    if (arg.find("NETWORK") != std::string_view::npos) {
      for (const Json& net : ask(socket, "network.ls")) names.insert(net.value("Name", ""));
    } else if (arg.find("SERVICE") != std::string_view::npos) {
      for (const Json& svc : ask(socket, "service.ls")) names.insert(svc.value("Name", ""));
    } else if (arg.find("CONTAINER") != std::string_view::npos) {
      for (const Json& ep : ask(socket, "stats").value("endpoints", Json::array()))
        names.insert(ep.value("container", ""));
    }
  } catch (const std::exception&) {
    return {};  // no daemon: nothing to offer
  }
  names.erase("");
  return {names.begin(), names.end()};
}

}  // namespace

std::vector<std::string> complete(const std::vector<std::string>& words,
                                  const CompletionQuery& ask) {
  const std::string typed = words.empty() ? "" : words.back();
  std::string socket(kDefaultSocket);
  const VerbRow* row = nullptr;
  std::string group;
  size_t positionals = 0;
  std::optional<FlagSpec> wants_value;  // the flag the next word is the value of
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& word = words[i];
    if (wants_value) {
      if (wants_value->long_name() == "socket") socket = word;
      wants_value.reset();
      continue;
    }
    if (word.starts_with("-") && word != "-") {
      const std::vector<FlagSpec> flags = flags_of(row);
      const FlagSpec* flag = find_flag(flags, word);
      if (flag && flag->takes_value() && word.find('=') == std::string::npos) wants_value = *flag;
      if (flag && flag->long_name() == "socket" && word.find('=') != std::string::npos)
        socket = word.substr(word.find('=') + 1);
      continue;
    }
    if (row == nullptr || row->is_group()) {
      const VerbRow* next = find_row(group, word);
      if (next == nullptr) return {};  // not a verb: nothing sensible to offer
      row = next;
      group = row->name;
      continue;
    }
    ++positionals;
  }

  std::vector<std::string> candidates;
  if (wants_value) {
    std::string_view name = wants_value->long_name();
    if (name == "output" || name == "format") candidates = {"json", "table"};
    if (name == "driver") candidates = {"bridge", "overlay"};
    if (name == "network") candidates = names_for("NETWORK", socket, ask);
    if (name == "service") candidates = names_for("SERVICE", socket, ask);
    if (name == "proto") candidates = {"tcp", "udp"};
  } else if (typed.starts_with("-")) {
    for (const FlagSpec& flag : flags_of(row))
      candidates.push_back("--" + std::string(flag.long_name()));
  } else if (row == nullptr || row->is_group()) {
    for (const VerbRow& verb : verb_table()) {
      bool below = group.empty() ? verb.name.find(' ') == std::string::npos
                                 : verb.name.starts_with(group + " ") &&
                                       verb.name.find(' ', group.size() + 1) == std::string::npos;
      if (below) candidates.push_back(std::string(verb.word()));
    }
  } else if (!row->args.names.empty()) {
    const auto& names = row->args.names;
    if (positionals < names.size() || row->args.arity == Arity::kVariadic)
      candidates = names_for(names[std::min(positionals, names.size() - 1)], socket, ask);
  }
  std::erase_if(candidates, [&](const std::string& c) { return !c.starts_with(typed); });
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  return candidates;
}

}  // namespace bpfnet::ctl
