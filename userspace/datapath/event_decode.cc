#include "datapath/event_decode.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "bpfnet_abi.h"

namespace bpfnet::datapath {
namespace {

constexpr std::array kTypes{EventType::kDrop, EventType::kTrace, EventType::kFlow};
static_assert(uint8_t(EventType::kDrop) == BPFNET_EVENT_DROP);
static_assert(uint8_t(EventType::kTrace) == BPFNET_EVENT_TRACE);
static_assert(uint8_t(EventType::kFlow) == BPFNET_EVENT_FLOW);

}  // namespace

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kDrop:
      return "drop";
    case EventType::kTrace:
      return "trace";
    case EventType::kFlow:
      return "flow";
  }
  return "unknown";
}

std::optional<EventType> event_type_from_name(std::string_view name) {
  for (EventType t : kTypes)
    if (event_type_name(t) == name) return t;
  return std::nullopt;
}

std::span<const EventType> event_types() { return kTypes; }

std::optional<MonitorEvent> decode_event(std::span<const uint8_t> record) {
  struct bpfnet_event raw {};
  if (record.size() < sizeof(raw)) return std::nullopt;
  std::memcpy(&raw, record.data(), sizeof(raw));
  if (raw.type < BPFNET_EVENT_DROP || raw.type > BPFNET_EVENT_FLOW) return std::nullopt;
  if (raw.hook != BPFNET_HOOK_TC && raw.hook != BPFNET_HOOK_XDP) return std::nullopt;
  if (raw.cap_len > BPFNET_EVENT_CAPTURE || raw.cap_len > raw.orig_len) return std::nullopt;
  MonitorEvent e;
  e.type = EventType(raw.type);
  e.reason = raw.reason;
  e.dir = raw.dir;
  e.xdp = raw.hook == BPFNET_HOOK_XDP;
  e.time_ns = raw.time_ns;
  e.ifindex = raw.ifindex;
  e.peer_ifindex = raw.peer_ifindex;
  e.orig_len = raw.orig_len;
  e.packet.assign(raw.data, raw.data + raw.cap_len);
  return e;
}

std::vector<uint8_t> encode_event(const MonitorEvent& event) {
  struct bpfnet_event raw {};
  raw.time_ns = event.time_ns;
  raw.ifindex = event.ifindex;
  raw.peer_ifindex = event.peer_ifindex;
  raw.orig_len = event.orig_len;
  raw.type = uint8_t(event.type);
  raw.reason = event.reason;
  raw.dir = event.dir;
  raw.hook = event.xdp ? BPFNET_HOOK_XDP : BPFNET_HOOK_TC;
  const size_t cap = std::min<size_t>(event.packet.size(), BPFNET_EVENT_CAPTURE);
  raw.cap_len = uint16_t(cap);
  // copy_n, not memcpy: an empty packet's data() may be null (UB for memcpy
  // even with size 0; found by fuzz/monitor_event).
  std::copy_n(event.packet.begin(), cap, raw.data);
  std::vector<uint8_t> out(sizeof(raw));
  std::memcpy(out.data(), &raw, sizeof(raw));
  return out;
}

}  // namespace bpfnet::datapath
