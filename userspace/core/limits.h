// The limits core holds every request and every loaded file to, in one
// place: how many things the datapath's maps hold (maps/bpfnet_abi.h) and the
// numbers that key them. The engine, the state file and the config file all
// check a limit through the value and the function here, never through the
// ABI directly.
//
// For core's .cc files and unit tests only: it includes the map ABI, which
// core's public headers (and so the daemon and the CLI) stay free of. This is
// the one core header that includes bpfnet_abi.h for limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bpfnet_abi.h"
#include "core/maglev.h"
#include "core/state.h"

namespace bpfnet::core {

// How many of one kind of thing bpfnet holds at once.
struct Capacity {
  std::string_view what;  // plural, as messages name it: "endpoints"
  size_t most = 0;

  constexpr bool fits(size_t count) const { return count <= most; }
};

inline constexpr Capacity kEndpointCapacity{"endpoints", BPFNET_MAX_ENDPOINTS};
// Endpoints' and services' bindings together: each is one port map entry.
inline constexpr Capacity kPublishedPortCapacity{"published ports", BPFNET_MAX_PORTMAPS};
inline constexpr Capacity kUplinkCapacity{"uplinks", BPFNET_MAX_UPLINKS};

// For a request that would make `count`: throws UserError `ACTION: bpfnet
// supports at most MOST WHAT` unless it fits.
void check_room(const Capacity& capacity, size_t count, std::string_view action);

// For a file (state or config) that lists more than a Capacity holds: throws
// UserError `ROOT: PATH: COUNT WHAT exceed the limit of MOST` unless `count`
// fits.
void check_capacity(const Capacity& capacity, size_t count, std::string_view root,
                    std::string_view path);

// The numbers 1..last that key a BPF array (0 is never used: a map entry
// that reads 0 is "none").
struct IndexSpace {
  Capacity capacity;  // capacity.most is `last`: every number of the space in use

  constexpr uint32_t last() const { return static_cast<uint32_t>(capacity.most); }
  constexpr bool contains(uint32_t index) const { return index >= 1 && index <= last(); }
};

// Network indexes key bpfnet_nets and are what endpoints and subnets point to.
inline constexpr IndexSpace kNetworkIndexes{{"networks", BPFNET_MAX_NETWORKS - 1}};
// Service indexes key the per-service Maglev tables (bpfnet_maglev).
inline constexpr IndexSpace kServiceIndexes{{"services", kMaxServices - 1}};
// Backend IDs key bpfnet_backends: they are counted across all services.
inline constexpr IndexSpace kBackendIds{{"backends in all", kMaxBackendIds - 1}};

// The service limits of state.h, which the persisted state is checked
// against, must fit the maps the datapath writes them to.
static_assert(kMaxServices <= BPFNET_MAX_SERVICE_TABLES, "a service index keys bpfnet_maglev");
static_assert(kMaxServices <= BPFNET_MAX_SERVICES, "each service has a VIP in bpfnet_vips");
static_assert(kMaxBackendIds <= BPFNET_MAX_BACKENDS, "a backend ID keys bpfnet_backends");
static_assert(kNoBackend == BPFNET_NO_BACKEND, "the empty Maglev slot is the datapath's");

// The lowest number of `space` not in `used` (numbers outside the space are
// ignored). Throws UserError `ACTION: bpfnet supports at most LAST WHAT` when
// every one is taken.
uint32_t lowest_free_index(const IndexSpace& space, const std::vector<uint32_t>& used,
                           std::string_view action);

}  // namespace bpfnet::core
