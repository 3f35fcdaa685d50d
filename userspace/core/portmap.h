// Publishing container ports on the host (`docker run -p`, `docker port`).
// Like the other engine operations these validate everything first and change
// the State only when they succeed (strong guarantee), and touch nothing
// outside it: the host facts they need come in a PortEnvironment.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/ip.h"
#include "core/ports.h"
#include "core/state.h"

namespace bpfnet::core {

// What the host says about its ports. The daemon fills it from
// /proc/sys/net/ipv4/ip_local_port_range, ip_local_reserved_ports and the
// host's listening sockets.
struct PortEnvironment {
  // Where ephemeral host ports come from (the kernel's ip_local_port_range).
  uint16_t ephemeral_low = 32768;
  uint16_t ephemeral_high = 60999;
  // ip_local_reserved_ports: skipped by ephemeral and range picks (an
  // explicit host port may still use them, as in Docker).
  std::set<uint16_t> reserved;
  // Whether a host socket would make binding proto host_ip:port fail: for
  // host_ip 0.0.0.0 a listener on any address, otherwise one on that address
  // or on 0.0.0.0. Empty: nothing listens.
  std::function<bool(Proto, Ipv4 host_ip, uint16_t port)> host_listening;
};

// The endpoints of a container given by name or full container ID, in State
// order. Throws UserError `No such container: C` when it has none.
std::vector<const Endpoint*> container_endpoints(const State& state, const std::string& container);

// The endpoint whose address published ports of `container` forward to: the
// container's endpoint on `network` (name, full ID or unique ID prefix), or
// its first endpoint (in State order) when no network is given. The container
// is a name or a full container ID. Throws UserError `No such container: C`,
// `network N not found`, `container C is not connected to network N`.
const Endpoint& port_endpoint(const State& state, const std::string& container,
                              const std::optional<std::string>& network);

// `docker run -p` for a running container: parses every spec (see
// parse_port_spec), picks the host ports and adds the bindings to the
// endpoint chosen by port_endpoint. A spec without a host IP binds the
// network's com.docker.network.bridge.host_binding_ipv4 (default 0.0.0.0).
//
// Per protocol, a binding on 0.0.0.0:P conflicts with every other binding on
// P and a binding on IP:P with bindings on IP:P and 0.0.0.0:P, across all
// containers and services and within the specs themselves:
// `Bind for 0.0.0.0:8080 failed: port is already allocated`. A host socket
// (env.host_listening) gives
// `failed to bind host port 0.0.0.0:8080/tcp: address already in use`.
// Ephemeral and range specs take the lowest port that is free, not reserved
// and not listened on; explicit host ports are taken first, so a dynamic pick
// never steals a port another spec of the same call names. All specs or none.
// Internal networks refuse published ports (Docker silently drops them).
// Returns the new bindings in the order of the specs.
std::vector<PortBinding> add_ports(State& state, const std::string& container,
                                   const std::vector<std::string>& specs,
                                   const std::optional<std::string>& network,
                                   const PortEnvironment& env);

// As add_ports, but idempotent, for the config file: a request already
// satisfied by a binding of the endpoint (same proto, container port and host
// IP; same host port, a host port in the range, or any host port for an
// ephemeral request) is kept rather than added again. Returns only what was
// added.
std::vector<PortBinding> ensure_ports(State& state, const std::string& container,
                                      const std::vector<PortRequest>& requests,
                                      const std::optional<std::string>& network,
                                      const PortEnvironment& env);

// Docker's ProgramExternalConnectivity (and, with no requests, Revoke): the
// bindings of the endpoint with this ID become exactly `requests`, with host
// ports chosen as add_ports chooses them (same conflict rules and wording),
// ignoring the endpoint's current bindings. Returns the new bindings, sorted.
std::vector<PortBinding> set_endpoint_ports(State& state, const std::string& endpoint_id,
                                            const std::vector<PortRequest>& requests,
                                            const PortEnvironment& env);

// `port rm`: removes every binding of the container matching `spec`
// (`[HOSTIP:]HOSTPORT[/PROTO]`, tcp by default, any host IP if none is given)
// and returns them in State order. Services' bindings are not touched. Throws UserError
// `no public port '8080/tcp' published for web` when none matches.
std::vector<PortBinding> remove_ports(State& state, const std::string& container,
                                      const std::string& spec);

// The allocation behind add_ports and ensure_ports, shared with service
// publishing (core/service.h). Chooses host ports for `requests` (a request
// without a host IP binds `default_host_ip`) under the conflict rules of
// add_ports, against every binding of the State: endpoints' and services'.
// With `reuse`, a request already satisfied by one of `existing` (see
// ensure_ports) is skipped. Explicit host ports first, then dynamic ones in
// request order. Enforces the limit on published ports. Returns the new
// bindings in request order; changes nothing.
std::vector<PortBinding> plan_port_bindings(const State& state,
                                            const std::vector<PortRequest>& requests,
                                            const std::vector<PortBinding>& existing, bool reuse,
                                            Ipv4 default_host_ip, const PortEnvironment& env);

// The endpoint holding exactly this binding, or nullptr (also for a
// service's binding). Bindings never conflict, so there is at most one.
// (For the JSON of removed bindings, look them up in the State from before
// the removal.)
const Endpoint* binding_owner(const State& state, const PortBinding& binding);

}  // namespace bpfnet::core
