// The settings of a new network (bpfnet's `network create` or Docker's
// CreateNetwork), parsed and checked in Docker's wording before the network
// is added to the State.
#pragma once

#include <string>
#include <string_view>

#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// TEXT as a CIDR block (host bits allowed), or UserError `invalid SETTING
// TEXT: invalid CIDR block notation`.
Cidr parse_block_setting(std::string_view setting, const std::string& text);
// TEXT as an address, or UserError `invalid SETTING TEXT: invalid address`.
Ipv4 parse_address_setting(std::string_view setting, const std::string& text);

// --subnet: a CIDR with no host bits, room for a gateway and an endpoint
// (/30 at most), outside the ranges the kernel treats specially (0/8,
// loopback, multicast and reserved). Throws UserError `invalid subnet TEXT:
// ...`.
Cidr parse_subnet(const std::string& text);

// --ip-range: a block inside `subnet`. Throws UserError `invalid ip-range
// TEXT: ...`.
Cidr parse_ip_range(const std::string& text, const Cidr& subnet);

// --gateway: a host address of `subnet`. Throws UserError `invalid gateway
// TEXT: ...`.
Ipv4 parse_gateway(const std::string& text, const Cidr& subnet);

// Docker's --aux-address NAME=TEXT: a host address of the network's subnet
// other than its gateway. Throws UserError `invalid auxiliary address
// NAME=TEXT: ...`.
Ipv4 parse_aux_address(const std::string& name, const std::string& text, const Network& network);

// Only "bridge" makes a new network: "host" and "null" have their one
// builtin instance, anything else is an unknown plugin.
void check_driver(const std::string& driver);

// Refuses a subnet overlapping another network's or a bpfnet IPAM pool
// (Docker's one address space): `Pool overlaps with other one on this
// address space: ...`. `on_pool`: a network may be built on a pool of
// exactly its subnet (Docker's networks with --ipam-driver bpfnet, an
// overlay under a global pool).
void check_subnet_free(const State& state, const Cidr& subnet, bool on_pool = false);

}  // namespace bpfnet::core
