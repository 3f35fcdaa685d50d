// The validation of a loaded State (validate_state in core/state.h), part by
// part. Each part throws UserError `state: PATH: MESSAGE` naming the first
// bad field, e.g. `state: endpoints[2].ip: 10.0.0.9 is used twice in network
// "front"`. validate_state runs them in this order, each relying on the ones
// before it:
//
// networks (state_validate.cc): unique IDs (64 lowercase hex), names
//   (Docker's restricted pattern), indexes and dummy interface names; the
//   builtin "host" and "none" present, without subnet, gateway, addresses,
//   index or interface; every other network a bridge with a subnet, its
//   gateway and auxiliary addresses host addresses of the subnet, its
//   ip_range inside it, its index a key of the networks map, its parsed
//   options those of its -o map; no two subnets overlapping.
// endpoints (state_validate_endpoints.cc): at most as many as the endpoint
//   map holds; unique IDs and host interface names (also against the
//   networks' dummy interfaces); each on an existing bridge network, Docker's
//   only on Docker's networks; valid container names, one container ID,
//   netns and interface name set per container, no container twice on a
//   network; addresses usable on the network (not network, broadcast,
//   gateway or auxiliary) and unique on it; unicast MACs unique on it.
// services (state_validate_services.cc): at most as many as service indexes;
//   unique IDs, names, indexes and VIPs; each on an existing bridge network
//   with a VIP usable there that no endpoint has; ports sorted and unique;
//   published ports to service ports only; a valid affinity, table size and
//   health check; backends connected to the network, once each, within the
//   table's limit, with IDs unique across all services and weights in range.
// published ports (state_validate_endpoints.cc): of endpoints and services,
//   ports in 1..65535, sorted and unique per owner, none on an internal
//   network, no two in conflict anywhere (Docker's rule, see add_ports), at
//   most as many as the port map holds.
// uplinks (state_validate.cc): at most as many as the uplink map holds;
//   valid and unique interface names.
// IPAM pools (state_validate_ipam.cc): unique IDs of the form
//   SPACE/POOL[/SUB-POOL] in a known address space; pools and sub-pools
//   subnets (network addresses), each sub-pool inside its pool; addresses
//   host addresses of their pool; no two pools overlapping, and no pool
//   overlapping a network other than one of exactly its subnet.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/state.h"

namespace bpfnet::core {

// What every error of the state file starts with.
inline constexpr std::string_view kStateRoot = "state";

// One item of the state (a network, an endpoint, a service...) at `path`,
// e.g. "networks[1]", and its errors: `state: PATH.FIELD: MESSAGE`.
class StateItem {
 public:
  explicit StateItem(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  // An empty field blames the item itself.
  [[noreturn]] void fail(std::string_view field, std::string_view message) const;
  // Fails `"ID" is not 64 lowercase hex digits` unless `id` is one.
  void check_hex_id(std::string_view field, std::string_view id) const;
  // check_hex_id("id", id), then fails `duplicate ID ID` if `ids` has it.
  void check_new_id(std::set<std::string_view>& ids, std::string_view id) const;

 private:
  std::string path_;
};

// The bridge network an endpoint's or a service's `network_id` names. Fails
// at the item's "network_id": `no network has the ID ID`, or `the builtin
// network "N" has no THINGS`.
const Network& bridge_network_of(const State& state, const StateItem& item,
                                 std::string_view network_id, std::string_view things);

// `N is outside FIRST..LAST`.
std::string outside_message(uint64_t value, uint64_t first, uint64_t last);

// The parts, in the order validate_state runs them (see above).
void validate_networks(const State& state);
void validate_endpoints(const State& state);
void validate_services(const State& state);
void validate_published_ports(const State& state);
void validate_uplinks(const State& state);
void validate_ipam_pools(const State& state);

}  // namespace bpfnet::core
