// Docker's networks and endpoints, as the network-driver plugin asks for
// them (declared in core/engine.h; see daemon/docker_driver.h).
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/docker_ipam.h"
#include "core/docker_overlay.h"
#include "core/engine.h"
#include "core/engine_steps.h"
#include "core/error.h"
#include "core/ipam.h"
#include "core/names.h"
#include "core/network_settings.h"

namespace bpfnet::core {
namespace {

// `network_id` is Docker's: a Docker network's own, or an overlay's face.
std::vector<Endpoint>::iterator docker_endpoint_at(State& state, const std::string& network_id,
                                                   const std::string& endpoint_id) {
  const Network* network = state.docker_network(network_id);
  if (network == nullptr) return state.endpoints.end();
  const std::string id = network->id;
  return std::find_if(state.endpoints.begin(), state.endpoints.end(), [&](const Endpoint& e) {
    return e.id == endpoint_id && e.network_id == id && e.docker;
  });
}

}  // namespace

const Network& get_docker_network(const State& state, const std::string& network_id) {
  const Network* network = state.docker_network(network_id);
  if (network == nullptr) throw UserError(fmt::format("network {} not found", network_id));
  return *network;
}

const Endpoint& get_docker_endpoint(const State& state, const std::string& network_id,
                                    const std::string& endpoint_id) {
  const Network& network = get_docker_network(state, network_id);
  const Endpoint* endpoint = state.endpoint_by_id(endpoint_id);
  if (endpoint == nullptr || endpoint->network_id != network.id || !endpoint->docker) {
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
  if (const Network* overlay = docker_overlay_for(state, request)) {
    return add_docker_face(state, *overlay, request.id);
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
  check_subnet_free(state, *network.subnet, /*on_pool=*/true);
  if (const IpamPool* pool = state.ipam_pool_of(network)) {
    // --ipam-driver bpfnet: the pool gave these; anything else (Docker's
    // own IPAM on a bpfnet pool's subnet) would hand them out twice.
    check_handed_out(*pool, network.gateway, "gateway");
    for (const auto& [name, address] : network.aux_addresses) {
      check_handed_out(*pool, address, fmt::format("auxiliary address {}", name));
    }
  }
  return add_network(state, std::move(network));
}

std::optional<Network> remove_docker_network(State& state, const std::string& network_id) {
  const Network* network = state.network_by_id(network_id);
  if (network == nullptr) {
    network = state.docker_network(network_id);
    if (network == nullptr) return std::nullopt;
    Network overlay = *network;
    remove_docker_face(state, *network);
    return overlay;
  }
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
  return erase_network(state, *network);
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
  if (const IpamPool* pool = work.ipam_pool_of(net)) {
    if (!request.address) {
      throw UserError(fmt::format(
          "network {} takes its addresses from bpfnet's IPAM pool {}: the endpoint needs the "
          "address Docker requested from it",
          net.name, pool->id));
    }
    check_handed_out(*pool, Ipv4::parse(*request.address), "address");
  } else if (net.overlay()) {
    // Its global pool is gone (Docker releases it before it deletes the
    // network): nothing would hold the address in the cluster.
    throw UserError(fmt::format(
        "overlay network {} has no IPAM pool on this host: its addresses come from bpfnet's "
        "IPAM (--ipam-driver bpfnet --ipam-opt {}={})",
        net.name, kIpamNetworkOption, net.name));
  }
  std::string container = docker_container_name(request.endpoint_id);
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
  endpoint.ifname = docker_peer_ifname_for(request.endpoint_id);
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
