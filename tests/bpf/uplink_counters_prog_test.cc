// BPF_PROG_TEST_RUN tests of what the uplink programs count (bpf/lib/verdict.h):
// a packet from a client is counted on the uplink it arrived on, in direction
// BPFNET_DIR_FROM_UPLINK (slot 0), and, when delivered to a container, on that
// container's host veth in BPFNET_DIR_TO_CONTAINER; drops by reason on the
// uplink; what is passed to the kernel is not counted. XDP and tc count alike.
//
// The XDP runs arrive on up0 (the test netns' uplink, main.cc); container B's
// host veth has an ifindex above BPFNET_FAST_COUNTER_IFINDEXES so that its
// rows come from bpfnet_metrics, while up0's come from bpfnet_if_counters.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <map>
#include <memory>
#include <tuple>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "packet.h"
#include "prog_runner.h"

namespace bpfnet::test {
namespace {

using datapath::EndpointEntry;
using datapath::MapContents;
using datapath::NetworkEntry;
using datapath::PortMapEntry;

constexpr uint32_t kB = BPFNET_FAST_COUNTER_IFINDEXES + 904;
constexpr uint8_t kTcp = 6;
constexpr uint32_t XDP_DROP_ = 1, XDP_PASS_ = 2, XDP_REDIRECT_ = 4;

const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kClient = ip4("198.51.100.7");
const uint32_t kIpB = ip4("172.18.0.3");
const uint32_t kGw = ip4("172.18.0.1");

// (ifindex, reason, dir) -> packets, every non-zero row.
using Counts = std::map<std::tuple<uint32_t, uint8_t, uint8_t>, uint64_t>;

class UplinkCountersProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    up0_ = if_nametoindex("up0");
    ASSERT_NE(up0_, 0u) << "test netns setup (main.cc) missing";
    MapContents want;
    want.networks[1] = NetworkEntry{
        1, ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE, 1500};
    want.add_endpoint(EndpointEntry{kB, 1, kIpB, kMacB, kGwB});
    want.host_addrs[kHost] = 0;
    want.uplinks[up0_] = datapath::UplinkEntry{up0_, kHost, kUp0};
    want.add_portmap(PortMapEntry{0, 8080, kTcp, kIpB, 80});
    dp_->apply(datapath::diff(dp_->read_maps(), want));
  }

  Counts counts() {
    Counts c;
    for (const auto& row : dp_->read_metrics())
      if (row.packets) c[{row.ifindex, row.reason, row.dir}] += row.packets;
    return c;
  }

  static Bytes syn(uint32_t daddr, uint16_t sport, uint16_t dport) {
    Ipv4Spec s;
    s.saddr = kClient;
    s.daddr = daddr;
    s.sport = sport;
    s.dport = dport;
    return ipv4_frame(kUp0, kClientMac, s);
  }

  RunResult xdp(const Bytes& f) { return run_xdp(dp_->xdp_uplink_prog_fd(), f, up0_); }
  RunResult tc(const Bytes& f) { return run_prog(dp_->tc_uplink_prog_fd(), f, 1, up0_); }

  // What one delivery to B counts, n times over.
  Counts delivered(uint64_t n) const {
    return Counts{{{up0_, BPFNET_OK, BPFNET_DIR_FROM_UPLINK}, n},
                  {{kB, BPFNET_OK, BPFNET_DIR_TO_CONTAINER}, n}};
  }

  std::unique_ptr<datapath::Datapath> dp_;
  uint32_t up0_ = 0;
};

TEST_F(UplinkCountersProgTest, XdpCountsTheUplinkAndTheContainerItDeliversTo) {
  ASSERT_EQ(xdp(syn(kHost, 40000, 8080)).retval, XDP_REDIRECT_);
  EXPECT_EQ(counts(), delivered(1));
  ASSERT_EQ(xdp(syn(kHost, 40000, 8080)).retval, XDP_REDIRECT_) << "established";
  EXPECT_EQ(counts(), delivered(2));
}

TEST_F(UplinkCountersProgTest, XdpCountsADropOnTheUplinkByReason) {
  ASSERT_EQ(xdp(syn(kIpB, 40000, 80)).retval, XDP_DROP_);
  EXPECT_EQ(counts(), (Counts{{{up0_, BPFNET_DROP_NO_PORTMAP, BPFNET_DIR_FROM_UPLINK}, 1}}));
}

TEST_F(UplinkCountersProgTest, WhatXdpPassesUpIsNotCounted) {
  EXPECT_EQ(xdp(syn(kHost, 40000, 22)).retval, XDP_PASS_) << "a host service";
  EXPECT_EQ(xdp(syn(ip4("203.0.113.5"), 40000, 80)).retval, XDP_PASS_) << "not ours";
  EXPECT_EQ(counts(), Counts{});
}

TEST_F(UplinkCountersProgTest, TcCountsWhatXdpCounts) {
  ASSERT_EQ(tc(syn(kHost, 40000, 8080)).retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(counts(), delivered(1));
  ASSERT_EQ(tc(syn(kHost, 40000, 22)).retval, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(counts(), delivered(1)) << "passed up: not counted";
  ASSERT_EQ(tc(syn(kIpB, 40000, 80)).retval, static_cast<uint32_t>(TC_ACT_SHOT));
  Counts want = delivered(1);
  want[{up0_, BPFNET_DROP_NO_PORTMAP, BPFNET_DIR_FROM_UPLINK}] = 1;
  EXPECT_EQ(counts(), want);
}

}  // namespace
}  // namespace bpfnet::test
