#include "datapath/event_decode.h"

#include <arpa/inet.h>

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

static_assert(uint8_t(FlowPhase::kStart) == BPFNET_FLOW_START);
static_assert(uint8_t(FlowPhase::kEndExpired) == BPFNET_FLOW_END_EXPIRED);
static_assert(uint8_t(FlowPhase::kEndReopened) == BPFNET_FLOW_END_REOPENED);
static_assert(uint8_t(FlowPhase::kEndDisplaced) == BPFNET_FLOW_END_DISPLACED);
static_assert(uint8_t(FlowPhase::kEndGc) == BPFNET_FLOW_END_GC);
static_assert(uint8_t(FlowPhase::kEndPurged) == BPFNET_FLOW_END_PURGED);

CtTuple tuple_of(const bpfnet_ct_key& k) {
  return CtTuple{ntohl(k.saddr), ntohl(k.daddr), ntohs(k.sport), ntohs(k.dport), k.proto};
}

bpfnet_ct_key key_of(const CtTuple& t) {
  bpfnet_ct_key k{};
  k.saddr = htonl(t.saddr);
  k.daddr = htonl(t.daddr);
  k.sport = htons(t.sport);
  k.dport = htons(t.dport);
  k.proto = t.proto;
  return k;
}

CtTuple reversed(const CtTuple& t) { return CtTuple{t.daddr, t.saddr, t.dport, t.sport, t.proto}; }

FlowRecord decode_flow(const bpfnet_flow_record& r) {
  FlowRecord f;
  f.phase = FlowPhase(r.phase);
  f.orig = tuple_of(r.orig);
  f.xlat = tuple_of(r.xlat);
  f.flags = r.flags;
  f.state_orig = r.state_orig;
  f.state_reply = r.state_reply;
  f.packets_orig = r.packets_orig;
  f.bytes_orig = r.bytes_orig;
  f.packets_reply = r.packets_reply;
  f.bytes_reply = r.bytes_reply;
  f.created_ns = r.created_ns;
  return f;
}

bpfnet_flow_record encode_flow(const FlowRecord& f) {
  bpfnet_flow_record r{};
  r.phase = uint8_t(f.phase);
  r.orig = key_of(f.orig);
  r.xlat = key_of(f.xlat);
  r.flags = f.flags;
  r.state_orig = f.state_orig;
  r.state_reply = f.state_reply;
  r.packets_orig = f.packets_orig;
  r.bytes_orig = f.bytes_orig;
  r.packets_reply = f.packets_reply;
  r.bytes_reply = f.bytes_reply;
  r.created_ns = f.created_ns;
  return r;
}

}  // namespace

std::string_view flow_phase_name(FlowPhase phase) {
  return phase == FlowPhase::kStart ? "start" : "end";
}

std::string_view flow_end_cause(FlowPhase phase) {
  switch (phase) {
    case FlowPhase::kStart:
      return "";
    case FlowPhase::kEndExpired:
      return "expired";
    case FlowPhase::kEndReopened:
      return "reopened";
    case FlowPhase::kEndDisplaced:
      return "displaced";
    case FlowPhase::kEndGc:
      return "gc";
    case FlowPhase::kEndPurged:
      return "purged";
  }
  return "unknown";
}

FlowRecord flow_record_of(const CtEntry& entry, const CtEntry* peer, FlowPhase phase) {
  const bool reply = entry.flags & BPFNET_CT_F_REPLY;
  const CtEntry* orig = reply ? peer : &entry;
  const CtEntry* back = reply ? &entry : peer;
  FlowRecord f;
  f.phase = phase;
  if (reply) {
    // The reply direction's key is the reverse of orig's rewrite.
    f.xlat = reversed(entry.tuple);
    f.orig = peer ? peer->tuple : tuple_of([&] {
      bpfnet_ct_key k{};
      std::memcpy(&k, entry.peer.data(), sizeof(k));
      return k;
    }());
  } else {
    f.orig = entry.tuple;
    f.xlat = entry.rewrite;
  }
  if (orig) {
    f.flags = orig->flags;
    f.state_orig = orig->state;
    f.packets_orig = orig->packets;
    f.bytes_orig = orig->bytes;
    f.created_ns = orig->created_ns;
  }
  if (back) {
    f.state_reply = back->state;
    f.packets_reply = back->packets;
    f.bytes_reply = back->bytes;
    if (!orig) {
      f.flags = uint8_t(back->flags & ~BPFNET_CT_F_REPLY);
      f.created_ns = back->created_ns;
    }
  }
  return f;
}

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
  if (raw.cap_len > BPFNET_EVENT_CAPTURE || raw.cap_len > raw.orig_len) return std::nullopt;
  MonitorEvent e;
  if (raw.type == BPFNET_EVENT_FLOW) {
    // The conntrack's, not a hook's; its data is the flow, not a packet.
    struct bpfnet_flow_record flow {};
    std::memcpy(&flow, raw.data, sizeof(flow));
    if (raw.hook != 0 || raw.cap_len != 0) return std::nullopt;
    if (flow.phase < BPFNET_FLOW_START || flow.phase > BPFNET_FLOW_END_PURGED) return std::nullopt;
    e.flow = decode_flow(flow);
  } else if (raw.hook != BPFNET_HOOK_TC && raw.hook != BPFNET_HOOK_XDP) {
    return std::nullopt;
  }
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
  if (event.flow) {
    raw.hook = 0;
    const bpfnet_flow_record flow = encode_flow(*event.flow);
    std::memcpy(raw.data, &flow, sizeof(flow));
    std::vector<uint8_t> out(sizeof(raw));
    std::memcpy(out.data(), &raw, sizeof(raw));
    return out;
  }
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
