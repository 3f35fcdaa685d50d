// Docker's IPAM driver (`docker network create --ipam-driver bpfnet`; the
// protocol is daemon/docker_ipam.h): pools and the addresses handed out in
// them live in the State, so they persist with it and the network driver
// (core/docker_engine.cc) programs exactly the addresses the pool gave.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// --ipam-opt naming the bpfnet overlay network a global pool is built on.
inline constexpr std::string_view kIpamNetworkOption = "bpfnet.network";
// Docker's RequestAddress option asking for the network's gateway.
inline constexpr std::string_view kRequestAddressTypeOption = "RequestAddressType";
inline constexpr std::string_view kGatewayAddressType = "com.docker.network.gateway";
// What a pool's addresses map says the gateway is for.
inline constexpr std::string_view kGatewayOwner = "gateway";

// "LocalDefault/10.1.0.0/16", with "/SUB-POOL" when there is one: unique,
// since pools do not overlap.
std::string ipam_pool_id(std::string_view address_space, const Cidr& pool,
                         const std::optional<Cidr>& sub_pool);

struct IpamPoolRequest {
  std::string address_space;
  std::optional<std::string> pool;  // none: bpfnet picks a free subnet
  std::optional<std::string> sub_pool;
  std::map<std::string, std::string> options;
  bool v6 = false;
};

// A new pool. Local pools: `pool` as given, or the first of Docker's default
// pools that overlaps no network, pool or host route (as `network create`
// picks one). Global pools (the global address space, or --ipam-opt
// bpfnet.network=NAME): the subnet of a bpfnet overlay network, whose
// addresses the caller takes in the cluster store. Throws UserError, e.g.
// `Pool overlaps with other one on this address space: 10.1.0.0/24 overlaps
// pool LocalDefault/10.1.0.0/16`.
const IpamPool& request_ipam_pool(State& state, const IpamPoolRequest& request,
                                  const std::vector<Cidr>& host_routes);

// Throws UserError for an unknown pool. A network still on the pool keeps
// its addresses (Docker releases the pool before it deletes the network).
void release_ipam_pool(State& state, const std::string& pool_id);

struct IpamAddressRequest {
  std::string pool_id;
  std::optional<std::string> address;  // none: the lowest free one
  bool gateway = false;                // RequestAddressType gateway
  std::string owner;                   // what it is for, kept with it
};

// Hands out `address` (refused if taken, outside the pool, or its network or
// broadcast address), or the lowest free address of the sub-pool (of the
// pool for a gateway). Addresses of the network built on the pool that the
// pool did not give (a bpfnet service's VIP) are never handed out. Throws
// UserError naming the pool.
Ipv4 request_ipam_address(State& state, const IpamAddressRequest& request);

// Releasing a free address of the pool is a no-op (Docker retries releases);
// an unknown pool or an address outside it is refused.
void release_ipam_address(State& state, const std::string& pool_id, const std::string& address);

// The network driver's side: a network built on a pool (same subnet) gets
// its gateway and auxiliary addresses from it, and each endpoint the address
// the pool gave. Throws UserError `ADDRESS was not handed out by bpfnet's
// IPAM pool ID ...`.
void check_handed_out(const IpamPool& pool, Ipv4 address, std::string_view what);

}  // namespace bpfnet::core
