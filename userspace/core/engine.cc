#include "core/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "bpfnet_abi.h"
#include "core/error.h"
#include "core/ipam.h"
#include "core/names.h"
#include "core/pools.h"

namespace bpfnet::core {
namespace {

constexpr std::string_view kDummyPrefix = "bn-";
constexpr size_t kDummyIdChars = 12;
constexpr std::string_view kVethPrefix = "bnv";
constexpr size_t kVethIdChars = 11;

// Ranges no bridge network may use: the kernel treats them specially, so a
// bridge there would break the host rather than fail cleanly.
struct ReservedRange {
  Cidr block;
  std::string_view what;
};
constexpr ReservedRange kReservedRanges[] = {
    {Cidr{Ipv4::from_octets(0, 0, 0, 0), 8}, "\"this network\""},
    {Cidr{Ipv4::from_octets(127, 0, 0, 0), 8}, "loopback"},
    {Cidr{Ipv4::from_octets(224, 0, 0, 0), 3}, "multicast and reserved"},
};

// Smallest subnet with room for the network and broadcast addresses, the
// gateway and one endpoint.
constexpr uint8_t kLongestPrefix = 30;

Cidr parse_subnet(const std::string& text) {
  auto subnet = Cidr::try_parse(text);
  if (!subnet) throw UserError(fmt::format("invalid subnet {}: invalid CIDR block notation", text));
  Cidr::parse(text);  // throws Docker's "it should be" error for host bits
  if (subnet->prefix_len > kLongestPrefix) {
    throw UserError(fmt::format(
        "invalid subnet {}: too small for a gateway and an endpoint (the longest prefix is /{})",
        text, kLongestPrefix));
  }
  for (const ReservedRange& reserved : kReservedRanges) {
    if (subnet->overlaps(reserved.block)) {
      throw UserError(fmt::format("invalid subnet {}: it overlaps the {} range {}", text,
                                  reserved.what, reserved.block.to_string()));
    }
  }
  return *subnet;
}

Cidr parse_ip_range(const std::string& text, const Cidr& subnet) {
  auto range = Cidr::try_parse(text);
  if (!range) {
    throw UserError(fmt::format("invalid ip-range {}: invalid CIDR block notation", text));
  }
  if (range->prefix_len < subnet.prefix_len) {
    throw UserError(
        fmt::format("invalid ip-range {}: CIDR block is bigger than its parent subnet {}", text,
                    subnet.to_string()));
  }
  if (!range->is_network_address()) {
    throw UserError(fmt::format("invalid ip-range {}: it should be {}", text,
                                Cidr{range->network(), range->prefix_len}.to_string()));
  }
  if (!subnet.contains(*range)) {
    throw UserError(fmt::format("invalid ip-range {}: parent subnet {} doesn't contain ip-range",
                                text, subnet.to_string()));
  }
  return *range;
}

Ipv4 parse_gateway(const std::string& text, const Cidr& subnet) {
  auto gateway = Ipv4::try_parse(text);
  if (!gateway) throw UserError(fmt::format("invalid gateway {}: invalid address", text));
  if (!subnet.contains(*gateway)) {
    throw UserError(fmt::format("invalid gateway {}: parent subnet {} doesn't contain this address",
                                text, subnet.to_string()));
  }
  if (*gateway == subnet.network() || *gateway == subnet.broadcast()) {
    throw UserError(fmt::format("invalid gateway {}: it is the {} address of {}", text,
                                *gateway == subnet.network() ? "network" : "broadcast",
                                subnet.to_string()));
  }
  return *gateway;
}

void check_driver(const std::string& driver) {
  if (driver == kDriverBridge) return;
  if (driver == kDriverHost) {
    throw UserError("only one instance of \"host\" network is allowed");
  }
  // Docker's driver is called "null"; "none" is the network's name, accepted
  // here because users naturally type it.
  if (driver == kDriverNull || driver == kNoneNetworkName) {
    throw UserError("only one instance of \"null\" network is allowed");
  }
  throw UserError(fmt::format("plugin \"{}\" not found", driver));
}

uint32_t lowest_free_index(const State& state) {
  std::vector<bool> used(BPFNET_MAX_NETWORKS + 1, false);
  for (const Network& network : state.networks) {
    if (!network.builtin && network.index < used.size()) used[network.index] = true;
  }
  uint32_t index = 1;
  while (index < used.size() && used[index]) ++index;
  if (index >= BPFNET_MAX_NETWORKS) {
    throw UserError(fmt::format("cannot create network: bpfnet supports at most {} networks",
                                BPFNET_MAX_NETWORKS - 1));
  }
  return index;
}

std::string dummy_ifname_for(const std::string& network_id) {
  return std::string(kDummyPrefix) + network_id.substr(0, kDummyIdChars);
}

std::string host_ifname_for(const std::string& endpoint_id) {
  return std::string(kVethPrefix) + endpoint_id.substr(0, kVethIdChars);
}

// Locally administered unicast MAC from random hex, for the rare case where
// the classic 02:42:<ip> address is already taken by an explicit --mac.
Mac random_mac(const std::string& hex) {
  Mac mac = Mac::parse(fmt::format("{}:{}:{}:{}:{}:{}", hex.substr(0, 2), hex.substr(2, 2),
                                   hex.substr(4, 2), hex.substr(6, 2), hex.substr(8, 2),
                                   hex.substr(10, 2)));
  mac.bytes[0] = static_cast<uint8_t>((mac.bytes[0] & 0xfe) | 0x02);
  return mac;
}

Mac choose_mac(const Network& network, const std::optional<std::string>& text, Ipv4 ip,
               const std::vector<const Endpoint*>& on_network, IdSource& ids) {
  auto owner_of = [&](const Mac& mac) -> const Endpoint* {
    for (const Endpoint* endpoint : on_network) {
      if (endpoint->mac == mac) return endpoint;
    }
    return nullptr;
  };
  if (text) {
    Mac mac = Mac::parse_unicast(*text);
    if (const Endpoint* owner = owner_of(mac)) {
      throw UserError(fmt::format("MAC address {} is already in use on network {} by container {}",
                                  mac.to_string(), network.name, owner->container));
    }
    return mac;
  }
  Mac classic = mac_for_ip(ip);
  if (owner_of(classic) == nullptr) return classic;
  std::string hex =
      fresh_id(ids, [&](const std::string& id) { return owner_of(random_mac(id)) != nullptr; });
  return random_mac(hex);
}

std::string lowest_free_ifname(const std::vector<const Endpoint*>& of_container) {
  for (size_t n = 0;; ++n) {
    std::string name = fmt::format("eth{}", n);
    bool used = std::any_of(of_container.begin(), of_container.end(),
                            [&](const Endpoint* endpoint) { return endpoint->ifname == name; });
    if (!used) return name;
  }
}

}  // namespace

const Network& create_network(State& state, const NetworkCreate& request,
                              const std::vector<Cidr>& host_routes, IdSource& ids,
                              const std::string& now) {
  validate_network_name(request.name);
  if (state.network_by_name(request.name) != nullptr) {
    throw UserError(fmt::format("network with name {} already exists", request.name));
  }
  Network network;
  network.name = request.name;
  network.driver = request.driver.empty() ? std::string(kDriverBridge) : request.driver;
  check_driver(network.driver);
  network.created = now;
  network.internal = request.internal;

  if (!request.subnet && (request.gateway || request.ip_range)) {
    throw UserError("every ip-range or gateway must have a corresponding subnet");
  }
  std::vector<Cidr> taken;
  for (const Network& other : state.networks) {
    if (other.subnet) taken.push_back(*other.subnet);
  }
  if (request.subnet) {
    Cidr subnet = parse_subnet(*request.subnet);
    for (const Network& other : state.networks) {
      if (other.subnet && other.subnet->overlaps(subnet)) {
        throw UserError(fmt::format(
            "Pool overlaps with other one on this address space: {} overlaps network {} ({})",
            subnet.to_string(), other.name, other.subnet->to_string()));
      }
    }
    network.subnet = subnet;
  } else {
    taken.insert(taken.end(), host_routes.begin(), host_routes.end());
    network.subnet = pick_subnet(taken);
  }
  network.gateway = request.gateway ? parse_gateway(*request.gateway, *network.subnet)
                                    : Ipv4{network.subnet->network().value + 1};
  if (request.ip_range) network.ip_range = parse_ip_range(*request.ip_range, *network.subnet);

  network.options = request.options;
  network.parsed = parse_network_options(request.options);
  network.index = lowest_free_index(state);
  network.id = fresh_id(ids, [&](const std::string& id) {
    std::string ifname = dummy_ifname_for(id);
    return std::any_of(state.networks.begin(), state.networks.end(), [&](const Network& other) {
      return other.id == id || other.dummy_ifname == ifname;
    });
  });
  network.dummy_ifname = dummy_ifname_for(network.id);

  state.networks.push_back(std::move(network));
  return state.networks.back();
}

Network remove_network(State& state, const std::string& name_or_id) {
  const Network& network = state.get_network(name_or_id);
  if (network.builtin) {
    throw UserError(fmt::format("{} is a pre-defined network and cannot be removed", network.name));
  }
  if (!state.endpoints_of_network(network.id).empty()) {
    throw UserError(
        fmt::format("error while removing network: network {} id {} has active endpoints",
                    network.name, network.id));
  }
  std::vector<const Service*> services = state.services_of_network(network.id);
  if (!services.empty()) {
    throw UserError(
        fmt::format("error while removing network: network {} id {} is used by service {}{}",
                    network.name, network.id, services.front()->name,
                    services.size() > 1 ? fmt::format(" (and {} more)", services.size() - 1) : ""));
  }
  auto it = state.networks.begin() + (&network - state.networks.data());
  Network removed = std::move(*it);
  state.networks.erase(it);
  return removed;
}

const Endpoint& connect(State& state, const ConnectRequest& request, IdSource& ids,
                        const std::set<Ipv4>& keep_free) {
  const Network& network = state.get_network(request.network);
  if (network.builtin) {
    throw UserError(fmt::format(
        "container cannot be connected to the builtin network {}: only bridge networks take "
        "endpoints",
        network.name));
  }
  validate_container_name(request.container);
  if (request.netns.empty()) {
    throw UserError(fmt::format("a netns is required to connect container {}", request.container));
  }
  std::vector<const Endpoint*> of_container = state.endpoints_of_container(request.container);
  if (!of_container.empty() && of_container.front()->netns != request.netns) {
    throw UserError(fmt::format("container {} is already attached to netns {}, not {}",
                                request.container, of_container.front()->netns, request.netns));
  }
  if (state.endpoint(network.id, request.container) != nullptr) {
    throw UserError(fmt::format("endpoint with name {} already exists in network {}",
                                request.container, network.name));
  }
  if (state.endpoints.size() >= BPFNET_MAX_ENDPOINTS) {
    throw UserError(fmt::format("cannot connect container {}: bpfnet supports at most {} endpoints",
                                request.container, BPFNET_MAX_ENDPOINTS));
  }

  std::vector<const Endpoint*> on_network = state.endpoints_of_network(network.id);
  Endpoint endpoint;
  endpoint.network_id = network.id;
  endpoint.container = request.container;
  endpoint.netns = request.netns;
  endpoint.ip = request.ip ? claim_static_ip(state, network, *request.ip)
                           : claim_dynamic_ip(state, network, keep_free);
  endpoint.mac = choose_mac(network, request.mac, endpoint.ip, on_network, ids);
  if (!of_container.empty()) {
    endpoint.container_id = of_container.front()->container_id;
  } else {
    endpoint.container_id = fresh_id(ids, [&](const std::string& id) {
      return std::any_of(state.endpoints.begin(), state.endpoints.end(),
                         [&](const Endpoint& other) { return other.container_id == id; });
    });
  }
  endpoint.ifname = lowest_free_ifname(of_container);
  endpoint.id = fresh_id(ids, [&](const std::string& id) {
    std::string ifname = host_ifname_for(id);
    return std::any_of(state.endpoints.begin(), state.endpoints.end(), [&](const Endpoint& other) {
      return other.id == id || other.host_ifname == ifname;
    });
  });
  endpoint.host_ifname = host_ifname_for(endpoint.id);

  state.endpoints.push_back(std::move(endpoint));
  return state.endpoints.back();
}

Endpoint remove_endpoint(State& state, const std::string& network_name,
                         const std::string& container) {
  const Network& network = state.get_network(network_name);
  auto it = std::find_if(state.endpoints.begin(), state.endpoints.end(), [&](const Endpoint& e) {
    return e.network_id == network.id && (e.container == container || e.container_id == container);
  });
  if (it == state.endpoints.end()) {
    throw UserError(
        fmt::format("container {} is not connected to network {}", container, network.name));
  }
  // The container leaves every service of the network it was a backend of.
  // Nothing below throws: erasing moves strings and integers only.
  Endpoint removed = std::move(*it);
  state.endpoints.erase(it);
  for (Service& service : state.services) {
    if (service.network_id != network.id) continue;
    std::erase_if(service.backends, [&](const ServiceBackend& backend) {
      return backend.container == removed.container;
    });
  }
  return removed;
}

}  // namespace bpfnet::core
