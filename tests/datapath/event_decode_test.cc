// The decoder of the ring buffer's records (datapath/event_decode.h): a
// record as the datapath writes it decodes field by field; anything that is
// not a well-formed event (short, unknown type or hook, a capture longer
// than its room or than the packet) is refused.
#include "datapath/event_decode.h"

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
  EXPECT_FALSE(refused([](bpfnet_event& r) { r.type = BPFNET_EVENT_FLOW; })) << "flow is reserved";
}

TEST(EventDecode, TypeNames) {
  for (EventType t : event_types()) EXPECT_EQ(event_type_from_name(event_type_name(t)), t);
  EXPECT_EQ(event_type_from_name("bogus"), std::nullopt);
  EXPECT_EQ(event_type_name(EventType::kFlow), "flow");
}

}  // namespace
}  // namespace bpfnet::datapath
