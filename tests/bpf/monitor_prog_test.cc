// BPF_PROG_TEST_RUN tests of the monitor's events (bpf/lib/events.h, sent
// from lib/verdict.h): a drop becomes an event with its reason, interface and
// bytes only while bpfnet_monitor says someone listens to drops; forwarded
// packets are traced 1 in trace_every; the per-CPU token bucket skips what
// exceeds the rate and counts it as lost.
//
// As in endpoint_prog_test.cc, the sending endpoint A is the loopback device
// (ifindex 1), where BPF_PROG_TEST_RUN runs tc programs.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>

#include <memory>
#include <vector>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "datapath/events.h"
#include "packet.h"
#include "prog_runner.h"

namespace bpfnet::test {
namespace {

using datapath::EventType;
using datapath::MonitorEvent;
using datapath::MonitorSettings;

constexpr uint32_t kLo = 1;
constexpr uint32_t kPeerIf = 42;
const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0b};

class MonitorProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    datapath::MapContents want;
    want.networks[1] =
        datapath::NetworkEntry{1, ip4("172.18.0.0"), 16, ip4("172.18.0.1"), BPFNET_NET_F_ICC, 1500};
    want.add_endpoint(datapath::EndpointEntry{kLo, 1, ip4("172.18.0.2"), kMacA, kGwA});
    want.add_endpoint(datapath::EndpointEntry{kPeerIf, 1, ip4("172.18.0.3"), kMacB, kGwB});
    dp_->apply(datapath::diff(dp_->read_maps(), want));
    reader_ = std::make_unique<datapath::EventReader>(
        *dp_, [this](const MonitorEvent& e) { events_.push_back(e); });
  }

  // A TCP SYN from A with source `saddr` to B, `payload` bytes of data.
  static Bytes from_a(const char* saddr, size_t payload = 5) {
    Ipv4Spec s;
    s.saddr = ip4(saddr);
    s.daddr = ip4("172.18.0.3");
    s.payload = std::string(payload, 'x');
    return ipv4_frame(kGwA, kMacA, s);
  }

  uint32_t run(const Bytes& frame, uint32_t repeat = 1) {
    return run_prog(dp_->from_container_prog_fd(), frame, repeat).retval;
  }

  std::vector<MonitorEvent> drain() {
    reader_->drain();
    return std::exchange(events_, {});
  }

  std::unique_ptr<datapath::Datapath> dp_;
  std::unique_ptr<datapath::EventReader> reader_;
  std::vector<MonitorEvent> events_;
};

TEST_F(MonitorProgTest, NothingIsWrittenWhileNobodyListens) {
  ASSERT_EQ(run(from_a("10.9.9.9")), static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(datapath::lost_events(*dp_), 0u);
}

TEST_F(MonitorProgTest, ADropIsAnEventWithItsReasonInterfaceAndBytes) {
  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kDrop}});
  const Bytes spoofed = from_a("10.9.9.9");
  ASSERT_EQ(run(spoofed), static_cast<uint32_t>(TC_ACT_SHOT));
  const auto events = drain();
  ASSERT_EQ(events.size(), 1u);
  const MonitorEvent& e = events[0];
  EXPECT_EQ(e.type, EventType::kDrop);
  EXPECT_EQ(e.reason, BPFNET_DROP_INVALID_SIP);
  EXPECT_EQ(e.ifindex, kLo);
  EXPECT_EQ(e.dir, BPFNET_DIR_FROM_CONTAINER);
  EXPECT_FALSE(e.xdp);
  EXPECT_EQ(e.orig_len, spoofed.size());
  EXPECT_EQ(e.packet, spoofed);
  EXPECT_NE(e.time_ns, 0u);
  EXPECT_EQ(datapath::lost_events(*dp_), 0u);
}

TEST_F(MonitorProgTest, ALongPacketIsCapturedToItsFirst128Bytes) {
  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kDrop}});
  const Bytes spoofed = from_a("10.9.9.9", 400);
  ASSERT_EQ(run(spoofed), static_cast<uint32_t>(TC_ACT_SHOT));
  const auto events = drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].orig_len, spoofed.size());
  EXPECT_EQ(events[0].packet, Bytes(spoofed.begin(), spoofed.begin() + BPFNET_EVENT_CAPTURE));
}

TEST_F(MonitorProgTest, ForwardedPacketsAreNoDropEventsAndTracedOneInN) {
  const Bytes ok = from_a("172.18.0.2");
  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kDrop}});
  ASSERT_EQ(run(ok), static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_TRUE(drain().empty()) << "a drop monitor sees no forwarded packet";

  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kTrace}, /*trace_every=*/0});
  ASSERT_EQ(run(ok), static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_TRUE(drain().empty()) << "trace_every 0: tracing off";

  // Separate runs (a repeated run forwards its own rewritten frame), on
  // one CPU: sampling counts per CPU.
  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kTrace}, /*trace_every=*/3});
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(static_cast<int>(sched_getcpu()), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  for (int i = 0; i < 9; ++i) ASSERT_EQ(run(ok), static_cast<uint32_t>(TC_ACT_REDIRECT));
  const auto events = drain();
  ASSERT_EQ(events.size(), 3u) << "1 in 3 of 9";
  EXPECT_EQ(events[0].type, EventType::kTrace);
  EXPECT_EQ(events[0].reason, BPFNET_OK);
  EXPECT_EQ(events[0].ifindex, kLo);
  EXPECT_EQ(events[0].peer_ifindex, kPeerIf);
  // The packet as it is delivered: B's MACs, the rest as sent.
  Bytes delivered = ok;
  std::copy(kMacB.begin(), kMacB.end(), delivered.begin());
  std::copy(kGwB.begin(), kGwB.end(), delivered.begin() + 6);
  EXPECT_EQ(events[0].packet, delivered);

  ASSERT_EQ(run(from_a("10.9.9.9")), static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_TRUE(drain().empty()) << "a trace monitor sees no drop";
}

TEST_F(MonitorProgTest, OverTheRateEventsAreSkippedAndCountedAsLost) {
  // One event per second with a bucket of 2: of 10 drops in a burst (one
  // test run, one CPU), 2 are sent and 8 lost.
  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kDrop}, 0, /*rate=*/1, /*burst=*/2});
  ASSERT_EQ(run(from_a("10.9.9.9"), 10), static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(drain().size(), 2u);
  EXPECT_EQ(datapath::lost_events(*dp_), 8u);
}

// The XDP hook's verdict site: a client's packet straight to a container
// address on the uplink (no-portmap), arriving on up0 (tests/bpf/main.cc).
TEST_F(MonitorProgTest, AnXdpDropIsAnEventOfTheXdpHook) {
  const uint32_t up0 = if_nametoindex("up0");
  ASSERT_NE(up0, 0u) << "test netns setup (main.cc) missing";
  const Mac up0_mac{0x02, 0, 0, 0, 0, 0x01};
  datapath::MapContents want = dp_->read_maps();
  want.host_addrs[ip4("192.0.2.1")] = 0;
  want.uplinks[up0] = datapath::UplinkEntry{up0, ip4("192.0.2.1"), up0_mac};
  dp_->apply(datapath::diff(dp_->read_maps(), want));
  Ipv4Spec s;
  s.saddr = ip4("198.51.100.7");
  s.daddr = ip4("172.18.0.3");
  const Bytes direct = ipv4_frame(up0_mac, {0x02, 0, 0, 0, 0x07, 0x07}, s);

  datapath::set_monitor(*dp_, MonitorSettings{{EventType::kDrop}});
  ASSERT_EQ(run_xdp(dp_->xdp_uplink_prog_fd(), direct, up0).retval, 1u /* XDP_DROP */);
  const auto events = drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].xdp);
  EXPECT_EQ(events[0].reason, BPFNET_DROP_NO_PORTMAP);
  EXPECT_EQ(events[0].ifindex, up0);
  EXPECT_EQ(events[0].dir, BPFNET_DIR_FROM_UPLINK);
  EXPECT_EQ(events[0].packet, direct);
}

}  // namespace
}  // namespace bpfnet::test
