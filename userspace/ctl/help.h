// The help texts, written from the verb table (public ones in ctl/command.h).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/verb_table.h"

namespace bpfnet::ctl {

// `bpfnetctl GROUP VERB --help`: usage, summary, options, notes.
std::string verb_help(const VerbRow& row);

// The flags' lines of an "Options:" section, Docker's layout:
//   "  -d, --driver string    Driver to ...", descriptions from column 25.
std::string flag_lines(std::span<const FlagSpec> flags);

// The last words of a group's verbs, sorted ("" for the verbs of their own).
std::vector<std::string_view> verb_words(std::string_view group);

}  // namespace bpfnet::ctl
