// Monitor events as the datapath writes them (struct bpfnet_event in the ring
// buffer bpfnet_events), decoded into a plain struct: the daemon and the
// tests never see the record's layout. Pure: no libbpf, no syscalls.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "datapath/map_model.h"

namespace bpfnet::datapath {

enum class EventType : uint8_t { kDrop = 1, kTrace = 2, kFlow = 3 };

// "drop", "trace", "flow"; what `bpfnetctl monitor --type` takes.
std::string_view event_type_name(EventType type);
std::optional<EventType> event_type_from_name(std::string_view name);
// Every type, in the order above.
std::span<const EventType> event_types();

// A flow event's phase (enum bpfnet_flow_phase): its start, or its end and why.
enum class FlowPhase : uint8_t {
  kStart = 1,
  kEndExpired = 2,    // a packet found it expired
  kEndReopened = 3,   // closed, and a new SYN took its tuple
  kEndDisplaced = 4,  // unreplied, displaced by a new flow (conntrack full)
  kEndGc = 5,         // expired, removed by bpfnetd's GC
  kEndPurged = 6,     // removed by bpfnetd: its container, port or backend went
};
// "start" or "end"; and why it ended ("expired", "reopened", "displaced",
// "gc", "purged"; "" for a start).
std::string_view flow_phase_name(FlowPhase phase);
std::string_view flow_end_cause(FlowPhase phase);

// A flow event's flow (struct bpfnet_flow_record), host order: told from
// the side of its first packet (orig), with what that is rewritten to.
struct FlowRecord {
  FlowPhase phase = FlowPhase::kStart;
  CtTuple orig;
  CtTuple xlat;
  uint8_t flags = 0;  // BPFNET_CT_F_* of orig's entry
  uint8_t state_orig = 0, state_reply = 0;
  uint64_t packets_orig = 0, bytes_orig = 0;
  uint64_t packets_reply = 0, bytes_reply = 0;
  uint64_t created_ns = 0;  // CLOCK_MONOTONIC

  bool operator==(const FlowRecord&) const = default;
};

// The record of a flow whose conntrack entries (either half as `entry`, the
// other `peer`, nullptr when gone) bpfnetd removes itself (GC, purges).
FlowRecord flow_record_of(const CtEntry& entry, const CtEntry* peer, FlowPhase phase);

struct MonitorEvent {
  EventType type = EventType::kDrop;
  uint8_t reason = 0;              // drop: bpfnet_reason (core::drop_reason_name); else 0
  uint8_t dir = 0;                 // bpfnet_dir at ifindex: 0 arrived there, 1 delivered through it
  bool xdp = false;                // seen by the XDP hook (else tc)
  uint64_t time_ns = 0;            // CLOCK_MONOTONIC
  uint32_t ifindex = 0;            // where the packet arrived
  uint32_t peer_ifindex = 0;       // trace: the container veth it went to; 0: none
  uint32_t orig_len = 0;           // the packet's length
  std::vector<uint8_t> packet;     // its first bytes (at most 128), from the Ethernet header
  std::optional<FlowRecord> flow;  // flow events (no packet), and only they

  bool operator==(const MonitorEvent&) const = default;
};

// One ring record. nullopt when it is not a well-formed event: shorter than
// the record, an unknown type or hook (flow events have none, the others
// tc or xdp), a capture longer than its room or than the packet, a flow
// event with a capture or an unknown phase. Reads only `record`.
std::optional<MonitorEvent> decode_event(std::span<const uint8_t> record);

// The record the datapath would write for `event` (tests and the fuzzer).
std::vector<uint8_t> encode_event(const MonitorEvent& event);

}  // namespace bpfnet::datapath
