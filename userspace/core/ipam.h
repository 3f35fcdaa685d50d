// Addresses on a bridge network. Endpoints and service VIPs share one
// address space: neither may take the other's address.
#pragma once

#include <set>
#include <string>

#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// An explicit address (--ip, or a service's vip): inside the subnet, not its
// network or broadcast address, not the gateway or an auxiliary address, no
// endpoint's address and no service's VIP. Throws UserError in Docker's wording:
// `Invalid address 10.9.0.5: It does not belong to any of this network's
// subnets`, `Address already in use: 10.1.0.2 is used by container web`,
// `Address already in use: 10.1.0.9 is the VIP of service api`.
Ipv4 claim_static_ip(const State& state, const Network& network, const std::string& text);

// Docker's local allocation: the lowest free address of the ip-range (or of
// the whole subnet), skipping the gateway, auxiliary addresses, endpoints'
// addresses, VIPs, what the network's bpfnet IPAM pool handed out and
// `keep_free`. Only the subnet's own network and broadcast addresses are
// excluded, so a range's first address (x.y.5.0 in a /16) is usable. Throws
// UserError `no available IPv4 addresses on this network's address pools:
// NAME (ID)`.
Ipv4 claim_dynamic_ip(const State& state, const Network& network,
                      const std::set<Ipv4>& keep_free = {});

}  // namespace bpfnet::core
