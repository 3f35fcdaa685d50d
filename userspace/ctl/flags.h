// Flags through Boost.Program_options, with Docker's wording for the mistakes,
// and what a request builder reads of a parsed verb.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/command.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {

namespace po = boost::program_options;

// Docker's flags are never abbreviated, so neither are ours.
inline constexpr int kFlagStyle =
    po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

// "context: message", or message alone for an empty context (the global flags).
std::string with_context(std::string_view context, std::string_view message);

// Declares the flags to Boost.Program_options.
void add_flags(po::options_description& options, std::span<const FlagSpec> flags);

// A Boost.Program_options error as Docker words it ("unknown flag: --frob").
UsageError usage_from(const po::error& e, std::string_view context);

struct ParsedArgs {
  po::variables_map vm;
  std::vector<std::string> positional;
};

// Parses flags and positional arguments, in any order. Throws UsageError.
ParsedArgs parse_args(const std::vector<std::string>& args, const po::options_description& flags,
                      std::string_view context);

// The value of a string flag: nullopt when not given, UsageError when empty.
std::optional<std::string> string_flag(const po::variables_map& vm, const std::string& key,
                                       std::string_view context);

// --socket, -o/--output and --format found in vm, applied to cmd.
void apply_common_flags(const po::variables_map& vm, Command& cmd, std::string_view context);

bool wants_help(const po::variables_map& vm);

// What a request builder reads: the verb's row, its positional arguments
// (checked against the row's) and its flags. Errors name the verb.
class VerbArgs {
 public:
  VerbArgs(const VerbRow& row, const ParsedArgs& parsed) : row_(row), parsed_(parsed) {}

  const VerbRow& row() const { return row_; }
  const std::vector<std::string>& positional() const { return parsed_.positional; }
  const std::string& arg(size_t i) const { return parsed_.positional.at(i); }

  // A request for the row's op, about `target` (the name the user typed).
  Request request(std::string target) const;

  // A string flag: nullopt when not given; UsageError when given empty.
  std::optional<std::string> string(const std::string& key) const;
  // A string flag that must be given: "missing required flag --KEY".
  std::string required(const std::string& key) const;
  // A repeatable flag's values (none empty).
  std::vector<std::string> list(const std::string& key) const;
  // A switch (a flag without a value) of the row.
  bool on(const std::string& key) const;
  // Whether a string or repeatable flag was given.
  bool given(const std::string& key) const;

  // "VERB: message".
  UsageError error(std::string_view message) const;
  // "VERB: invalid --FLAG \"VALUE\": expected".
  UsageError invalid(std::string_view flag, std::string_view value,
                     std::string_view expected) const;

 private:
  const VerbRow& row_;
  const ParsedArgs& parsed_;
};

}  // namespace bpfnet::ctl
