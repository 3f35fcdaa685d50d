// validate_state and its parts for networks and uplinks (see
// core/state_validate.h for what each part checks).
#include "core/state_validate.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "core/json_fields.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/uplinks.h"

namespace bpfnet::core {

void StateItem::fail(std::string_view field, std::string_view message) const {
  fail_at(kStateRoot, field.empty() ? path_ : join_path(path_, field), message);
}

void StateItem::check_hex_id(std::string_view field, std::string_view id) const {
  if (!is_hex_id(id)) fail(field, fmt::format("\"{}\" is not 64 lowercase hex digits", id));
}

void StateItem::check_new_id(std::set<std::string_view>& ids, std::string_view id) const {
  check_hex_id("id", id);
  if (!ids.insert(id).second) fail("id", fmt::format("duplicate ID {}", id));
}

const Network& bridge_network_of(const State& state, const StateItem& item,
                                 std::string_view network_id, std::string_view things) {
  const Network* network = state.network_by_id(network_id);
  if (network == nullptr) {
    item.fail("network_id", fmt::format("no network has the ID {}", network_id));
  }
  if (network->builtin) {
    item.fail("network_id",
              fmt::format("the builtin network \"{}\" has no {}", network->name, things));
  }
  return *network;
}

std::string outside_message(uint64_t value, uint64_t first, uint64_t last) {
  return fmt::format("{} is outside {}..{}", value, first, last);
}

namespace {

void validate_network(const Network& network, const StateItem& item) {
  item.check_hex_id("id", network.id);
  if (!is_restricted_name(network.name)) {
    item.fail("name", fmt::format("invalid network name \"{}\"", network.name));
  }
  if (network.created.empty()) item.fail("created", "must not be empty");
  NetworkOptions parsed = at_path(kStateRoot, join_path(item.path(), "options"),
                                  [&] { return parse_network_options(network.options); });
  if (parsed != network.parsed) item.fail("options", "the parsed options do not match the -o map");
  if (network.builtin) {
    bool known = (network.name == kHostNetworkName && network.driver == kDriverHost) ||
                 (network.name == kNoneNetworkName && network.driver == kDriverNull);
    if (!known) {
      item.fail("builtin", fmt::format("network \"{}\" with driver \"{}\" is not a builtin network",
                                       network.name, network.driver));
    }
    if (network.subnet) item.fail("subnet", "a builtin network has no subnet");
    if (network.docker) item.fail("docker", "a builtin network is not Docker's");
    if (!network.aux_addresses.empty())
      item.fail("aux_addresses", "a builtin network has no subnet");
    if (network.gateway != Ipv4{}) item.fail("gateway", "a builtin network has no gateway");
    if (network.ip_range) item.fail("ip_range", "a builtin network has no ip_range");
    if (network.index != 0) item.fail("index", "a builtin network has index 0");
    if (!network.dummy_ifname.empty())
      item.fail("dummy_ifname", "a builtin network has no interface");
    return;
  }
  if (network.driver != kDriverBridge && !network.overlay()) {
    item.fail("driver", fmt::format("unsupported driver \"{}\"", network.driver));
  }
  if (network.overlay() != (network.vni != 0)) {
    item.fail("vni", network.overlay() ? "missing (every overlay network has one)"
                                       : "only overlay networks have one");
  }
  if (network.vni > kMaxVni) item.fail("vni", outside_message(network.vni, 1, kMaxVni));
  if (network.overlay() && network.docker)
    item.fail("docker", "an overlay network is not Docker's");
  if (!network.docker_network_id.empty()) {
    if (!network.overlay())
      item.fail("docker_network_id", "only an overlay network is a Docker network's face");
    item.check_hex_id("docker_network_id", network.docker_network_id);
  }
  if (!network.subnet) item.fail("subnet", "missing (every bridge network has a subnet)");
  const Cidr& subnet = *network.subnet;
  if (!subnet.contains(network.gateway) || network.gateway == subnet.network() ||
      network.gateway == subnet.broadcast()) {
    item.fail("gateway", fmt::format("{} is not a host address of {}", network.gateway.to_string(),
                                     subnet.to_string()));
  }
  if (network.ip_range && !subnet.contains(*network.ip_range)) {
    item.fail("ip_range", fmt::format("{} is not inside the subnet {}",
                                      network.ip_range->to_string(), subnet.to_string()));
  }
  for (const auto& [name, address] : network.aux_addresses) {
    if (!subnet.contains(address) || address == subnet.network() || address == subnet.broadcast() ||
        address == network.gateway) {
      item.fail(join_path("aux_addresses", name),
                fmt::format("{} is not a host address of {} other than the gateway",
                            address.to_string(), subnet.to_string()));
    }
  }
  if (!kNetworkIndexes.contains(network.index)) {
    item.fail("index", outside_message(network.index, 1, kNetworkIndexes.last()));
  }
  if (!is_valid_ifname(network.dummy_ifname)) {
    item.fail("dummy_ifname", fmt::format("invalid interface name \"{}\"", network.dummy_ifname));
  }
}

// Sorted by address, a block overlaps an earlier one exactly when it starts
// before the furthest end seen so far: O(n log n) rather than all pairs.
void check_subnets_disjoint(const State& state) {
  std::vector<size_t> order;
  for (size_t i = 0; i < state.networks.size(); ++i) {
    if (state.networks[i].subnet) order.push_back(i);
  }
  auto subnet_of = [&](size_t i) { return *state.networks[i].subnet; };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(subnet_of(a).network(), subnet_of(a).prefix_len) <
           std::pair(subnet_of(b).network(), subnet_of(b).prefix_len);
  });
  std::optional<size_t> furthest;
  for (size_t i : order) {
    if (furthest && subnet_of(i).network() <= subnet_of(*furthest).broadcast()) {
      // Blame the later entry of the file, which is the likelier edit.
      size_t bad = std::max(i, *furthest), other = std::min(i, *furthest);
      fail_at(kStateRoot, join_path(item_path("networks", bad), "subnet"),
              fmt::format("{} overlaps the subnet {} of network \"{}\"", subnet_of(bad).to_string(),
                          subnet_of(other).to_string(), state.networks[other].name));
    }
    if (!furthest || subnet_of(i).broadcast() > subnet_of(*furthest).broadcast()) furthest = i;
  }
}

}  // namespace

void validate_networks(const State& state) {
  std::set<std::string_view> ids, names, ifnames, docker_ids;
  std::set<uint32_t> indexes;
  for (size_t i = 0; i < state.networks.size(); ++i) {
    const Network& network = state.networks[i];
    StateItem item(item_path("networks", i));
    validate_network(network, item);
    if (!ids.insert(network.id).second) item.fail("id", fmt::format("duplicate ID {}", network.id));
    if (!network.docker_network_id.empty() && !docker_ids.insert(network.docker_network_id).second)
      item.fail("docker_network_id", fmt::format("Docker network {} faces another overlay too",
                                                 network.docker_network_id));
    if (!names.insert(network.name).second) {
      item.fail("name", fmt::format("duplicate network name \"{}\"", network.name));
    }
    if (network.builtin) continue;
    if (!indexes.insert(network.index).second) {
      item.fail("index", fmt::format("duplicate index {}", network.index));
    }
    if (!ifnames.insert(network.dummy_ifname).second) {
      item.fail("dummy_ifname",
                fmt::format("duplicate interface name \"{}\"", network.dummy_ifname));
    }
  }
  for (size_t i = 0; i < state.networks.size(); ++i) {
    const std::string& face = state.networks[i].docker_network_id;
    if (!face.empty() && ids.contains(face)) {
      StateItem(item_path("networks", i))
          .fail("docker_network_id", fmt::format("is the ID of a network ({})", face));
    }
  }
  check_subnets_disjoint(state);
  for (std::string_view builtin : {kHostNetworkName, kNoneNetworkName}) {
    const Network* network = state.network_by_name(builtin);
    if (network == nullptr || !network->builtin) {
      fail_at(kStateRoot, "networks",
              fmt::format("the builtin network \"{}\" is missing", builtin));
    }
  }
}

void validate_uplinks(const State& state) {
  check_capacity(kUplinkCapacity, state.uplinks.size(), kStateRoot, "uplinks");
  std::set<std::string> seen;
  for (size_t i = 0; i < state.uplinks.size(); ++i) {
    StateItem item(item_path("uplinks", i));
    UplinkSpec spec;
    try {
      spec = parse_uplink_spec(state.uplinks[i]);
    } catch (const UserError& e) {
      item.fail("", e.what());
    }
    if (!seen.insert(spec.name).second) {
      item.fail("", fmt::format("duplicate interface name \"{}\"", spec.name));
    }
  }
}

void validate_state(const State& state) {
  if (state.version != kStateVersion) {
    fail_at(kStateRoot, "version", fmt::format("unsupported version {}", state.version));
  }
  validate_networks(state);
  validate_endpoints(state);
  validate_services(state);
  validate_published_ports(state);
  validate_uplinks(state);
  validate_ipam_pools(state);
}

}  // namespace bpfnet::core
