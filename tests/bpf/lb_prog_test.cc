// BPF_PROG_TEST_RUN tests of load balancing (bpf/lib/lb.h): a service VIP
// is DNATed to the backend its Maglev table names for the flow's tuple,
// conntrack keeps established flows where they are when the table changes,
// drained (absent) backends get no new flows, client-IP affinity holds.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <memory>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "packet.h"
#include "prog_runner.h"

namespace bpfnet::test {
namespace {

using datapath::EndpointEntry;
using datapath::MapContents;
using datapath::NetworkEntry;

constexpr uint32_t kLo = 1;
constexpr uint32_t kTable = 251;
constexpr uint8_t kTcp = 6;
const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
const Mac kMacC{0x02, 0x42, 0xac, 0x12, 0x00, 0x04};
const Mac kGwC{0x6e, 0, 0, 0, 0, 0x0c};
const uint32_t kIpA = ip4("172.18.0.2"), kIpB = ip4("172.18.0.3"), kIpC = ip4("172.18.0.4");
const uint32_t kVip = ip4("172.18.0.100");

// The datapath's tuple hash (bpf/lib/lb.h), written again from its
// definition so the test checks the slot choice rather than trusting it.
uint32_t mix32(uint32_t h, uint32_t v) {
  v *= 0xcc9e2d51u;
  v = (v << 15) | (v >> 17);
  v *= 0x1b873593u;
  h ^= v;
  h = (h << 13) | (h >> 19);
  return h * 5 + 0xe6546b64u;
}
// Arguments in network byte order, as the packet holds them.
uint32_t tuple_hash(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport, uint8_t p) {
  uint32_t h = 0x9747b28cu;
  h = mix32(h, saddr);
  h = mix32(h, daddr);
  h = mix32(h, (uint32_t{sport} << 16) | dport);
  h = mix32(h, p);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

class LbProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    want_.networks[1] =
        NetworkEntry{1, ip4("172.18.0.0"), 16, ip4("172.18.0.1"), BPFNET_NET_F_ICC, 1500};
    want_.add_endpoint(EndpointEntry{kLo, 1, kIpA, kMacA, kGwA});
    want_.add_endpoint(EndpointEntry{42, 1, kIpB, kMacB, kGwB});
    want_.add_endpoint(EndpointEntry{43, 1, kIpC, kMacC, kGwC});
    want_.backends[1] = kIpB;
    want_.backends[2] = kIpC;
    want_.vips[kVip] = 1;
    service(0);
  }
  void service(uint32_t affinity_s) {
    want_.services.clear();
    want_.add_service(datapath::ServiceEntry{kVip, 80, kTcp, 7, kTable, affinity_s});
    dp_->apply(datapath::diff(dp_->read_maps(), want_));
  }
  // Fills the table: slot -> backend id from `pick`.
  template <typename F>
  void table(F pick) {
    std::vector<std::pair<uint32_t, uint32_t>> all;
    for (uint32_t s = 0; s < kTable; ++s) all.emplace_back(s, pick(s));
    dp_->write_maglev(7, kTable, all);
  }
  RunResult from_a(uint16_t sport, uint8_t flags = 0x02, uint32_t saddr = kIpA) {
    Ipv4Spec s;
    s.saddr = saddr;
    s.daddr = kVip;
    s.sport = sport;
    s.dport = 80;
    s.tcp_flags = flags;
    return run_prog(dp_->from_container_prog_fd(), ipv4_frame(kGwA, kMacA, s));
  }
  static uint32_t dst_of(const RunResult& r) { return get32(r.out, kEth + 16); }

  std::unique_ptr<datapath::Datapath> dp_;
  MapContents want_;
};

TEST_F(LbProgTest, VipIsDnatedToTheBackendOfTheTuplesSlot) {
  // Even slots -> B, odd -> C: the hash decides, the test predicts it.
  table([](uint32_t s) { return s % 2 ? 2u : 1u; });
  int to_b = 0, to_c = 0;
  for (uint16_t sport = 20000; sport < 20040; ++sport) {
    RunResult r = from_a(sport);
    ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
    uint32_t slot = tuple_hash(htonl(kIpA), htonl(kVip), htons(sport), htons(80), kTcp) % kTable;
    uint32_t want = slot % 2 ? kIpC : kIpB;
    EXPECT_EQ(dst_of(r), want) << "sport " << sport << " slot " << slot;
    // Full rewrite check: the frame for the chosen backend.
    Ipv4Spec s;
    s.saddr = kIpA;
    s.daddr = want;
    s.sport = sport;
    s.dport = 80;
    EXPECT_EQ(r.out,
              routed(ipv4_frame(want == kIpB ? kMacB : kMacC, want == kIpB ? kGwB : kGwC, s)));
    (want == kIpB ? to_b : to_c)++;
  }
  EXPECT_GT(to_b, 5);
  EXPECT_GT(to_c, 5);
}

TEST_F(LbProgTest, EstablishedFlowKeepsItsBackendWhenTheTableChanges) {
  table([](uint32_t) { return 1u; });
  ASSERT_EQ(dst_of(from_a(30000)), kIpB);
  table([](uint32_t) { return 2u; });  // B drained: every slot now C
  EXPECT_EQ(dst_of(from_a(30000, 0x10)), kIpB) << "established flow moved";
  EXPECT_EQ(dst_of(from_a(30001)), kIpC) << "a drained backend got a new flow";
}

TEST_F(LbProgTest, ClientIpAffinityHoldsAcrossFlowsAndTableChanges) {
  service(100);
  table([](uint32_t) { return 1u; });
  ASSERT_EQ(dst_of(from_a(31000)), kIpB);
  table([](uint32_t) { return 2u; });
  EXPECT_EQ(dst_of(from_a(31001)), kIpB) << "same client, new flow: affinity";
  // Without affinity the new flow follows the table.
  service(0);
  EXPECT_EQ(dst_of(from_a(31002)), kIpC);
}

TEST_F(LbProgTest, ServiceWithoutBackendsDropsWithItsReason) {
  table([](uint32_t) { return BPFNET_NO_BACKEND; });
  RunResult r = from_a(32000);
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
  uint64_t n = 0;
  for (const auto& row : dp_->read_metrics())
    if (row.ifindex == kLo && row.reason == BPFNET_DROP_NO_BACKEND) n += row.packets;
  EXPECT_EQ(n, 1u);
}

TEST_F(LbProgTest, ArpForTheVipIsAnswered) {
  Bytes req = arp_frame({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kMacA, 1, kMacA, kIpA, {}, kVip);
  RunResult r = run_prog(dp_->from_container_prog_fd(), req);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, arp_frame(kMacA, kGwA, 2, kGwA, kVip, kMacA, kIpA));
}

TEST_F(LbProgTest, PublishedServicePortAtTheUplinkPicksABackend) {
  want_.host_addrs[ip4("192.0.2.1")] = 0;
  want_.add_portmap(datapath::PortMapEntry{0, 8080, kTcp, kVip, 80});
  dp_->apply(datapath::diff(dp_->read_maps(), want_));
  table([](uint32_t) { return 2u; });
  Ipv4Spec s;
  s.saddr = ip4("198.51.100.7");
  s.daddr = ip4("192.0.2.1");
  s.sport = 40000;
  s.dport = 8080;
  RunResult r = run_prog(dp_->xdp_uplink_prog_fd(), ipv4_frame(kGwA, kMacA, s));
  ASSERT_EQ(r.retval, 4u /* XDP_REDIRECT */);
  Ipv4Spec want = s;
  want.daddr = kIpC;
  want.dport = 80;
  EXPECT_EQ(r.out, routed(ipv4_frame(kMacC, kGwC, want)));
}

TEST_F(LbProgTest, MaglevTableRoundTripsAndIsReplacedOnResize) {
  table([](uint32_t s) { return s; });
  auto t = dp_->read_maglev(7);
  ASSERT_EQ(t.size(), kTable);
  EXPECT_EQ(t[17], 17u);
  dp_->write_maglev(7, kTable, {{17, 1}});
  EXPECT_EQ(dp_->read_maglev(7)[17], 1u);
  EXPECT_EQ(dp_->read_maglev(7)[18], 18u) << "a delta writes only its slots";
  dp_->write_maglev(7, 257, {{0, 2}});
  t = dp_->read_maglev(7);
  EXPECT_EQ(t.size(), 257u);
  EXPECT_EQ(t[0], 2u);
  EXPECT_EQ(t[1], BPFNET_NO_BACKEND);
  EXPECT_EQ(dp_->maglev_indexes(), std::vector<uint32_t>{7});
  dp_->delete_maglev(7);
  EXPECT_TRUE(dp_->read_maglev(7).empty());
}

}  // namespace
}  // namespace bpfnet::test
