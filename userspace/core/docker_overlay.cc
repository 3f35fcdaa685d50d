#include "core/docker_overlay.h"

#include <fmt/format.h>

#include <iterator>

#include "core/docker_ipam.h"
#include "core/engine_steps.h"
#include "core/error.h"
#include "core/network_settings.h"

namespace bpfnet::core {
namespace {

// The global pool whose subnet is `subnet`, if any.
const IpamPool* global_pool_on(const State& state, const Cidr& subnet) {
  for (const IpamPool& pool : state.ipam_pools) {
    if (!pool.overlay_network_id.empty() && pool.pool == subnet) return &pool;
  }
  return nullptr;
}

const Network& named_overlay(const State& state, const std::string& name) {
  const Network* network = state.find_network(name);
  if (network == nullptr) {
    throw UserError(fmt::format(
        "-o {}={}: network {} not found (create it first, on any host: bpfnetctl network "
        "create -d overlay {})",
        kIpamNetworkOption, name, name, name));
  }
  if (!network->overlay()) {
    throw UserError(fmt::format("-o {}={}: network {} is a {} network, not an overlay network",
                                kIpamNetworkOption, name, network->name, network->driver));
  }
  return *network;
}

// What the Docker network must agree with: everything of the overlay's is
// the cluster's, set once for every host.
void check_fits(const Network& overlay, const DockerNetworkCreate& request, const Cidr& subnet) {
  if (subnet != *overlay.subnet) {
    throw UserError(fmt::format(
        "the Docker network's subnet {} is not the subnet {} of overlay network {} (create it "
        "with --ipam-driver bpfnet --ipam-opt {}={} --subnet {})",
        subnet.to_string(), overlay.subnet->to_string(), overlay.name, kIpamNetworkOption,
        overlay.name, overlay.subnet->to_string()));
  }
  if (request.gateway && parse_gateway(*request.gateway, subnet) != overlay.gateway) {
    throw UserError(fmt::format("gateway {} is not overlay network {}'s gateway {}",
                                *request.gateway, overlay.name, overlay.gateway.to_string()));
  }
  if (!request.aux_addresses.empty()) {
    throw UserError(fmt::format(
        "--aux-address {}: a Docker network on overlay network {} has no auxiliary addresses",
        request.aux_addresses.begin()->first, overlay.name));
  }
  if (request.internal != overlay.internal) {
    throw UserError(fmt::format(
        "overlay network {} is {}internal: create the Docker network {} --internal", overlay.name,
        overlay.internal ? "" : "not ", overlay.internal ? "with" : "without"));
  }
  for (const auto& [key, value] : request.options) {
    if (key == kIpamNetworkOption) continue;
    throw UserError(fmt::format(
        "-o {}: a Docker network on overlay network {} has the overlay's options (give them "
        "to `bpfnetctl network create -d overlay`)",
        key, overlay.name));
  }
}

}  // namespace

const Network* docker_overlay_for(const State& state, const DockerNetworkCreate& request) {
  const Cidr subnet = parse_subnet(request.subnet);
  const IpamPool* pool = global_pool_on(state, subnet);
  auto named = request.options.find(std::string(kIpamNetworkOption));
  if (named == request.options.end() && pool == nullptr) return nullptr;
  const Network* overlay = nullptr;
  if (named != request.options.end()) {
    overlay = &named_overlay(state, named->second);
  } else {
    overlay = state.network_by_id(pool->overlay_network_id);
    if (overlay == nullptr) {
      throw UserError(fmt::format("IPAM pool {}: its overlay network {} is gone", pool->id,
                                  pool->overlay_network_id.substr(0, 12)));
    }
  }
  check_fits(*overlay, request, subnet);
  if (pool == nullptr || pool->overlay_network_id != overlay->id) {
    // Docker's own IPAM would hand out the overlay's addresses on this host
    // only: another host's Docker would hand out the same ones.
    throw UserError(fmt::format(
        "overlay network {} takes its addresses from the cluster: create the Docker network "
        "with --ipam-driver bpfnet --ipam-opt {}={}",
        overlay->name, kIpamNetworkOption, overlay->name));
  }
  return overlay;
}

const Network& add_docker_face(State& state, const Network& overlay,
                               const std::string& docker_network_id) {
  if (overlay.docker_network_id == docker_network_id) return overlay;
  if (!overlay.docker_network_id.empty()) {
    throw UserError(fmt::format("overlay network {} already is Docker network {} on this host",
                                overlay.name, overlay.docker_network_id.substr(0, 12)));
  }
  if (state.network_by_id(docker_network_id) != nullptr ||
      state.docker_network(docker_network_id) != nullptr) {
    throw UserError(fmt::format("network with ID {} already exists", docker_network_id));
  }
  Network& faced = state.networks[static_cast<size_t>(&overlay - state.networks.data())];
  faced.docker_network_id = docker_network_id;
  return faced;
}

void remove_docker_face(State& state, const Network& overlay) {
  const std::string overlay_id = overlay.id;
  for (auto it = state.endpoints.begin(); it != state.endpoints.end();) {
    if (it->network_id == overlay_id && it->docker) {
      size_t at = static_cast<size_t>(std::distance(state.endpoints.begin(), it));
      erase_endpoint(state, it);
      it = state.endpoints.begin() + static_cast<std::ptrdiff_t>(at);
    } else {
      ++it;
    }
  }
  for (Network& network : state.networks) {
    if (network.id == overlay_id) network.docker_network_id.clear();
  }
}

}  // namespace bpfnet::core
