// bpfnet's own commands on networks and endpoints (see core/engine.h);
// Docker's plugin calls are in docker_engine.cc.
#include "core/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/default_bridge.h"
#include "core/engine_steps.h"
#include "core/error.h"
#include "core/ipam.h"
#include "core/json_fields.h"
#include "core/names.h"
#include "core/network_settings.h"
#include "core/pools.h"

namespace bpfnet::core {
namespace {

// Refuses what only Docker may do on its networks: bpfnet's own commands
// would hand out addresses Docker's IPAM does not know about.
void check_not_docker(const Network& network, std::string_view docker_command) {
  if (network.docker) {
    throw UserError(fmt::format("network {} is managed by Docker: use `docker {}`", network.name,
                                docker_command));
  }
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

NetworkCreate read_network_create(JsonFields& fields) {
  NetworkCreate network;
  network.name = fields.required_string("name");
  network.driver = fields.optional_string("driver").value_or(std::string(kDriverBridge));
  network.subnet = fields.optional_string("subnet");
  network.gateway = fields.optional_string("gateway");
  network.ip_range = fields.optional_string("ip_range");
  network.internal = fields.optional_bool("internal", false);
  network.options = fields.optional_string_map("options");
  return network;
}

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
  for (const IpamPool& pool : state.ipam_pools) taken.push_back(pool.pool);
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
  if (network.builtin || is_default_bridge(network)) {
    throw UserError(fmt::format("{} is a pre-defined network and cannot be removed", network.name));
  }
  check_not_docker(network, "network rm");
  if (!network.docker_network_id.empty()) {
    throw UserError(fmt::format(
        "error while removing network: network {} is Docker network {} on this host: `docker "
        "network rm` it first",
        network.name, network.docker_network_id.substr(0, 12)));
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
  return erase_network(state, network);
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
  if (request.ifname) {
    if (!is_valid_ifname(*request.ifname))
      throw UserError(fmt::format("invalid interface name \"{}\"", *request.ifname));
    for (const Endpoint* other : of_container)
      if (other->ifname == *request.ifname)
        throw UserError(fmt::format("interface {} already exists in container {}", *request.ifname,
                                    request.container));
    endpoint.ifname = *request.ifname;
  } else {
    endpoint.ifname = lowest_free_ifname(of_container);
  }
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
  if (it->docker) {
    // An overlay's Docker container: Docker holds its address and sandbox.
    throw UserError(
        fmt::format("container {} on network {} is Docker's: use `docker network "
                    "disconnect`",
                    container, network.name));
  }
  // The container leaves every service of the network it was a backend of.
  return erase_endpoint(state, it);
}

}  // namespace bpfnet::core
