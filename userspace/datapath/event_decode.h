// Monitor events as the datapath writes them (struct bpfnet_event in the ring
// buffer bpfnet_events), decoded into a plain struct: the daemon and the
// tests never see the record's layout. Pure: no libbpf, no syscalls.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace bpfnet::datapath {

enum class EventType : uint8_t { kDrop = 1, kTrace = 2, kFlow = 3 };

// "drop", "trace", "flow"; what `bpfnetctl monitor --type` takes.
std::string_view event_type_name(EventType type);
std::optional<EventType> event_type_from_name(std::string_view name);
// Every type, in the order above.
std::span<const EventType> event_types();

struct MonitorEvent {
  EventType type = EventType::kDrop;
  uint8_t reason = 0;           // drop: bpfnet_reason (core::drop_reason_name); else 0
  uint8_t dir = 0;              // bpfnet_dir at ifindex: 0 arrived there, 1 delivered through it
  bool xdp = false;             // seen by the XDP hook (else tc)
  uint64_t time_ns = 0;         // CLOCK_MONOTONIC
  uint32_t ifindex = 0;         // where the packet arrived
  uint32_t peer_ifindex = 0;    // trace: the container veth it went to; 0: none
  uint32_t orig_len = 0;        // the packet's length
  std::vector<uint8_t> packet;  // its first bytes (at most 128), from the Ethernet header

  bool operator==(const MonitorEvent&) const = default;
};

// One ring record. nullopt when it is not a well-formed event: shorter than
// the record, an unknown type or hook, or a capture longer than its room or
// than the packet. Reads only `record`.
std::optional<MonitorEvent> decode_event(std::span<const uint8_t> record);

// The record the datapath would write for `event` (tests and the fuzzer).
std::vector<uint8_t> encode_event(const MonitorEvent& event);

}  // namespace bpfnet::datapath
