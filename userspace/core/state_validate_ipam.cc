// validate_ipam_pools (core/state_validate.h): Docker's IPAM driver's pools.
#include <fmt/format.h>

#include <set>

#include "core/docker_ipam.h"
#include "core/json_fields.h"
#include "core/state_validate.h"

namespace bpfnet::core {

void validate_ipam_pools(const State& state) {
  std::set<std::string_view> ids;
  for (size_t i = 0; i < state.ipam_pools.size(); ++i) {
    const IpamPool& pool = state.ipam_pools[i];
    StateItem item(item_path("ipam_pools", i));
    if (pool.address_space != kLocalAddressSpace && pool.address_space != kGlobalAddressSpace) {
      item.fail("address_space", fmt::format("unknown address space \"{}\"", pool.address_space));
    }
    if (pool.sub_pool && !pool.pool.contains(*pool.sub_pool)) {
      item.fail("sub_pool", fmt::format("{} is not inside pool {}", pool.sub_pool->to_string(),
                                        pool.pool.to_string()));
    }
    std::string id = ipam_pool_id(pool.address_space, pool.pool, pool.sub_pool);
    if (pool.id != id) item.fail("id", fmt::format("\"{}\" is not \"{}\"", pool.id, id));
    if (!ids.insert(pool.id).second) item.fail("id", fmt::format("duplicate ID {}", pool.id));
    for (const auto& [address, owner] : pool.addresses) {
      if (!pool.pool.contains(address) || address == pool.pool.network() ||
          address == pool.pool.broadcast()) {
        item.fail("addresses", fmt::format("{} is not a host address of {}", address.to_string(),
                                           pool.pool.to_string()));
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (state.ipam_pools[j].pool.overlaps(pool.pool)) {
        item.fail("pool", fmt::format("{} overlaps pool {}", pool.pool.to_string(),
                                      state.ipam_pools[j].id));
      }
    }
    for (const Network& network : state.networks) {
      if (network.subnet && network.subnet != pool.pool && network.subnet->overlaps(pool.pool)) {
        item.fail("pool", fmt::format("{} overlaps network {} ({})", pool.pool.to_string(),
                                      network.name, network.subnet->to_string()));
      }
    }
  }
}

}  // namespace bpfnet::core
