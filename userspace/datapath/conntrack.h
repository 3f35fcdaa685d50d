// Conntrack as the control plane uses it: expiry (GC), the flows a service
// sends to each backend, and purging the flows of a backend that left or
// failed. The entries come through the DatapathPort, so this is tested with
// an in-memory port.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "core/flows.h"
#include "datapath/event_decode.h"
#include "datapath/port.h"

namespace bpfnet::datapath {

// How long past its deadline an entry is left to the datapath (which treats
// it as absent) before GC deletes it.
inline constexpr uint64_t kGcGraceNs = 1'000'000'000;

// Removes flows whose both directions expired, both halves together (and
// expired halves whose other half is gone or belongs to another flow).
// `now_ns` is CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock. The entries are
// read and deleted in batches (DatapathPort). Returns how many were deleted;
// with `ended`, appends there each removed flow (its monitor flow event).
size_t gc_conntrack(DatapathPort& port, uint64_t now_ns, std::vector<FlowRecord>* ended = nullptr);

// Drops both halves of every load-balanced flow sent to one of these
// backend addresses (host order). With `ended`, appends there each removed
// flow (its monitor flow event, FlowPhase::kEndPurged), as the purge below.
void purge_lb_flows_to(DatapathPort& port, const std::set<uint32_t>& backend_ips,
                       std::vector<FlowRecord>* ended = nullptr);

// Load-balanced flows by backend address (host order).
std::map<uint32_t, uint64_t> lb_flows_by_backend(DatapathPort& port);

// After `applied` was written to the maps: drops both halves of every flow
// of an address that is no longer a container's (disconnected, or its
// namespace gone) and of every published port that was removed, so a
// reused address or port never inherits them.
void purge_flows_of(DatapathPort& port, const MapDelta& applied,
                    std::vector<FlowRecord>* ended = nullptr);

// The conntrack as core's join takes it (core/flows.h): one FlowHalf per
// entry, read in batches.
std::vector<core::FlowHalf> read_flow_halves(DatapathPort& port);

struct ConntrackUsage {
  size_t entries = 0;
  uint32_t capacity = 0;
  double pressure() const { return capacity ? double(entries) / capacity : 0.0; }
};
ConntrackUsage conntrack_usage(DatapathPort& port);

}  // namespace bpfnet::datapath
