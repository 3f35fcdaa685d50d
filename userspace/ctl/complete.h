// `bpfnetctl __complete WORD...`: what bash completion offers for the last
// word (scripts/bpfnetctl.bash-completion calls it). Verbs and flags come
// from the verb table, so completion cannot drift from the parser; names of
// networks, services and containers are asked from the daemon.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/json.h"

namespace bpfnet::ctl {

// The hidden first word that asks for candidates instead of running a command.
inline constexpr std::string_view kCompleteCommand = "__complete";

// Asks the daemon op (no arguments) on `socket_path`; throws when none answers.
using CompletionQuery = std::function<Json(const std::string& socket_path, const std::string& op)>;

// `words`: the command line after "bpfnetctl", the last one being the word
// typed so far (possibly empty). Returns the candidates starting with it,
// sorted; none when the daemon is needed and does not answer (bash then
// falls back to file names).
std::vector<std::string> complete(const std::vector<std::string>& words,
                                  const CompletionQuery& ask);

}  // namespace bpfnet::ctl
