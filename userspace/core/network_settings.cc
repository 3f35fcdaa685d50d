#include "core/network_settings.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {
namespace {

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

}  // namespace

Cidr parse_block_setting(std::string_view setting, const std::string& text) {
  auto block = Cidr::try_parse(text);
  if (!block) {
    throw UserError(fmt::format("invalid {} {}: invalid CIDR block notation", setting, text));
  }
  return *block;
}

Ipv4 parse_address_setting(std::string_view setting, const std::string& text) {
  auto address = Ipv4::try_parse(text);
  if (!address) throw UserError(fmt::format("invalid {} {}: invalid address", setting, text));
  return *address;
}

Cidr parse_subnet(const std::string& text) {
  Cidr subnet = parse_block_setting("subnet", text);
  Cidr::parse(text);  // throws Docker's "it should be" error for host bits
  if (subnet.prefix_len > kLongestPrefix) {
    throw UserError(fmt::format(
        "invalid subnet {}: too small for a gateway and an endpoint (the longest prefix is /{})",
        text, kLongestPrefix));
  }
  for (const ReservedRange& reserved : kReservedRanges) {
    if (subnet.overlaps(reserved.block)) {
      throw UserError(fmt::format("invalid subnet {}: it overlaps the {} range {}", text,
                                  reserved.what, reserved.block.to_string()));
    }
  }
  return subnet;
}

Cidr parse_ip_range(const std::string& text, const Cidr& subnet) {
  Cidr range = parse_block_setting("ip-range", text);
  if (range.prefix_len < subnet.prefix_len) {
    throw UserError(
        fmt::format("invalid ip-range {}: CIDR block is bigger than its parent subnet {}", text,
                    subnet.to_string()));
  }
  if (!range.is_network_address()) {
    throw UserError(fmt::format("invalid ip-range {}: it should be {}", text,
                                Cidr{range.network(), range.prefix_len}.to_string()));
  }
  if (!subnet.contains(range)) {
    throw UserError(fmt::format("invalid ip-range {}: parent subnet {} doesn't contain ip-range",
                                text, subnet.to_string()));
  }
  return range;
}

Ipv4 parse_gateway(const std::string& text, const Cidr& subnet) {
  Ipv4 gateway = parse_address_setting("gateway", text);
  if (!subnet.contains(gateway)) {
    throw UserError(fmt::format("invalid gateway {}: parent subnet {} doesn't contain this address",
                                text, subnet.to_string()));
  }
  if (gateway == subnet.network() || gateway == subnet.broadcast()) {
    throw UserError(fmt::format("invalid gateway {}: it is the {} address of {}", text,
                                gateway == subnet.network() ? "network" : "broadcast",
                                subnet.to_string()));
  }
  return gateway;
}

void check_driver(const std::string& driver) {
  if (driver == kDriverBridge || driver == kDriverOverlay) return;
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

void check_subnet_free(const State& state, const Cidr& subnet, bool on_pool) {
  for (const Network& other : state.networks) {
    if (other.subnet && other.subnet->overlaps(subnet)) {
      throw UserError(fmt::format(
          "Pool overlaps with other one on this address space: {} overlaps network {} ({})",
          subnet.to_string(), other.name, other.subnet->to_string()));
    }
  }
  for (const IpamPool& pool : state.ipam_pools) {
    if ((on_pool && pool.pool == subnet) || !pool.pool.overlaps(subnet)) continue;
    throw UserError(fmt::format(
        "Pool overlaps with other one on this address space: {} overlaps bpfnet IPAM pool {}",
        subnet.to_string(), pool.id));
  }
}

Ipv4 parse_aux_address(const std::string& name, const std::string& text, const Network& network) {
  auto parsed = Ipv4::try_parse(text);
  if (!parsed) {
    throw UserError(fmt::format("invalid auxiliary address {}={}: invalid address", name, text));
  }
  Ipv4 address = *parsed;
  const Cidr& subnet = *network.subnet;
  if (!subnet.contains(address) || address == subnet.network() || address == subnet.broadcast()) {
    throw UserError(fmt::format("invalid auxiliary address {}={}: not a host address of {}", name,
                                text, subnet.to_string()));
  }
  if (address == network.gateway) {
    throw UserError(fmt::format("invalid auxiliary address {}={}: it is the gateway of the network",
                                name, text));
  }
  return address;
}

}  // namespace bpfnet::core
