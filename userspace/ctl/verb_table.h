// bpfnetctl's command tree, one row per verb: what the command line looks
// like (words, positional arguments, flags and their help), what is asked of
// the daemon (op, request builder) and how its answer is printed (renderer).
// A group of verbs ("network") is a row too, one without a daemon call.
// Parsing, help, dispatch and printing all read these rows, so adding a verb is
// adding a row to the verbs_*.cc file of its group (userspace/README.md,
// "Adding a verb").
#pragma once

#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/command.h"
#include "ctl/json.h"

namespace bpfnet::ctl {

// One flag, declared as the help shows it: its head ("-d, --driver string":
// the short name if any, the long name, the value's name if it takes one)
// and its description (each '\n' starts an aligned line). Boost.Program_options
// learns it from the head: a flag without a value is a switch.
struct FlagSpec {
  enum Occurs { kOnce, kRepeatable };

  std::string_view head;
  std::string_view help;
  Occurs occurs = kOnce;

  std::string_view long_name() const;   // "driver"
  std::string_view short_name() const;  // "d", or empty
  bool takes_value() const;
};

// Every verb takes --socket and --help; all but network create take the
// output flags (there, -o is --opt, as in Docker).
inline constexpr FlagSpec kSocketFlag{"--socket PATH",
                                      "Daemon socket (default \"/run/bpfnet/bpfnetd.sock\")"};
inline constexpr FlagSpec kHelpFlag{"-h, --help", "Print this help"};
inline constexpr FlagSpec kOutputFlag{"-o, --output FORMAT",
                                      "Output format: \"table\" (default) or \"json\""};
inline constexpr FlagSpec kFormatFlag{"--format FORMAT", "Same as --output"};
inline constexpr std::array kCommonFlags{kSocketFlag, kHelpFlag};
inline constexpr std::array kOutputFlags{kOutputFlag, kFormatFlag};
// Before the verb: bpfnetctl [--socket PATH] [-o FORMAT] [-h].
inline constexpr std::array kGlobalFlags{kSocketFlag, kOutputFlag, kHelpFlag};

// How many positional arguments a verb takes, given their names.
enum class Arity {
  kExact,     // exactly names.size()
  kVariadic,  // at least names.size(), the last one repeating: NETWORK [NETWORK...]
  kOptional,  // none, or exactly names.size(): [CONTAINER]
};

struct Positionals {
  std::vector<std::string> names{};  // as the usage line and the errors name them
  Arity arity = Arity::kExact;
};

// How `run` sends the requests and reports their failures.
enum class Sends {
  kOneRequest,   // the one request; its result printed
  kInspectEach,  // one request per name; the found ones printed as one array,
                 // "Error: No such <group>: NAME" for the missing ones
  kRemoveEach,   // one request per name; each name printed as it goes, going on after errors
};

class VerbArgs;  // ctl/flags.h: the parsed flags and arguments a builder reads

// What the help says of a verb (or a group).
struct VerbHelp {
  std::string listed;   // its line in the command list of the --help above it
  std::string summary;  // the paragraph under its usage line
  std::string notes{};  // the closing paragraph, or empty
};

// What a verb asks of the daemon, and how the answer is printed.
struct DaemonCall {
  std::string op{};  // the daemon op (userspace/README.md, "Control socket protocol")
  // Adds the requests to send (and any display option) to `cmd`. Throws UsageError.
  void (*build)(const VerbArgs& given, Command& cmd) = nullptr;
  // What stdout shows for the daemon's result. Throws BadResult (ctl/render.h).
  std::string (*render)(const Command& cmd, const Json& result) = nullptr;
  // The exit status for a result the daemon gave (`doctor`: 1 when it found
  // problems); none: 0.
  int (*exit_status)(const Json& result) = nullptr;
};

struct VerbRow {
  std::string name;     // the words that select it, "network create"; prefixes its errors
  std::string alias{};  // another spelling of the last word ("list"), or empty
  VerbHelp help;
  Positionals args{};
  std::vector<FlagSpec> flags{};      // its own flags, in help order
  bool standard_output_flags = true;  // false: `flags` declares --output and --format itself
  DaemonCall call{};                  // none for a group
  Sends sends = Sends::kOneRequest;
  // What stdout shows when no daemon answers (version: the client part).
  std::string (*without_daemon)(const Command& cmd) = nullptr;
  // A streaming op (monitor): runs the whole exchange itself, printing as
  // lines come, and returns the exit status. None: `call` is one request.
  int (*stream)(const Command& cmd, std::ostream& out, std::ostream& err) = nullptr;

  // "network" for "network create"; empty for a verb of its own ("stats").
  // Messages about the objects of the group use it ("No such network: x").
  std::string_view group() const;
  // The last word: "create".
  std::string_view word() const;
  // A group ("network") selects one of its verbs, the rows named "network ...".
  bool is_group() const { return call.build == nullptr; }
};

// Every verb and group.
const std::vector<VerbRow>& verb_table();

// The row selected by `word` (or its alias) after the words of `group` ("" for
// the first word of a command line); nullptr when there is none.
const VerbRow* find_row(std::string_view group, std::string_view word);

// The rows, by file: each group's file starts with the group's row.
std::vector<VerbRow> network_verbs();   // verbs_network.cc
std::vector<VerbRow> port_map_verbs();  // verbs_port_map.cc
std::vector<VerbRow> service_verbs();   // verbs_service.cc
std::vector<VerbRow> uplink_verbs();    // verbs_uplink.cc
std::vector<VerbRow> daemon_verbs();    // verbs_daemon.cc: stats, version
std::vector<VerbRow> monitor_verbs();   // verbs_monitor.cc: monitor
std::vector<VerbRow> flows_verbs();     // verbs_flows.cc

// Builders and rows shared by several groups (verb_table.cc).
void build_request_without_args(const VerbArgs& given, Command& cmd);
void build_request_per_name(const VerbArgs& given, Command& cmd);
// `GROUP inspect NAME [NAME...]` and `GROUP rm NAME [NAME...]` for the group
// whose objects ARG names ("NETWORK"): one request per name.
VerbRow inspect_verb(std::string_view group, std::string_view arg, std::string notes);
VerbRow rm_verb(std::string_view group, std::string_view arg, std::string notes);

}  // namespace bpfnet::ctl
