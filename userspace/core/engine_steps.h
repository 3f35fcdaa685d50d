// The steps the engine's operations share: bpfnet's own commands
// (engine.cc) and Docker's plugin calls (docker_engine.cc) add networks and
// add and remove endpoints the same way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/id_source.h"
#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// Interface names derived from IDs, unique while the IDs' prefixes are:
// "bn-" + id[:12] holds a network's gateway, "bnv" + id[:11] is the host
// side of an endpoint's veth, "bnc" + id[:11] the container side of a Docker
// endpoint's veth until Docker renames it.
std::string dummy_ifname_for(const std::string& network_id);
std::string host_ifname_for(const std::string& endpoint_id);
std::string docker_peer_ifname_for(const std::string& endpoint_id);
// A Docker endpoint's container name: its ID shortened as Docker shortens IDs.
std::string docker_container_name(const std::string& endpoint_id);

// Completes a network whose ID, name, addresses and options are set (parsed
// options, the lowest free index, its dummy interface) and adds it. Throws
// UserError `cannot create network: bpfnet supports at most N networks`.
const Network& add_network(State& state, Network network);

// Erases a network of the State and returns it. Nothing here throws.
Network erase_network(State& state, const Network& network);

// Throws UserError `cannot connect container C: bpfnet supports at most N
// endpoints` when the State holds as many as the endpoint map does.
void check_endpoint_room(const State& state, const std::string& container);

// Erases one endpoint and its service backends (see remove_endpoint).
// Nothing here throws: erasing moves strings and integers only.
Endpoint erase_endpoint(State& state, std::vector<Endpoint>::iterator it);

// The endpoint's MAC: `text` (--mac) if no endpoint of `on_network` has it,
// else Docker's 02:42:<ip>, else (taken by an explicit --mac) a random
// locally administered one. Throws UserError `MAC address M is already in use
// on network N by container C`.
Mac choose_mac(const Network& network, const std::optional<std::string>& text, Ipv4 ip,
               const std::vector<const Endpoint*>& on_network, IdSource& ids);

}  // namespace bpfnet::core
