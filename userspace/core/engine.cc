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
// The container side of a Docker endpoint's veth, until Docker renames it.
constexpr std::string_view kDockerPeerPrefix = "bnc";
// Docker endpoints are named after their ID, as Docker shortens IDs.
constexpr size_t kShortIdChars = 12;

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

// Pools of other networks a subnet may not overlap (Docker's one address space).
void check_subnet_free(const State& state, const Cidr& subnet) {
  for (const Network& other : state.networks) {
    if (other.subnet && other.subnet->overlaps(subnet)) {
      throw UserError(fmt::format(
          "Pool overlaps with other one on this address space: {} overlaps network {} ({})",
          subnet.to_string(), other.name, other.subnet->to_string()));
    }
  }
}

// Completes a network whose ID, name, addresses and options are set, and adds it.
const Network& add_network(State& state, Network network) {
  network.parsed = parse_network_options(network.options);
  network.index = lowest_free_index(state);
  network.dummy_ifname = dummy_ifname_for(network.id);
  state.networks.push_back(std::move(network));
  return state.networks.back();
}

void check_endpoint_room(const State& state, const std::string& container) {
  if (state.endpoints.size() >= BPFNET_MAX_ENDPOINTS) {
    throw UserError(fmt::format("cannot connect container {}: bpfnet supports at most {} endpoints",
                                container, BPFNET_MAX_ENDPOINTS));
  }
}

// Refuses what only Docker may do on its networks: bpfnet's own commands
// would hand out addresses Docker's IPAM does not know about.
void check_not_docker(const Network& network, std::string_view docker_command) {
  if (network.docker) {
    throw UserError(fmt::format("network {} is managed by Docker: use `docker {}`", network.name,
                                docker_command));
  }
}

// Erases one endpoint and its service backends (see remove_endpoint).
// Nothing here throws: erasing moves strings and integers only.
Endpoint erase_endpoint(State& state, std::vector<Endpoint>::iterator it) {
  Endpoint removed = std::move(*it);
  state.endpoints.erase(it);
  for (Service& service : state.services) {
    if (service.network_id != removed.network_id) continue;
    std::erase_if(service.backends, [&](const ServiceBackend& backend) {
      return backend.container == removed.container;
    });
  }
  return removed;
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
    check_subnet_free(state, subnet);
    network.subnet = subnet;
  } else {
    taken.insert(taken.end(), host_routes.begin(), host_routes.end());
    network.subnet = pick_subnet(taken);
  }
  network.gateway = request.gateway ? parse_gateway(*request.gateway, *network.subnet)
                                    : Ipv4{network.subnet->network().value + 1};
  if (request.ip_range) network.ip_range = parse_ip_range(*request.ip_range, *network.subnet);

  network.options = request.options;
  network.id = fresh_id(ids, [&](const std::string& id) {
    std::string ifname = dummy_ifname_for(id);
    return std::any_of(state.networks.begin(), state.networks.end(), [&](const Network& other) {
      return other.id == id || other.dummy_ifname == ifname;
    });
  });
  return add_network(state, std::move(network));
}

Network remove_network(State& state, const std::string& name_or_id) {
  const Network& network = state.get_network(name_or_id);
  if (network.builtin) {
    throw UserError(fmt::format("{} is a pre-defined network and cannot be removed", network.name));
  }
  check_not_docker(network, "network rm");
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
  check_not_docker(network, "network connect");
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
  check_endpoint_room(state, request.container);

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
  check_not_docker(network, "network disconnect");
  // The container leaves every service of the network it was a backend of.
  return erase_endpoint(state, it);
}

}  // namespace bpfnet::core

namespace bpfnet::core {
namespace {

Ipv4 parse_aux_address(const std::string& name, const std::string& text, const Network& network) {
  auto address = Ipv4::try_parse(text);
  if (!address) {
    throw UserError(fmt::format("invalid auxiliary address {}={}: invalid address", name, text));
  }
  const Cidr& subnet = *network.subnet;
  if (!subnet.contains(*address) || *address == subnet.network() ||
      *address == subnet.broadcast()) {
    throw UserError(fmt::format("invalid auxiliary address {}={}: not a host address of {}", name,
                                text, subnet.to_string()));
  }
  if (*address == network.gateway) {
    throw UserError(fmt::format("invalid auxiliary address {}={}: it is the gateway of the network",
                                name, text));
  }
  return *address;
}

std::vector<Endpoint>::iterator docker_endpoint_at(State& state, const std::string& network_id,
                                                   const std::string& endpoint_id) {
  return std::find_if(state.endpoints.begin(), state.endpoints.end(), [&](const Endpoint& e) {
    return e.id == endpoint_id && e.network_id == network_id && e.docker;
  });
}

}  // namespace

const Network& get_docker_network(const State& state, const std::string& network_id) {
  const Network* network = state.network_by_id(network_id);
  if (network == nullptr || !network->docker) {
    throw UserError(fmt::format("network {} not found", network_id));
  }
  return *network;
}

const Endpoint& get_docker_endpoint(const State& state, const std::string& network_id,
                                    const std::string& endpoint_id) {
  get_docker_network(state, network_id);
  const Endpoint* endpoint = state.endpoint_by_id(endpoint_id);
  if (endpoint == nullptr || endpoint->network_id != network_id || !endpoint->docker) {
    throw UserError(fmt::format("endpoint {} not found on network {}", endpoint_id, network_id));
  }
  return *endpoint;
}

const Network& create_docker_network(State& state, const DockerNetworkCreate& request,
                                     const std::string& now) {
  if (!is_hex_id(request.id)) {
    throw UserError(
        fmt::format("invalid network ID \"{}\": expected 64 lowercase hex digits", request.id));
  }
  Network network;
  network.id = request.id;
  network.name = request.name;
  network.driver = std::string(kDriverBridge);
  network.created = now;
  network.internal = request.internal;
  network.docker = true;
  network.options = request.options;
  network.subnet = parse_subnet(request.subnet);
  network.gateway = request.gateway ? parse_gateway(*request.gateway, *network.subnet)
                                    : Ipv4{network.subnet->network().value + 1};
  for (const auto& [name, text] : request.aux_addresses) {
    network.aux_addresses[name] = parse_aux_address(name, text, network);
  }
  parse_network_options(network.options);  // its errors before the state's

  if (const Network* existing = state.network_by_id(request.id)) {
    // Docker repeats a CreateNetwork whose answer it did not get.
    bool same =
        existing->docker && existing->name == network.name && existing->subnet == network.subnet &&
        existing->gateway == network.gateway && existing->internal == network.internal &&
        existing->aux_addresses == network.aux_addresses && existing->options == network.options;
    if (same) return *existing;
    throw UserError(fmt::format("network with ID {} already exists", request.id));
  }
  validate_network_name(network.name);
  if (state.network_by_name(network.name) != nullptr) {
    throw UserError(fmt::format("network with name {} already exists", network.name));
  }
  std::string ifname = dummy_ifname_for(network.id);
  for (const Network& other : state.networks) {
    if (other.dummy_ifname == ifname) {
      throw UserError(
          fmt::format("network ID {} starts like the ID of network {}: interface {} "
                      "is taken",
                      network.id, other.name, ifname));
    }
  }
  check_subnet_free(state, *network.subnet);
  return add_network(state, std::move(network));
}

std::optional<Network> remove_docker_network(State& state, const std::string& network_id) {
  const Network* network = state.network_by_id(network_id);
  if (network == nullptr) return std::nullopt;
  if (!network->docker) throw UserError(fmt::format("network {} is not Docker's", network->name));
  std::vector<const Service*> services = state.services_of_network(network_id);
  if (!services.empty()) {
    throw UserError(
        fmt::format("error while removing network: network {} id {} is used by service {}",
                    network->name, network->id, services.front()->name));
  }
  // Docker deletes a network's endpoints before the network: any left are
  // stale (their DeleteEndpoint came while bpfnetd was down).
  std::erase_if(state.endpoints, [&](const Endpoint& e) { return e.network_id == network_id; });
  auto it = state.networks.begin() + (network - state.networks.data());
  Network removed = std::move(*it);
  state.networks.erase(it);
  return removed;
}

const Endpoint& create_docker_endpoint(State& state, const DockerEndpointCreate& request,
                                       IdSource& ids) {
  const Network& network = get_docker_network(state, request.network_id);
  if (!is_hex_id(request.endpoint_id)) {
    throw UserError(fmt::format("invalid endpoint ID \"{}\": expected 64 lowercase hex digits",
                                request.endpoint_id));
  }
  if (state.endpoint_by_id(request.endpoint_id) != nullptr) {
    throw UserError(fmt::format("endpoint with ID {} already exists", request.endpoint_id));
  }
  // Docker's IPAM is the authority on its networks: an address it hands out
  // again was released, so a Docker endpoint still holding it here is stale
  // (its DeleteEndpoint was lost while bpfnetd was down).
  State work = state;
  if (request.address) {
    Ipv4 wanted = Ipv4::parse(*request.address);
    std::erase_if(work.endpoints, [&](const Endpoint& e) {
      return e.network_id == network.id && e.docker && e.ip == wanted;
    });
  }
  const Network& net = *work.network_by_id(network.id);
  std::string container = request.endpoint_id.substr(0, kShortIdChars);
  check_endpoint_room(work, container);
  std::string host_ifname = host_ifname_for(request.endpoint_id);
  for (const Endpoint& other : work.endpoints) {
    if (other.host_ifname == host_ifname || other.container == container) {
      throw UserError(fmt::format("endpoint ID {} starts like the ID of endpoint {}",
                                  request.endpoint_id, other.id));
    }
  }

  Endpoint endpoint;
  endpoint.id = request.endpoint_id;
  endpoint.network_id = net.id;
  endpoint.container = container;
  endpoint.container_id = request.endpoint_id;
  endpoint.ifname = std::string(kDockerPeerPrefix) + request.endpoint_id.substr(0, kVethIdChars);
  endpoint.host_ifname = host_ifname;
  endpoint.docker = true;
  endpoint.ip =
      request.address ? claim_static_ip(work, net, *request.address) : claim_dynamic_ip(work, net);
  endpoint.mac = choose_mac(net, request.mac, endpoint.ip, work.endpoints_of_network(net.id), ids);
  work.endpoints.push_back(std::move(endpoint));
  state = std::move(work);
  return state.endpoints.back();
}

const Endpoint& join_docker_endpoint(State& state, const std::string& network_id,
                                     const std::string& endpoint_id, const std::string& sandbox) {
  const Endpoint& endpoint = get_docker_endpoint(state, network_id, endpoint_id);
  if (sandbox.empty()) throw UserError("join: the sandbox key is empty");
  if (!endpoint.sandbox.empty() && endpoint.sandbox != sandbox) {
    throw UserError(
        fmt::format("endpoint {} has already joined sandbox {}", endpoint_id, endpoint.sandbox));
  }
  Endpoint& joined = state.endpoints[static_cast<size_t>(&endpoint - state.endpoints.data())];
  joined.sandbox = sandbox;
  return joined;
}

void leave_docker_endpoint(State& state, const std::string& network_id,
                           const std::string& endpoint_id) {
  auto it = docker_endpoint_at(state, network_id, endpoint_id);
  if (it != state.endpoints.end()) it->sandbox.clear();
}

std::optional<Endpoint> remove_docker_endpoint(State& state, const std::string& network_id,
                                               const std::string& endpoint_id) {
  auto it = docker_endpoint_at(state, network_id, endpoint_id);
  if (it == state.endpoints.end()) return std::nullopt;
  return erase_endpoint(state, it);
}

}  // namespace bpfnet::core
