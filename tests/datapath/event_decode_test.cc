// The decoder of the ring buffer's records (datapath/event_decode.h): a
// record as the datapath writes it decodes field by field; anything that is
// not a well-formed event (short, unknown type or hook, a capture longer
// than its room or than the packet) is refused.
#include "datapath/event_decode.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "bpfnet_abi.h"

namespace bpfnet::datapath {
namespace {

std::vector<uint8_t> record(const bpfnet_event& raw) {
  std::vector<uint8_t> out(sizeof(raw));
  std::memcpy(out.data(), &raw, sizeof(raw));
  return out;
}

bpfnet_event drop_record() {
  bpfnet_event raw{};
  raw.time_ns = 123;
  raw.ifindex = 7;
  raw.orig_len = 300;
  raw.cap_len = 3;
  raw.type = BPFNET_EVENT_DROP;
  raw.reason = BPFNET_DROP_INVALID_SIP;
  raw.dir = BPFNET_DIR_FROM_CONTAINER;
  raw.hook = BPFNET_HOOK_XDP;
  raw.data[0] = 1, raw.data[1] = 2, raw.data[2] = 3, raw.data[3] = 4;
  return raw;
}

TEST(EventDecode, ARecordDecodesFieldByField) {
  auto e = decode_event(record(drop_record()));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kDrop);
  EXPECT_EQ(e->reason, BPFNET_DROP_INVALID_SIP);
  EXPECT_EQ(e->dir, BPFNET_DIR_FROM_CONTAINER);
  EXPECT_TRUE(e->xdp);
  EXPECT_EQ(e->time_ns, 123u);
  EXPECT_EQ(e->ifindex, 7u);
  EXPECT_EQ(e->orig_len, 300u);
  EXPECT_EQ(e->packet, (std::vector<uint8_t>{1, 2, 3})) << "cap_len bytes only";
  EXPECT_EQ(decode_event(encode_event(*e)), e);
}

// An event with nothing captured (cap_len 0) round-trips: encoding an empty
// packet copied from its null data() was undefined behaviour (UBSan, found by
// fuzz/monitor_event; its input is the seed corpus/monitor_event/empty-capture).
TEST(EventDecode, AnEmptyCaptureRoundTrips) {
  bpfnet_event raw = drop_record();
  raw.cap_len = 0;
  auto e = decode_event(record(raw));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->packet.empty());
  EXPECT_EQ(decode_event(encode_event(*e)), e);
}

TEST(EventDecode, WhatIsNoWellFormedEventIsRefused) {
  auto bytes = record(drop_record());
  EXPECT_FALSE(decode_event(std::span(bytes).first(bytes.size() - 1))) << "short";
  auto refused = [](auto change) {
    bpfnet_event raw = drop_record();
    change(raw);
    return !decode_event(record(raw));
  };
  EXPECT_TRUE(refused([](bpfnet_event& r) { r.type = 0; }));
  EXPECT_TRUE(refused([](bpfnet_event& r) { r.type = 4; }));
  EXPECT_TRUE(refused([](bpfnet_event& r) { r.hook = 0; }));
  EXPECT_TRUE(refused([](bpfnet_event& r) { r.cap_len = BPFNET_EVENT_CAPTURE + 1; }));
  EXPECT_TRUE(refused([](bpfnet_event& r) { r.orig_len = 2; }));
  EXPECT_TRUE(refused([](bpfnet_event& r) { r.type = BPFNET_EVENT_FLOW; }))
      << "a flow event has no hook and captures no packet";
}

TEST(EventDecode, TypeNames) {
  for (EventType t : event_types()) EXPECT_EQ(event_type_from_name(event_type_name(t)), t);
  EXPECT_EQ(event_type_from_name("bogus"), std::nullopt);
  EXPECT_EQ(event_type_name(EventType::kFlow), "flow");
}

// A flow event as bpf/lib/flow_events.h writes it: no hook, no capture, the
// flow record in data[] (network order there, host order decoded).
bpfnet_event flow_event_record(uint8_t phase) {
  bpfnet_event raw{};
  raw.time_ns = 5'000'000'000;
  raw.type = BPFNET_EVENT_FLOW;
  bpfnet_flow_record f{};
  f.orig = bpfnet_ct_key{htonl(0x0a000001), htonl(0xc0a80102), htons(4242), htons(8080), 6, {}};
  f.xlat = bpfnet_ct_key{htonl(0x0a000001), htonl(0xac120002), htons(4242), htons(80), 6, {}};
  f.packets_orig = 12;
  f.bytes_orig = 1300;
  f.packets_reply = 10;
  f.bytes_reply = 9000;
  f.created_ns = 2'900'000'000;
  f.phase = phase;
  f.flags = BPFNET_CT_F_DNAT;
  f.state_orig = BPFNET_CT_CLOSING;
  f.state_reply = BPFNET_CT_ESTABLISHED;
  std::memcpy(raw.data, &f, sizeof(f));
  return raw;
}

TEST(EventDecode, AFlowRecordDecodesFieldByField) {
  auto e = decode_event(record(flow_event_record(BPFNET_FLOW_END_REOPENED)));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kFlow);
  EXPECT_TRUE(e->packet.empty());
  ASSERT_TRUE(e->flow);
  const FlowRecord& f = *e->flow;
  EXPECT_EQ(f.phase, FlowPhase::kEndReopened);
  EXPECT_EQ(f.orig, (CtTuple{0x0a000001, 0xc0a80102, 4242, 8080, 6}));
  EXPECT_EQ(f.xlat, (CtTuple{0x0a000001, 0xac120002, 4242, 80, 6}));
  EXPECT_EQ(f.flags, BPFNET_CT_F_DNAT);
  EXPECT_EQ(f.state_orig, BPFNET_CT_CLOSING);
  EXPECT_EQ(f.state_reply, BPFNET_CT_ESTABLISHED);
  EXPECT_EQ(f.packets_orig, 12u);
  EXPECT_EQ(f.bytes_orig, 1300u);
  EXPECT_EQ(f.packets_reply, 10u);
  EXPECT_EQ(f.bytes_reply, 9000u);
  EXPECT_EQ(f.created_ns, 2'900'000'000u);
  EXPECT_EQ(decode_event(encode_event(*e)), e);
  EXPECT_EQ(flow_phase_name(f.phase), "end");
  EXPECT_EQ(flow_end_cause(f.phase), "reopened");
  EXPECT_EQ(flow_phase_name(FlowPhase::kStart), "start");

  auto drop = decode_event(record(drop_record()));
  ASSERT_TRUE(drop);
  EXPECT_FALSE(drop->flow) << "only flow events carry a flow";
}

TEST(EventDecode, AMalformedFlowEventIsRefused) {
  auto refused = [](uint8_t phase, auto change) {
    bpfnet_event raw = flow_event_record(phase);
    change(raw);
    return !decode_event(record(raw));
  };
  auto nothing = [](bpfnet_event&) {};
  for (uint8_t phase = BPFNET_FLOW_START; phase <= BPFNET_FLOW_END_PURGED; ++phase)
    EXPECT_FALSE(refused(phase, nothing)) << int(phase);
  EXPECT_TRUE(refused(0, nothing)) << "no phase";
  EXPECT_TRUE(refused(BPFNET_FLOW_END_PURGED + 1, nothing)) << "unknown phase";
  EXPECT_TRUE(refused(BPFNET_FLOW_START, [](bpfnet_event& r) { r.hook = BPFNET_HOOK_TC; }));
  EXPECT_TRUE(refused(BPFNET_FLOW_START, [](bpfnet_event& r) {
    r.orig_len = 10;
    r.cap_len = 1;
  })) << "a capture";
}

// bpfnetd's GC removes flows itself: their record, from either half.
TEST(EventDecode, TheGcsFlowRecordIsToldFromTheOriginalDirection) {
  CtEntry orig, reply;
  orig.tuple = CtTuple{0x0a000001, 0xc0a80102, 4242, 8080, 6};
  orig.rewrite = CtTuple{0x0a000001, 0xac120002, 4242, 80, 6};
  orig.flags = BPFNET_CT_F_DNAT;
  orig.packets = 12;
  orig.bytes = 1300;
  orig.created_ns = 77;
  reply.tuple = CtTuple{0xac120002, 0x0a000001, 80, 4242, 6};
  reply.rewrite = CtTuple{0xc0a80102, 0x0a000001, 8080, 4242, 6};
  reply.flags = BPFNET_CT_F_DNAT | BPFNET_CT_F_REPLY;
  reply.packets = 10;
  reply.bytes = 9000;
  reply.created_ns = 77;
  const FlowRecord want = flow_record_of(orig, &reply, FlowPhase::kEndGc);
  EXPECT_EQ(want.orig, orig.tuple);
  EXPECT_EQ(want.xlat, orig.rewrite);
  EXPECT_EQ(want.flags, BPFNET_CT_F_DNAT);
  EXPECT_EQ(want.packets_orig, 12u);
  EXPECT_EQ(want.bytes_reply, 9000u);
  EXPECT_EQ(want.created_ns, 77u);
  EXPECT_EQ(flow_record_of(reply, &orig, FlowPhase::kEndGc), want);
  // An orphaned reply half: the flow still named, its own counters only.
  const FlowRecord orphan = flow_record_of(reply, nullptr, FlowPhase::kEndGc);
  EXPECT_EQ(orphan.xlat, orig.rewrite);
  EXPECT_EQ(orphan.packets_orig, 0u);
  EXPECT_EQ(orphan.packets_reply, 10u);
  EXPECT_EQ(orphan.flags, BPFNET_CT_F_DNAT);
}

}  // namespace
}  // namespace bpfnet::datapath
