// BPF_PROG_TEST_RUN tests of the container-veth programs (bpf/endpoint.bpf.c):
// every verdict, every rewritten byte, every drop counter.
//
// BPF_PROG_TEST_RUN runs tc programs on the loopback device, so the sending
// endpoint in these tests is the one with ifindex 1.
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
constexpr uint32_t kPeerIf = 42;
constexpr uint32_t kOtherNetIf = 43;

const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0b};
const Mac kMacC{0x02, 0x42, 0xac, 0x13, 0x00, 0x02};
const Mac kGwC{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0c};
const Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Mac kZero{};

class EndpointProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    load(BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE, BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE);
  }

  // Network 1: 172.18.0.0/16 with A (ifindex 1) and B; network 2: 172.19.0.0/16 with C.
  void load(uint32_t net1_flags, uint32_t net2_flags) {
    MapContents want;
    want.networks[1] = NetworkEntry{1, ip4("172.18.0.0"), 16, ip4("172.18.0.1"), net1_flags, 1500};
    want.networks[2] = NetworkEntry{2, ip4("172.19.0.0"), 16, ip4("172.19.0.1"), net2_flags, 1500};
    want.add_endpoint(EndpointEntry{kLo, 1, ip4("172.18.0.2"), kMacA, kGwA});
    want.add_endpoint(EndpointEntry{kPeerIf, 1, ip4("172.18.0.3"), kMacB, kGwB});
    want.add_endpoint(EndpointEntry{kOtherNetIf, 2, ip4("172.19.0.2"), kMacC, kGwC});
    dp_->apply(datapath::diff(dp_->read_maps(), want));
    ASSERT_EQ(dp_->read_maps(), want);
  }

  RunResult from_container(const Bytes& frame) {
    return run_prog(dp_->from_container_prog_fd(), frame);
  }

  uint64_t count(uint32_t ifindex, uint8_t reason, uint8_t dir) {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.ifindex == ifindex && row.reason == reason && row.dir == dir) n += row.packets;
    return n;
  }

  void expect_drop(const Bytes& frame, bpfnet_reason reason) {
    uint64_t before = count(kLo, reason, BPFNET_DIR_FROM_CONTAINER);
    RunResult r = from_container(frame);
    EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
    EXPECT_EQ(count(kLo, reason, BPFNET_DIR_FROM_CONTAINER), before + 1)
        << "drop reason " << reason << " not counted";
    EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 0u);
  }

  Bytes tcp_from_a(const char* daddr, const Mac& dst_mac = kGwA) {
    Ipv4Spec s;
    s.saddr = ip4("172.18.0.2");
    s.daddr = ip4(daddr);
    return ipv4_frame(dst_mac, kMacA, s);
  }

  std::unique_ptr<datapath::Datapath> dp_;
};

TEST_F(EndpointProgTest, ArpRequestForGatewayIsAnsweredWithVethMac) {
  Bytes req = arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.2"), kZero, ip4("172.18.0.1"));
  RunResult r = from_container(req);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  Bytes want = arp_frame(kMacA, kGwA, 2, kGwA, ip4("172.18.0.1"), kMacA, ip4("172.18.0.2"));
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 1u);
}

TEST_F(EndpointProgTest, ArpRequestForPeerOnSameNetworkIsAnsweredWithVethMac) {
  Bytes req = arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.2"), kZero, ip4("172.18.0.3"));
  RunResult r = from_container(req);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, arp_frame(kMacA, kGwA, 2, kGwA, ip4("172.18.0.3"), kMacA, ip4("172.18.0.2")));
}

TEST_F(EndpointProgTest, ArpProbeWithZeroSenderIsAnsweredToZero) {
  Bytes req = arp_frame(kBroadcast, kMacA, 1, kMacA, 0, kZero, ip4("172.18.0.3"));
  RunResult r = from_container(req);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, arp_frame(kMacA, kGwA, 2, kGwA, ip4("172.18.0.3"), kMacA, 0));
}

TEST_F(EndpointProgTest, ArpForUnknownOwnOrOtherNetworkAddressIsNotAnswered) {
  expect_drop(arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.2"), kZero, ip4("172.18.0.99")),
              BPFNET_DROP_ARP_NO_TARGET);
  // Its own address: answering would fail the container's duplicate detection.
  expect_drop(arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.2"), kZero, ip4("172.18.0.2")),
              BPFNET_DROP_ARP_NO_TARGET);
  expect_drop(arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.2"), kZero, ip4("172.19.0.2")),
              BPFNET_DROP_ARP_NO_TARGET);
}

TEST_F(EndpointProgTest, ArpWithSpoofedSenderIsDropped) {
  expect_drop(arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.3"), kZero, ip4("172.18.0.1")),
              BPFNET_DROP_INVALID_ARP);
  expect_drop(arp_frame(kBroadcast, kMacA, 1, kMacB, ip4("172.18.0.2"), kZero, ip4("172.18.0.1")),
              BPFNET_DROP_INVALID_ARP);
}

TEST_F(EndpointProgTest, MalformedArpIsDropped) {
  Bytes req = arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("172.18.0.2"), kZero, ip4("172.18.0.1"));
  req[19] = 16;  // protocol address length
  expect_drop(req, BPFNET_DROP_INVALID_ARP);
  req.resize(30);
  expect_drop(req, BPFNET_DROP_MALFORMED);
}

TEST_F(EndpointProgTest, ArpReplyFromContainerGoesToHostUnchanged) {
  Bytes reply = arp_frame(kGwA, kMacA, 2, kMacA, ip4("172.18.0.2"), kGwA, ip4("172.18.0.1"));
  RunResult r = from_container(reply);
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(r.out, reply);
}

TEST_F(EndpointProgTest, SameNetworkIsRedirectedToPeerWithItsMacs) {
  Bytes in = tcp_from_a("172.18.0.3");
  RunResult r = from_container(in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  // Only the Ethernet addresses change; IP header (TTL included) and TCP are
  // byte-identical, so both checksums stay valid.
  Bytes want = in;
  std::memcpy(&want[0], kMacB.data(), 6);
  std::memcpy(&want[6], kGwB.data(), 6);
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.out[kEth + 8], 64) << "TTL";
  EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out));
  EXPECT_EQ(get16(r.out, kEth + 20 + 16), l4_checksum(r.out));
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 1u);
  EXPECT_EQ(count(kPeerIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 1u);
}

// Forwarded packets of ifindexes below BPFNET_FAST_COUNTER_IFINDEXES are
// counted in the per-CPU array, the others in the hash: both must show.
TEST_F(EndpointProgTest, ForwardedPacketsAreCountedForHighIfindexesToo) {
  constexpr uint32_t kHighIf = BPFNET_FAST_COUNTER_IFINDEXES + 904;
  datapath::MapContents want = dp_->read_maps();
  want.add_endpoint(EndpointEntry{kHighIf, 1, ip4("172.18.0.9"), kMacC, kGwC});
  dp_->apply(datapath::diff(dp_->read_maps(), want));
  RunResult r = from_container(tcp_from_a("172.18.0.9"));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 1u);
  EXPECT_EQ(count(kHighIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 1u);
  // Forgetting an interface clears its counters in either map.
  dp_->forget_metrics(kHighIf);
  dp_->forget_metrics(kLo);
  EXPECT_EQ(count(kHighIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 0u);
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 0u);
}

TEST_F(EndpointProgTest, UdpAndIcmpAreForwardedToo) {
  for (uint8_t proto : {uint8_t{17}, uint8_t{1}}) {
    Ipv4Spec s;
    s.proto = proto;
    s.saddr = ip4("172.18.0.2");
    s.daddr = ip4("172.18.0.3");
    Bytes in = ipv4_frame(kGwA, kMacA, s);
    RunResult r = from_container(in);
    ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT)) << int(proto);
    Bytes want = in;
    std::memcpy(&want[0], kMacB.data(), 6);
    std::memcpy(&want[6], kGwB.data(), 6);
    EXPECT_EQ(r.out, want);
  }
}

TEST_F(EndpointProgTest, SpoofedSourceIpIsDropped) {
  Ipv4Spec s;
  s.saddr = ip4("172.18.0.9");
  s.daddr = ip4("172.18.0.3");
  expect_drop(ipv4_frame(kGwA, kMacA, s), BPFNET_DROP_INVALID_SIP);
  EXPECT_EQ(count(kPeerIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 0u);
}

TEST_F(EndpointProgTest, SpoofedSourceMacIsDropped) {
  Ipv4Spec s;
  s.saddr = ip4("172.18.0.2");
  s.daddr = ip4("172.18.0.3");
  expect_drop(ipv4_frame(kGwA, kMacB, s), BPFNET_DROP_INVALID_SMAC);
}

TEST_F(EndpointProgTest, OtherNetworkEndpointIsIsolated) {
  expect_drop(tcp_from_a("172.19.0.2"), BPFNET_DROP_ISOLATION);
  // Unassigned addresses of another network too.
  expect_drop(tcp_from_a("172.19.0.77"), BPFNET_DROP_ISOLATION);
  EXPECT_EQ(count(kOtherNetIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 0u);
}

TEST_F(EndpointProgTest, IccDisabledDropsPeerTrafficButNotGateway) {
  load(BPFNET_NET_F_MASQUERADE, BPFNET_NET_F_ICC);
  expect_drop(tcp_from_a("172.18.0.3"), BPFNET_DROP_ICC);
  EXPECT_EQ(from_container(tcp_from_a("172.18.0.1")).retval, static_cast<uint32_t>(TC_ACT_OK));
}

TEST_F(EndpointProgTest, GatewayAndBeyondGoToHostStackUnchanged) {
  for (const char* dst : {"172.18.0.1", "10.99.0.1", "172.19.0.1"}) {
    Bytes in = tcp_from_a(dst);
    RunResult r = from_container(in);
    EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK)) << dst;
    EXPECT_EQ(r.out, in) << dst;
  }
}

TEST_F(EndpointProgTest, UnassignedAddressInOwnSubnetIsDropped) {
  expect_drop(tcp_from_a("172.18.0.200"), BPFNET_DROP_NO_ENDPOINT);
}

TEST_F(EndpointProgTest, InternalNetworkStaysInsideItsSubnet) {
  load(BPFNET_NET_F_ICC | BPFNET_NET_F_INTERNAL, BPFNET_NET_F_ICC);
  expect_drop(tcp_from_a("10.99.0.1"), BPFNET_DROP_INTERNAL);
  expect_drop(tcp_from_a("172.19.0.1"), BPFNET_DROP_ISOLATION);
  EXPECT_EQ(from_container(tcp_from_a("172.18.0.1")).retval, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(from_container(tcp_from_a("172.18.0.3")).retval,
            static_cast<uint32_t>(TC_ACT_REDIRECT));
}

TEST_F(EndpointProgTest, NonIpv4IsDropped) {
  Bytes v6 = eth(kGwA, kMacA, 0x86dd);
  v6.resize(kEth + 40, 0);
  v6[kEth] = 0x60;
  expect_drop(v6, BPFNET_DROP_UNSUPPORTED_L3);
}

// BPF_PROG_TEST_RUN itself refuses IPv4 frames shorter than an IP header or
// with IHL < 5 (EINVAL), so those shapes cannot be fed here; the version
// check goes through the same drop path.
TEST_F(EndpointProgTest, BadIpv4VersionIsDropped) {
  Bytes in = tcp_from_a("172.18.0.3");
  in[kEth] = 0x65;
  expect_drop(in, BPFNET_DROP_MALFORMED);
}

TEST_F(EndpointProgTest, UnknownInterfaceIsDropped) {
  MapContents want = dp_->read_maps();
  want.endpoints_by_ifindex.erase(kLo);
  dp_->apply(datapath::diff(dp_->read_maps(), want));
  expect_drop(tcp_from_a("172.18.0.3"), BPFNET_DROP_UNKNOWN_ENDPOINT);
}

TEST_F(EndpointProgTest, ToContainerCountsAndPasses) {
  Bytes in = tcp_from_a("172.18.0.3");
  RunResult r = run_prog(dp_->to_container_prog_fd(), in);
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(r.out, in);
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 1u);
}

TEST_F(EndpointProgTest, MapDiffRewritesOnlyChangedEntries) {
  MapContents now = dp_->read_maps();
  MapContents want = now;
  want.networks[2].flags = 0;
  datapath::MapDelta delta = datapath::diff(now, want);
  EXPECT_EQ(delta.size(), 1u);
  dp_->apply(delta);
  EXPECT_EQ(dp_->read_maps(), want);
  EXPECT_TRUE(datapath::diff(dp_->read_maps(), want).empty());
}

}  // namespace
}  // namespace bpfnet::test
