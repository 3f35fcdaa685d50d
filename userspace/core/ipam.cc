#include "core/ipam.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {

Ipv4 claim_static_ip(const State& state, const Network& network, const std::string& text) {
  Ipv4 ip = Ipv4::parse(text);
  const Cidr& subnet = *network.subnet;
  if (!subnet.contains(ip)) {
    throw UserError(fmt::format(
        "Invalid address {}: It does not belong to any of this network's subnets", text));
  }
  if (ip == subnet.network() || ip == subnet.broadcast()) {
    throw UserError(fmt::format("Invalid address {}: it is the {} address of {}", text,
                                ip == subnet.network() ? "network" : "broadcast",
                                subnet.to_string()));
  }
  if (ip == network.gateway) {
    throw UserError(
        fmt::format("Address already in use: {} is the gateway of network {}", text, network.name));
  }
  for (const auto& [name, address] : network.aux_addresses) {
    if (address == ip) {
      throw UserError(
          fmt::format("Address already in use: {} is the auxiliary address {} of network {}", text,
                      name, network.name));
    }
  }
  for (const Endpoint* endpoint : state.endpoints_of_network(network.id)) {
    if (endpoint->ip == ip) {
      throw UserError(fmt::format("Address already in use: {} is used by container {}", text,
                                  endpoint->container));
    }
  }
  for (const Service* service : state.services_of_network(network.id)) {
    if (service->vip == ip) {
      throw UserError(
          fmt::format("Address already in use: {} is the VIP of service {}", text, service->name));
    }
  }
  return ip;
}

Ipv4 claim_dynamic_ip(const State& state, const Network& network, const std::set<Ipv4>& keep_free) {
  const Cidr& subnet = *network.subnet;
  const Cidr& range = network.ip_range ? *network.ip_range : subnet;
  std::set<Ipv4> unavailable = keep_free;
  unavailable.insert({subnet.network(), subnet.broadcast(), network.gateway});
  for (const auto& [name, address] : network.aux_addresses) unavailable.insert(address);
  for (const Endpoint* endpoint : state.endpoints_of_network(network.id)) {
    unavailable.insert(endpoint->ip);
  }
  for (const Service* service : state.services_of_network(network.id)) {
    unavailable.insert(service->vip);
  }
  // Docker's IPAM driver may have handed out more than endpoints hold yet.
  if (const IpamPool* pool = state.ipam_pool_of(network)) {
    for (const auto& [address, owner] : pool->addresses) unavailable.insert(address);
  }
  // Every skipped address is in `unavailable`, so this loop is bounded by its
  // size, not by the size of the range.
  uint64_t last = range.broadcast().value;
  for (uint64_t candidate = range.network().value; candidate <= last; ++candidate) {
    Ipv4 ip{static_cast<uint32_t>(candidate)};
    if (!unavailable.contains(ip)) return ip;
  }
  throw UserError(
      fmt::format("no available IPv4 addresses on this network's address pools: {} ({})",
                  network.name, network.id));
}

}  // namespace bpfnet::core
