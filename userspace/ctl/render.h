// Docker-style printing of daemon results. Pure functions: no I/O.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "ctl/command.h"
#include "ctl/json.h"

namespace bpfnet::ctl {

// A result that does not have the shape the protocol promises.
struct BadResult : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The version of this client (the project version).
std::string_view client_version();

// Go's sortorder.NaturalLess, which `docker network ls` sorts names with:
// digit runs compare numerically ("net2" < "net10").
bool natural_less(std::string_view a, std::string_view b);

// Docker's stringid.TruncateID: drops an "algo:" prefix, keeps 12 characters.
std::string truncate_id(std::string_view id);

// JSON indented by 4 spaces plus a final newline (docker inspect's layout).
std::string pretty_json(const Json& value);

// Renders what a successful command prints on stdout. `result` is the daemon's
// result, except for:
//   kNetworkInspect, kServiceInspect: the array of the inspect objects found;
//   kNetworkRm, kServiceRm: an array of {"name": <as typed>, "id": ...} for the removed ones;
//   kVersion:        the ping result ({"version": ...}).
// port-map add and ls print bindings as `docker port` does, one line each,
// "80/tcp -> 0.0.0.0:8080" (IPv6 hosts in brackets), naturally sorted; ls
// without a container prints a block per container: its name, then its
// bindings indented by two spaces, blocks separated by an empty line.
// service ls prints NAME NETWORK VIP PORTS PUBLISHED BACKENDS, PUBLISHED as
// docker ps prints ports ("0.0.0.0:8080->80/tcp, [::]:8080->80/tcp") and
// BACKENDS as "3 (2 healthy)".
// Throws BadResult when the result does not have the expected shape.
std::string render(const Command& cmd, const Json& result);

// The "Client:" part of `version` (printed even when the daemon is down).
std::string render_client_version();

}  // namespace bpfnet::ctl
