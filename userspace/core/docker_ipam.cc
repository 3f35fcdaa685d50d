#include "core/docker_ipam.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/network_settings.h"
#include "core/pools.h"

namespace bpfnet::core {
namespace {

const IpamPool& get_pool(const State& state, const std::string& pool_id) {
  const IpamPool* pool = state.ipam_pool_by_id(pool_id);
  if (pool == nullptr) throw UserError(fmt::format("IPAM pool {} not found", pool_id));
  return *pool;
}

IpamPool& mutable_pool(State& state, const IpamPool& pool) {
  return state.ipam_pools[static_cast<size_t>(&pool - state.ipam_pools.data())];
}

const Network* network_on(const State& state, const IpamPool& pool) {
  for (const Network& network : state.networks) {
    if (network.subnet == pool.pool) return &network;
  }
  return nullptr;
}

// Addresses the network built on the pool uses without the pool having
// given them: a bpfnet service's VIP, or anything a state from before the
// pool holds.
std::set<Ipv4> used_on_network(const State& state, const IpamPool& pool) {
  std::set<Ipv4> used;
  const Network* network = network_on(state, pool);
  if (network == nullptr) return used;
  used.insert(network->gateway);
  for (const auto& [name, address] : network->aux_addresses) used.insert(address);
  for (const Endpoint* endpoint : state.endpoints_of_network(network->id)) {
    used.insert(endpoint->ip);
  }
  for (const Service* service : state.services_of_network(network->id)) used.insert(service->vip);
  return used;
}

// The overlay network a global pool is built on.
const Network& overlay_of(const State& state, const IpamPoolRequest& request,
                          const std::optional<Cidr>& wanted) {
  auto named = request.options.find(std::string(kIpamNetworkOption));
  if (named != request.options.end()) {
    const Network& network = state.get_network(named->second);
    if (!network.overlay()) {
      throw UserError(fmt::format(
          "--ipam-opt {}={}: network {} is not an overlay network (global pools are bpfnet "
          "overlay networks' subnets)",
          kIpamNetworkOption, named->second, network.name));
    }
    if (wanted && *wanted != network.subnet) {
      throw UserError(fmt::format("pool {} is not the subnet {} of overlay network {}",
                                  wanted->to_string(), network.subnet->to_string(), network.name));
    }
    return network;
  }
  if (wanted) {
    for (const Network& network : state.networks) {
      if (network.overlay() && network.subnet == wanted) return network;
    }
  }
  throw UserError(fmt::format(
      "the {} address space holds bpfnet overlay networks' subnets: give the subnet of one "
      "(--subnet) or name it with --ipam-opt {}=NAME",
      kGlobalAddressSpace, kIpamNetworkOption));
}

void check_pool_free(const State& state, const Cidr& pool, const Network* built_on) {
  for (const IpamPool& other : state.ipam_pools) {
    if (other.pool.overlaps(pool)) {
      throw UserError(
          fmt::format("Pool overlaps with other one on this address space: {} overlaps pool {}",
                      pool.to_string(), other.id));
    }
  }
  for (const Network& network : state.networks) {
    if (&network == built_on || !network.subnet || !network.subnet->overlaps(pool)) continue;
    std::string hint;
    if (network.overlay() && network.subnet == pool) {
      hint = fmt::format(" (for Docker containers on overlay {}: --ipam-opt {}={})", network.name,
                         kIpamNetworkOption, network.name);
    }
    throw UserError(
        fmt::format("Pool overlaps with other one on this address space: {} overlaps network "
                    "{} ({}){}",
                    pool.to_string(), network.name, network.subnet->to_string(), hint));
  }
}

Ipv4 lowest_free(const State& state, const IpamPool& pool, const Cidr& range) {
  std::set<Ipv4> unavailable = used_on_network(state, pool);
  unavailable.insert({pool.pool.network(), pool.pool.broadcast()});
  for (const auto& [address, owner] : pool.addresses) unavailable.insert(address);
  // Every skipped address is in `unavailable`: bounded by its size.
  uint64_t last = range.broadcast().value;
  for (uint64_t candidate = range.network().value; candidate <= last; ++candidate) {
    Ipv4 ip{static_cast<uint32_t>(candidate)};
    if (!unavailable.contains(ip)) return ip;
  }
  throw UserError(fmt::format("no available IPv4 addresses in IPAM pool {}", pool.id));
}

Ipv4 claim_given(const State& state, const IpamPool& pool, const std::string& text) {
  Ipv4 ip = Ipv4::parse(text);
  if (!pool.pool.contains(ip)) {
    throw UserError(fmt::format("Invalid address {}: it is not in IPAM pool {}", text, pool.id));
  }
  if (ip == pool.pool.network() || ip == pool.pool.broadcast()) {
    throw UserError(fmt::format("Invalid address {}: it is the {} address of {}", text,
                                ip == pool.pool.network() ? "network" : "broadcast",
                                pool.pool.to_string()));
  }
  if (auto taken = pool.addresses.find(ip); taken != pool.addresses.end()) {
    std::string to = taken->second.empty() ? "" : " to " + taken->second;
    throw UserError(fmt::format("Address already in use: {} is handed out{} by IPAM pool {}", text,
                                to, pool.id));
  }
  if (used_on_network(state, pool).contains(ip)) {
    throw UserError(fmt::format("Address already in use: {} is used on network {}", text,
                                network_on(state, pool)->name));
  }
  return ip;
}

}  // namespace

std::string ipam_pool_id(std::string_view address_space, const Cidr& pool,
                         const std::optional<Cidr>& sub_pool) {
  std::string id = fmt::format("{}/{}", address_space, pool.to_string());
  if (sub_pool) id += "/" + sub_pool->to_string();
  return id;
}

const IpamPool& request_ipam_pool(State& state, const IpamPoolRequest& request,
                                  const std::vector<Cidr>& host_routes) {
  if (request.v6) throw UserError("bpfnet is IPv4-only: create the network without --ipv6");
  bool global = request.address_space == kGlobalAddressSpace ||
                request.options.contains(std::string(kIpamNetworkOption));
  if (request.address_space != kLocalAddressSpace && request.address_space != kGlobalAddressSpace) {
    throw UserError(fmt::format("unknown address space \"{}\" (bpfnet's are {} and {})",
                                request.address_space, kLocalAddressSpace, kGlobalAddressSpace));
  }
  IpamPool pool;
  pool.options = request.options;
  std::optional<Cidr> wanted;
  if (request.pool) wanted = parse_subnet(*request.pool);
  const Network* built_on = nullptr;
  if (global) {
    built_on = &overlay_of(state, request, wanted);
    if (!wanted) {
      // Docker checks a pool it did not ask for against the host's routes,
      // and every host routes its overlays (their gateway is on the host):
      // it would drop the pool and ask for another, for ever.
      throw UserError(fmt::format(
          "--ipam-opt {}={}: give the overlay's subnet too (--subnet {}): Docker drops a pool "
          "it did not ask for when the host routes it, and every host routes its overlays",
          kIpamNetworkOption, request.options.at(std::string(kIpamNetworkOption)),
          built_on->subnet->to_string()));
    }
    pool.overlay_network_id = built_on->id;
    pool.pool = *built_on->subnet;
    pool.address_space = std::string(kGlobalAddressSpace);
  } else {
    pool.address_space = std::string(kLocalAddressSpace);
    if (wanted) {
      pool.pool = *wanted;
    } else {
      std::vector<Cidr> taken = host_routes;
      for (const Network& network : state.networks) {
        if (network.subnet) taken.push_back(*network.subnet);
      }
      for (const IpamPool& other : state.ipam_pools) taken.push_back(other.pool);
      pool.pool = pick_subnet(taken);
    }
  }
  if (request.sub_pool) {
    pool.sub_pool = parse_subnet(*request.sub_pool);
    if (!pool.pool.contains(*pool.sub_pool)) {
      throw UserError(fmt::format("sub-pool {} is not inside pool {}", pool.sub_pool->to_string(),
                                  pool.pool.to_string()));
    }
  }
  check_pool_free(state, pool.pool, built_on);
  pool.id = ipam_pool_id(pool.address_space, pool.pool, pool.sub_pool);
  state.ipam_pools.push_back(std::move(pool));
  return state.ipam_pools.back();
}

void release_ipam_pool(State& state, const std::string& pool_id) {
  // Not refused while a network is still on it: Docker (20.10) releases the
  // pool before it deletes the network.
  const IpamPool& pool = get_pool(state, pool_id);
  state.ipam_pools.erase(state.ipam_pools.begin() + (&pool - state.ipam_pools.data()));
}

Ipv4 request_ipam_address(State& state, const IpamAddressRequest& request) {
  const IpamPool& pool = get_pool(state, request.pool_id);
  Ipv4 ip;
  if (!pool.overlay_network_id.empty() && request.gateway) {
    // Every host's containers on the overlay share its gateway.
    const Network* overlay = state.network_by_id(pool.overlay_network_id);
    if (overlay == nullptr) {
      throw UserError(fmt::format("IPAM pool {}: its overlay network {} is gone", pool.id,
                                  pool.overlay_network_id.substr(0, 12)));
    }
    ip = overlay->gateway;
    if (request.address && Ipv4::parse(*request.address) != ip) {
      throw UserError(fmt::format("IPAM pool {}: the gateway is overlay network {}'s, {}", pool.id,
                                  overlay->name, ip.to_string()));
    }
  } else if (!pool.overlay_network_id.empty() && !request.address) {
    throw UserError(fmt::format(
        "IPAM pool {} is global: its addresses are taken in the cluster store", pool.id));
  } else if (request.address) {
    ip = claim_given(state, pool, *request.address);
  } else if (request.gateway) {
    ip = lowest_free(state, pool, pool.pool);
  } else {
    ip = lowest_free(state, pool, pool.sub_pool.value_or(pool.pool));
  }
  mutable_pool(state, pool).addresses[ip] =
      request.gateway ? std::string(kGatewayOwner) : request.owner;
  return ip;
}

void release_ipam_address(State& state, const std::string& pool_id, const std::string& address) {
  const IpamPool& pool = get_pool(state, pool_id);
  Ipv4 ip = Ipv4::parse(address);
  if (!pool.pool.contains(ip)) {
    throw UserError(fmt::format("address {} is not in IPAM pool {}", address, pool_id));
  }
  mutable_pool(state, pool).addresses.erase(ip);
}

void check_handed_out(const IpamPool& pool, Ipv4 address, std::string_view what) {
  if (pool.addresses.contains(address)) return;
  throw UserError(fmt::format(
      "{} {} was not handed out by bpfnet's IPAM pool {} (a network on a bpfnet pool takes its "
      "addresses from it: --ipam-driver bpfnet)",
      what, address.to_string(), pool.id));
}

}  // namespace bpfnet::core
