// bpfnetctl's command line: argv -> the requests to send, without any I/O.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/json.h"

namespace bpfnet::ctl {

inline constexpr std::string_view kDefaultSocket = "/run/bpfnet/bpfnetd.sock";

// A mistake on the command line. what() names the bad argument; the CLI prints
// it as "bpfnetctl: <what()>".
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct VerbRow;  // ctl/verb_table.h

enum class Output { kTable, kJson };

// One request on the control socket.
struct Request {
  std::string op;
  Json args = Json::object();
  // The name the user typed, for verbs that take several (inspect, rm).
  std::string target;

  // {"op": op, "args": args}
  Json to_json() const;
};

struct Command {
  const VerbRow* row = nullptr;  // the verb; nullptr: print help_text, contact no daemon
  std::string socket_path{kDefaultSocket};
  Output output = Output::kTable;
  std::vector<Request> requests;  // sent in order, one connection each
  std::string help_text;          // set when row is nullptr
  bool quiet = false;             // network ls -q
  bool no_trunc = false;          // network ls --no-trunc
  std::string pcap_file;          // monitor --pcap
  bool watch = false;             // flows --watch: send and print every second

  // The verb's words ("network create"), or "help".
  std::string_view verb() const;
};

// Parses the arguments after argv[0]. Throws UsageError.
//
//   [--socket PATH] [-o|--output table|json] VERB ...
//
// The output flag may also follow the verb. Exception: after `network create`,
// -o means --opt (as in Docker) and the output flag is --format/--output.
Command parse_command(const std::vector<std::string>& args);

// The help texts of bpfnetctl and of its groups of verbs (also what `--help`
// prints); ctl/help.cc.
std::string global_help();
std::string group_help(std::string_view group);
std::string network_help();
std::string port_map_help();
std::string service_help();

}  // namespace bpfnet::ctl
