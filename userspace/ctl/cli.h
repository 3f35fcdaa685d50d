// The whole CLI behind main(): parse, talk to the daemon, print, exit status.
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "ctl/client.h"
#include "ctl/command.h"

namespace bpfnet::ctl {

// Makes the transport for a socket path (tests substitute a fake).
using TransportFactory = std::function<Transport(const std::string& socket_path)>;

// A Client on the socket with the given timeout.
TransportFactory socket_transport(std::chrono::milliseconds timeout = Client::kDefaultTimeout);

// True when a daemon error means "no such network/service" (the daemon's
// message contains "not found", "No such network" or "No such service").
bool is_not_found(std::string_view daemon_error);

// Runs a parsed command: results go to `out`; each failure is one line on `err`:
//   daemon errors   "Error response from daemon: <error>"
//   inspect misses  "Error: No such network: <name>" ("service" for service inspect)
//   no daemon       "Cannot connect to the bpfnet daemon at unix://PATH. Is bpfnetd running?"
// `network rm`, `network inspect`, `service rm` and `service inspect` go on
// after a daemon error and print one line per failed name. Returns the exit status (0 or 1).
int run(const Command& cmd, const Transport& transport, std::ostream& out, std::ostream& err);

// parse_command + run. Usage errors print "bpfnetctl: <what>" and return 1;
// help prints on `out` and returns 0.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const TransportFactory& factory = socket_transport());

}  // namespace bpfnet::ctl
