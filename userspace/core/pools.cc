#include "core/pools.h"

#include <algorithm>

#include "core/error.h"

namespace bpfnet::core {
namespace {

// Appends `base` split into blocks of `size` prefix length, in address order.
void split_into(std::vector<Cidr>& out, Cidr base, uint8_t size) {
  uint64_t step = uint64_t{1} << (32 - size);
  for (uint64_t offset = 0; offset < base.size(); offset += step) {
    out.push_back(Cidr{Ipv4{base.network().value + static_cast<uint32_t>(offset)}, size});
  }
}

std::vector<Cidr> build_default_local_pools() {
  std::vector<Cidr> pools;
  split_into(pools, Cidr{Ipv4::from_octets(172, 17, 0, 0), 16}, 16);
  split_into(pools, Cidr{Ipv4::from_octets(172, 18, 0, 0), 16}, 16);
  split_into(pools, Cidr{Ipv4::from_octets(172, 19, 0, 0), 16}, 16);
  split_into(pools, Cidr{Ipv4::from_octets(172, 20, 0, 0), 14}, 16);
  split_into(pools, Cidr{Ipv4::from_octets(172, 24, 0, 0), 14}, 16);
  split_into(pools, Cidr{Ipv4::from_octets(172, 28, 0, 0), 14}, 16);
  split_into(pools, Cidr{Ipv4::from_octets(192, 168, 0, 0), 16}, 20);
  return pools;
}

}  // namespace

const std::vector<Cidr>& default_local_pools() {
  static const std::vector<Cidr> pools = build_default_local_pools();
  return pools;
}

Cidr pick_subnet(const std::vector<Cidr>& taken) {
  for (const Cidr& candidate : default_local_pools()) {
    bool free = std::none_of(taken.begin(), taken.end(), [&](const Cidr& used) {
      return used.prefix_len != 0 && used.overlaps(candidate);
    });
    if (free) return candidate;
  }
  throw UserError("all predefined address pools have been fully subnetted");
}

}  // namespace bpfnet::core
