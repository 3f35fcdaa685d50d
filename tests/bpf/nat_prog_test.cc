// BPF_PROG_TEST_RUN tests of published ports, conntrack and NAT
// (bpf/uplink.bpf.c and the NAT paths of bpf/endpoint.bpf.c). Every
// rewritten byte is compared against an expected frame built independently,
// and every checksum is recomputed from scratch (packet.h).
//
// Topology (see main.cc): the tests run in their own netns; "up0" is the
// uplink 192.0.2.1 with its default route via 192.0.2.254; the tc programs'
// sending endpoint is A on loopback (ifindex 1).
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <algorithm>
#include <memory>
#include <set>

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

constexpr uint32_t kLo = 1;
constexpr uint32_t kB = 42;
constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;
constexpr uint32_t XDP_DROP_ = 1, XDP_PASS_ = 2, XDP_REDIRECT_ = 4;

const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kRouter{0x02, 0, 0, 0, 0x02, 0x54};
const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kClient = ip4("198.51.100.7");
const uint32_t kRemote = ip4("198.51.100.9");
const uint32_t kIpA = ip4("172.18.0.2");
const uint32_t kIpB = ip4("172.18.0.3");
const uint32_t kGw = ip4("172.18.0.1");

class NatProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    up0_ = if_nametoindex("up0");
    ASSERT_NE(up0_, 0u) << "test netns setup (main.cc) missing";
    want_.networks[1] = NetworkEntry{
        1, ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE, 1500};
    want_.add_endpoint(EndpointEntry{kLo, 1, kIpA, kMacA, kGwA});
    want_.add_endpoint(EndpointEntry{kB, 1, kIpB, kMacB, kGwB});
    want_.host_addrs[kHost] = 0;
    want_.host_addrs[kGw] = 0;
    want_.uplinks[up0_] = datapath::UplinkEntry{up0_, kHost, kUp0};
    publish(PortMapEntry{0, 8080, kTcp, kIpB, 80});
    publish(PortMapEntry{0, 5353, kUdp, kIpB, 53});
    publish(PortMapEntry{0, 9090, kTcp, kIpA, 80});
  }

  void publish(const PortMapEntry& pm) {
    want_.add_portmap(pm);
    sync();
  }
  void unpublish(uint16_t port, uint8_t proto) {
    want_.portmaps.erase(datapath::PortMapKey{0, port, proto});
    sync();
  }
  void sync() { dp_->apply(datapath::diff(dp_->read_maps(), want_)); }

  RunResult xdp(const Bytes& f) { return run_prog(dp_->xdp_uplink_prog_fd(), f); }
  RunResult tc_uplink(const Bytes& f) { return run_prog(dp_->tc_uplink_prog_fd(), f, 1, up0_); }
  RunResult from_a(const Bytes& f) { return run_prog(dp_->from_container_prog_fd(), f); }

  uint64_t count(uint32_t ifindex, uint8_t reason) {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.ifindex == ifindex && row.reason == reason && row.dir == 0) n += row.packets;
    return n;
  }

  // The CT entry keyed by this tuple (host order), if any.
  std::optional<datapath::CtEntry> ct(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
                                      uint8_t proto) {
    struct bpfnet_ct_key k {};
    k.saddr = htonl(s);
    k.daddr = htonl(d);
    k.sport = htons(sp);
    k.dport = htons(dp);
    k.proto = proto;
    for (const auto& e : dp_->read_conntrack())
      if (std::memcmp(e.key.data(), &k, sizeof(k)) == 0) return e;
    return std::nullopt;
  }

  static Bytes tcp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
                   uint8_t flags = 0x02) {
    Ipv4Spec spec;
    spec.saddr = s;
    spec.daddr = d;
    spec.sport = sp;
    spec.dport = dp;
    spec.tcp_flags = flags;
    return ipv4_frame(dst, src, spec);
  }
  static Bytes udp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
                   bool zero_csum = false) {
    Ipv4Spec spec;
    spec.proto = kUdp;
    spec.saddr = s;
    spec.daddr = d;
    spec.sport = sp;
    spec.dport = dp;
    spec.udp_zero_csum = zero_csum;
    return ipv4_frame(dst, src, spec);
  }

  // Every checksum of the frame is what a fresh computation gives.
  static void expect_valid_checksums(const Bytes& f) {
    EXPECT_EQ(get16(f, kEth + 10), ipv4_header_checksum(f)) << "IP checksum";
    uint8_t proto = f[kEth + 9];
    size_t l4 = kEth + (f[kEth] & 0xf) * 4;
    if (proto == kTcp) {
      EXPECT_EQ(get16(f, l4 + 16), l4_checksum(f)) << "TCP checksum";
    }
    if (proto == kUdp && get16(f, l4 + 6) != 0) {
      EXPECT_EQ(get16(f, l4 + 6), l4_checksum(f)) << "UDP checksum";
    }
    if (proto == kIcmp) {
      EXPECT_EQ(get16(f, l4 + 2), l4_checksum(f)) << "ICMP checksum";
    }
  }

  std::unique_ptr<datapath::Datapath> dp_;
  MapContents want_;
  uint32_t up0_ = 0;
};

TEST_F(NatProgTest, XdpPublishedPortDnatsNewTcpFlowKeepingClientAddress) {
  Bytes in = tcp(kUp0, kClientMac, kClient, kHost, 40000, 8080);
  RunResult r = xdp(in);
  ASSERT_EQ(r.retval, XDP_REDIRECT_);
  // Expected: the same frame built for the container, client address kept.
  Bytes want = tcp(kMacB, kGwB, kClient, kIpB, 40000, 80);
  EXPECT_EQ(r.out, routed(want));
  expect_valid_checksums(r.out);

  auto fwd = ct(kClient, kHost, 40000, 8080, kTcp);
  auto rev = ct(kIpB, kClient, 80, 40000, kTcp);
  ASSERT_TRUE(fwd && rev) << "both conntrack directions";
  EXPECT_EQ(fwd->state, BPFNET_CT_NEW);
  EXPECT_EQ(rev->flags, BPFNET_CT_F_DNAT | BPFNET_CT_F_REPLY);
  EXPECT_EQ(count(kLo, BPFNET_OK), 1u);
}

TEST_F(NatProgTest, EstablishedFlowReusesConntrackAndSurvivesUnpublish) {
  xdp(tcp(kUp0, kClientMac, kClient, kHost, 40001, 8080));
  // Reply SYN-ACK from the container, then the client's ACK.
  RunResult synack = from_a(tcp(kGwA, kMacA, kIpA, kClient, 80, 40001, 0x12));
  (void)synack;  // from A, not B: not part of this flow (see reverse test)
  size_t entries = dp_->read_conntrack().size();
  unpublish(8080, kTcp);
  Bytes ack = tcp(kUp0, kClientMac, kClient, kHost, 40001, 8080, 0x10);
  RunResult r = xdp(ack);
  ASSERT_EQ(r.retval, XDP_REDIRECT_) << "established flow must outlive its mapping";
  EXPECT_EQ(r.out, routed(tcp(kMacB, kGwB, kClient, kIpB, 40001, 80, 0x10)));
  EXPECT_EQ(dp_->read_conntrack().size(), entries);
  EXPECT_EQ(ct(kClient, kHost, 40001, 8080, kTcp)->state, BPFNET_CT_ESTABLISHED);
  // A new flow to the removed mapping is not translated.
  RunResult fresh = xdp(tcp(kUp0, kClientMac, kClient, kHost, 40002, 8080));
  EXPECT_EQ(fresh.retval, XDP_PASS_);
}

// Under conntrack pressure the LRU can evict one half of a flow and keep the
// other. A packet of the flow then creates it anew over its own orphan,
// rather than being refused until the orphan expires.
TEST_F(NatProgTest, FlowWhoseForwardHalfWasEvictedIsRecreated) {
  for (uint8_t proto : {kTcp, kUdp}) {
    uint16_t port = proto == kTcp ? 8080 : 5353;
    Bytes in = proto == kTcp ? tcp(kUp0, kClientMac, kClient, kHost, 40100, port)
                             : udp(kUp0, kClientMac, kClient, kHost, 40100, port);
    ASSERT_EQ(xdp(in).retval, XDP_REDIRECT_);
    auto fwd = ct(kClient, kHost, 40100, port, proto);
    ASSERT_TRUE(fwd);
    dp_->delete_conntrack({fwd->key});
    ASSERT_FALSE(ct(kClient, kHost, 40100, port, proto));
    uint64_t refused = count(kLo, BPFNET_DROP_CT_INSERT);
    RunResult r = xdp(in);
    EXPECT_EQ(r.retval, XDP_REDIRECT_) << "proto " << int(proto);
    EXPECT_EQ(count(kLo, BPFNET_DROP_CT_INSERT), refused);
    EXPECT_TRUE(ct(kClient, kHost, 40100, port, proto)) << "forward half back";
  }
  // (XDP test runs count on the ingress of the run, lo.)
  // Another flow's live reverse half is still a collision: two published
  // ports of one container port, the same client address and port.
  publish(PortMapEntry{0, 8081, kTcp, kIpB, 80});
  ASSERT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 40200, 8080)).retval, XDP_REDIRECT_);
  uint64_t refused = count(kLo, BPFNET_DROP_CT_INSERT);
  EXPECT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 40200, 8081)).retval, XDP_DROP_);
  EXPECT_EQ(count(kLo, BPFNET_DROP_CT_INSERT), refused + 1);
}

// A flow's conntrack entry caches where its packets go (the endpoint's veth
// and MACs, struct bpfnet_ct_dest). When the endpoint changes under a live
// flow (the container reconnected: a new veth, a new MAC), the next packet
// goes to the new one, on both uplink paths and on the reply path.
TEST_F(NatProgTest, EstablishedFlowFollowsItsEndpointWhenItChanges) {
  const Mac kMacB2{0x02, 0x42, 0xac, 0x12, 0x00, 0x33};
  const Mac kGwB2{0x6e, 0, 0, 0, 0, 0x3b};
  Bytes in = udp(kUp0, kClientMac, kClient, kHost, 40300, 5353);
  ASSERT_EQ(xdp(in).retval, XDP_REDIRECT_);
  ASSERT_EQ(xdp(in).out, routed(udp(kMacB, kGwB, kClient, kIpB, 40300, 53))) << "cached once";
  ASSERT_EQ(tc_uplink(in).out, routed(udp(kMacB, kGwB, kClient, kIpB, 40300, 53)));

  want_.endpoints_by_ifindex.erase(kB);
  want_.add_endpoint(EndpointEntry{kB + 1, 1, kIpB, kMacB2, kGwB2});
  sync();
  RunResult r = xdp(in);
  ASSERT_EQ(r.retval, XDP_REDIRECT_);
  EXPECT_EQ(r.out, routed(udp(kMacB2, kGwB2, kClient, kIpB, 40300, 53))) << "XDP: the new endpoint";
  expect_valid_checksums(r.out);
  RunResult t = tc_uplink(in);
  EXPECT_EQ(t.out, routed(udp(kMacB2, kGwB2, kClient, kIpB, 40300, 53))) << "tc: the new endpoint";

  // The container gone: the flow's packets are no longer redirected to it.
  want_.endpoints_by_ifindex.erase(kB + 1);
  want_.endpoints_by_ip.erase(kIpB);
  sync();
  EXPECT_EQ(xdp(in).retval, XDP_PASS_) << "no endpoint: left to tc (FIB)";
}

TEST_F(NatProgTest, ReplyIsReverseTranslatedAndSentOutOfTheUplink) {
  // Flow to A's published port 9090 -> 80.
  ASSERT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 41000, 9090)).retval, XDP_REDIRECT_);
  Bytes reply = tcp(kGwA, kMacA, kIpA, kClient, 80, 41000, 0x12);
  RunResult r = from_a(reply);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  // Source back to the host's address and port; MACs of up0 and its next hop.
  EXPECT_EQ(r.out, routed(tcp(kRouter, kUp0, kHost, kClient, 9090, 41000, 0x12)));
  expect_valid_checksums(r.out);
  // Per direction: a SYN-ACK alone does not establish A's (conntrack_prog_test.cc).
  EXPECT_EQ(ct(kIpA, kClient, 80, 41000, kTcp)->state, BPFNET_CT_NEW);
}

TEST_F(NatProgTest, UdpDnatAndReverseKeepChecksumsAndZeroChecksum) {
  RunResult r = xdp(udp(kUp0, kClientMac, kClient, kHost, 5000, 5353));
  ASSERT_EQ(r.retval, XDP_REDIRECT_);
  EXPECT_EQ(r.out, routed(udp(kMacB, kGwB, kClient, kIpB, 5000, 53)));
  expect_valid_checksums(r.out);

  r = xdp(udp(kUp0, kClientMac, kClient, kHost, 5001, 5353, /*zero_csum=*/true));
  ASSERT_EQ(r.retval, XDP_REDIRECT_);
  EXPECT_EQ(r.out, routed(udp(kMacB, kGwB, kClient, kIpB, 5001, 53, true)));
  EXPECT_EQ(get16(r.out, kEth + 20 + 6), 0) << "a zero UDP checksum stays zero";

  // Reverse, in tc: A publishes UDP too.
  publish(PortMapEntry{0, 5454, kUdp, kIpA, 53});
  xdp(udp(kUp0, kClientMac, kClient, kHost, 5002, 5454, true));
  r = from_a(udp(kGwA, kMacA, kIpA, kClient, 53, 5002, true));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, routed(udp(kRouter, kUp0, kHost, kClient, 5454, 5002, true)));
  xdp(udp(kUp0, kClientMac, kClient, kHost, 5003, 5454));
  r = from_a(udp(kGwA, kMacA, kIpA, kClient, 53, 5003));
  EXPECT_EQ(r.out, routed(udp(kRouter, kUp0, kHost, kClient, 5454, 5003)));
  expect_valid_checksums(r.out);
}

TEST_F(NatProgTest, TcUplinkDoesWhatXdpDoes) {
  RunResult r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 42000, 8080));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, routed(tcp(kMacB, kGwB, kClient, kIpB, 42000, 80)));
  expect_valid_checksums(r.out);
  EXPECT_EQ(count(up0_, BPFNET_OK), 1u);
}

TEST_F(NatProgTest, UnpublishedPortsAndDirectContainerAccessAreHandled) {
  // Host address, port not published: a host service, passed up.
  EXPECT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 43000, 22)).retval, XDP_PASS_);
  // A container address from outside, bypassing any mapping: dropped, counted.
  RunResult r = xdp(tcp(kUp0, kClientMac, kClient, kIpB, 43000, 80));
  EXPECT_EQ(r.retval, XDP_DROP_);
  EXPECT_EQ(count(kLo, BPFNET_DROP_NO_PORTMAP), 1u);
  r = tc_uplink(udp(kUp0, kClientMac, kClient, ip4("172.18.0.99"), 43000, 53));
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(count(up0_, BPFNET_DROP_NO_PORTMAP), 1u);
  // Not ours at all: passed.
  EXPECT_EQ(xdp(tcp(kUp0, kClientMac, kClient, ip4("203.0.113.5"), 43000, 80)).retval, XDP_PASS_);
}

TEST_F(NatProgTest, MasqueradeRewritesSourceToUplinkAndRepliesComeBack) {
  Bytes out = udp(kGwA, kMacA, kIpA, kRemote, 33000, 53);
  RunResult r = from_a(out);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_GE(nport, BPFNET_NAT_PORT_MIN);
  EXPECT_LE(nport, BPFNET_NAT_PORT_MAX);
  EXPECT_EQ(r.out, routed(udp(kRouter, kUp0, kHost, kRemote, nport, 53)));
  expect_valid_checksums(r.out);

  RunResult back = xdp(udp(kUp0, kRouter, kRemote, kHost, 53, nport));
  ASSERT_EQ(back.retval, XDP_REDIRECT_);
  EXPECT_EQ(back.out, routed(udp(kMacA, kGwA, kRemote, kIpA, 53, 33000)));
  expect_valid_checksums(back.out);

  // A second packet of the flow keeps its port.
  r = from_a(out);
  EXPECT_EQ(get16(r.out, kEth + 20), nport);
}

TEST_F(NatProgTest, MasqueradeOfTcpAndIcmpEcho) {
  RunResult r = from_a(tcp(kGwA, kMacA, kIpA, kRemote, 34000, 443));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_EQ(r.out, routed(tcp(kRouter, kUp0, kHost, kRemote, nport, 443)));
  expect_valid_checksums(r.out);

  Ipv4Spec ping;
  ping.proto = kIcmp;
  ping.saddr = kIpA;
  ping.daddr = kRemote;
  ping.sport = 0x77;  // echo identifier
  r = from_a(ipv4_frame(kGwA, kMacA, ping));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nid = get16(r.out, kEth + 20 + 4);
  EXPECT_GE(nid, BPFNET_NAT_PORT_MIN);
  Ipv4Spec want = ping;
  want.saddr = kHost;
  want.sport = nid;
  EXPECT_EQ(r.out, routed(ipv4_frame(kRouter, kUp0, want)));
  expect_valid_checksums(r.out);

  Ipv4Spec pong;
  pong.proto = kIcmp;
  pong.icmp_type = 0;
  pong.saddr = kRemote;
  pong.daddr = kHost;
  pong.dport = nid;
  RunResult back = xdp(ipv4_frame(kUp0, kRouter, pong));
  ASSERT_EQ(back.retval, XDP_REDIRECT_);
  Ipv4Spec pong_want = pong;
  pong_want.daddr = kIpA;
  pong_want.dport = 0x77;
  EXPECT_EQ(back.out, routed(ipv4_frame(kMacA, kGwA, pong_want)));
  expect_valid_checksums(back.out);
}

TEST_F(NatProgTest, SnatPortAllocationSkipsTakenPorts) {
  // Take every even port towards kRemote:53: the allocator must find an odd one.
  int fd = dp_->map_fd(BPFNET_MAP_CT);
  for (uint32_t p = BPFNET_NAT_PORT_MIN; p <= BPFNET_NAT_PORT_MAX; p += 2) {
    struct bpfnet_ct_key k {};
    k.saddr = htonl(kRemote);
    k.daddr = htonl(kHost);
    k.sport = htons(53);
    k.dport = htons(static_cast<uint16_t>(p));
    k.proto = kUdp;
    struct bpfnet_ct_value v {};
    v.expires_ns = ~0ULL;  // live: an expired flow's port is free again
    ASSERT_EQ(bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST), 0);
  }
  RunResult r = from_a(udp(kGwA, kMacA, kIpA, kRemote, 35000, 53));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(get16(r.out, kEth + 20) % 2, 1) << "picked a port another flow holds";

  // Every port taken: refused with its own reason.
  for (uint32_t p = BPFNET_NAT_PORT_MIN + 1; p <= BPFNET_NAT_PORT_MAX; p += 2) {
    struct bpfnet_ct_key k {};
    k.saddr = htonl(kRemote);
    k.daddr = htonl(kHost);
    k.sport = htons(53);
    k.dport = htons(static_cast<uint16_t>(p));
    k.proto = kUdp;
    struct bpfnet_ct_value v {};
    v.expires_ns = ~0ULL;
    bpf_map_update_elem(fd, &k, &v, BPF_ANY);
  }
  r = from_a(udp(kGwA, kMacA, kIpA, kRemote, 35001, 53));
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(count(kLo, BPFNET_DROP_NAT_NO_PORT), 1u);
}

TEST_F(NatProgTest, IcmpErrorForMasqueradedFlowIsTranslatedBack) {
  RunResult r = from_a(udp(kGwA, kMacA, kIpA, kRemote, 36000, 53));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  Bytes sent = r.out;  // what left the host: kHost:nport -> kRemote:53
  uint16_t nport = get16(sent, kEth + 20);

  Bytes err = icmp_error_frame(kUp0, kRouter, kRemote, kHost, 3, 3, sent);  // port unreachable
  EXPECT_EQ(xdp(err).retval, XDP_PASS_) << "XDP leaves ICMP errors to tc";
  RunResult t = tc_uplink(err);
  ASSERT_EQ(t.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  // Expected: the error as the container would have got it without NAT.
  // (It quotes the packet as it left the host: one hop spent.)
  Bytes orig = routed(udp(kGwA, kMacA, kIpA, kRemote, 36000, 53));
  Bytes want = icmp_error_frame(kMacA, kGwA, kRemote, kIpA, 3, 3, orig);
  // The quoted UDP checksum is not recomputed (it covers data the error lacks).
  put16(want, kEth + 20 + 8 + 20 + 6, get16(t.out, kEth + 20 + 8 + 20 + 6));
  put16(want, kEth + 20 + 2, 0);
  put16(want, kEth + 20 + 2, l4_checksum(want));
  EXPECT_EQ(t.out, routed(want));
  expect_valid_checksums(t.out);
  EXPECT_EQ(get16(t.out, kEth + 20 + 8 + 10), ipv4_header_checksum(t.out, kEth + 20 + 8))
      << "quoted IP checksum";
  (void)nport;
}

TEST_F(NatProgTest, FragmentationNeededForPublishedFlowIsTranslated) {
  // Container A answers a published flow; a router says the reply is too big.
  xdp(tcp(kUp0, kClientMac, kClient, kHost, 44000, 9090));
  Bytes reply = from_a(tcp(kGwA, kMacA, kIpA, kClient, 80, 44000, 0x12)).out;
  Bytes err = icmp_error_frame(kUp0, kRouter, ip4("192.0.2.254"), kHost, 3, 4, reply);
  RunResult t = tc_uplink(err);
  ASSERT_EQ(t.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  Bytes orig = tcp(kGwA, kMacA, kIpA, kClient, 80, 44000, 0x12);
  Bytes want = icmp_error_frame(kMacA, kGwA, ip4("192.0.2.254"), kIpA, 3, 4, orig);
  EXPECT_EQ(t.out.size(), want.size());
  EXPECT_EQ(get32(t.out, kEth + 16), kIpA) << "outer destination";
  EXPECT_EQ(get32(t.out, kEth + 28 + 12), kIpA) << "quoted source";
  EXPECT_EQ(get16(t.out, kEth + 28 + 20), 80) << "quoted source port";
  EXPECT_EQ(get16(t.out, kEth + 20 + 6), 1400) << "next-hop MTU kept";
  expect_valid_checksums(t.out);
  EXPECT_EQ(get16(t.out, kEth + 20 + 8 + 10), ipv4_header_checksum(t.out, kEth + 20 + 8));
}

TEST_F(NatProgTest, HairpinFromAnotherContainerKeepsItsAddress) {
  // A reaches B's published port through the host address.
  RunResult r = from_a(tcp(kGwA, kMacA, kIpA, kHost, 45000, 8080));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, routed(tcp(kMacB, kGwB, kIpA, kIpB, 45000, 80)));
  expect_valid_checksums(r.out);
  EXPECT_TRUE(ct(kIpB, kIpA, 80, 45000, kTcp).has_value());
}

TEST_F(NatProgTest, HairpinToItselfIsSourcedFromTheGateway) {
  RunResult r = from_a(tcp(kGwA, kMacA, kIpA, kGw, 46000, 9090));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_EQ(r.out, routed(tcp(kMacA, kGwA, kGw, kIpA, nport, 80)));
  expect_valid_checksums(r.out);
  // Its reply goes back to itself as from the published address.
  RunResult back = from_a(tcp(kGwA, kMacA, kIpA, kGw, 80, nport, 0x12));
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(back.out, routed(tcp(kMacA, kGwA, kGw, kIpA, 9090, 46000, 0x12)));
}

TEST_F(NatProgTest, TcpCloseAndSynReuseStartsANewFlow) {
  xdp(tcp(kUp0, kClientMac, kClient, kHost, 47000, 8080));
  xdp(tcp(kUp0, kClientMac, kClient, kHost, 47000, 8080, 0x04));  // RST
  EXPECT_EQ(ct(kClient, kHost, 47000, 8080, kTcp)->state, BPFNET_CT_CLOSING);
  EXPECT_EQ(ct(kIpB, kClient, 80, 47000, kTcp)->state, BPFNET_CT_CLOSING) << "both halves";
  unpublish(8080, kTcp);
  // Same tuple, new SYN: the closed flow does not carry it to the old backend.
  EXPECT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 47000, 8080)).retval, XDP_PASS_);
  EXPECT_FALSE(ct(kClient, kHost, 47000, 8080, kTcp).has_value());
}

}  // namespace
}  // namespace bpfnet::test
