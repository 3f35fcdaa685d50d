// BPF_PROG_TEST_RUN tests of the isolation holes of issue 12: martian
// destinations (a port published on 127.0.0.1 must not answer an
// interface), service VIPs scoped to their network, crafted ICMP errors, and
// direct access to container addresses from interfaces that are not theirs.
//
// Topology (see main.cc): "up0" is the uplink 192.0.2.1; the tc programs'
// sending endpoint is A (on lo, ifindex 1) on network 2; B and the service
// backend W are on network 1.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

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
using datapath::PortMapEntry;

constexpr uint32_t kLo = 1;
constexpr uint32_t kIfB = 42, kIfW = 43;
constexpr uint8_t kTcp = 6, kUdp = 17;
constexpr uint32_t XDP_DROP_ = 1, XDP_PASS_ = 2, XDP_REDIRECT_ = 4;
constexpr uint32_t kShot = TC_ACT_SHOT, kRedirect = TC_ACT_REDIRECT;

const Mac kMacA{0x02, 0x42, 0xac, 0x13, 0x00, 0x02};
const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
const Mac kMacW{0x02, 0x42, 0xac, 0x12, 0x00, 0x04};
const Mac kGwW{0x6e, 0, 0, 0, 0, 0x0c};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kRouter{0x02, 0, 0, 0, 0x02, 0x54};
const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kLoopback = ip4("127.0.0.1");
const uint32_t kClient = ip4("198.51.100.7");
const uint32_t kRemote = ip4("198.51.100.9");
const uint32_t kGw1 = ip4("172.18.0.1"), kIpB = ip4("172.18.0.3"), kIpW = ip4("172.18.0.4");
const uint32_t kVip = ip4("172.18.0.100");
const uint32_t kGw2 = ip4("172.19.0.1"), kIpA = ip4("172.19.0.2");

class IsolationProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    up0_ = if_nametoindex("up0");
    ASSERT_NE(up0_, 0u) << "test netns setup (main.cc) missing";
    const uint32_t flags = BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE;
    want_.networks[1] = NetworkEntry{1, ip4("172.18.0.0"), 16, kGw1, flags, 1500};
    want_.networks[2] = NetworkEntry{2, ip4("172.19.0.0"), 16, kGw2, flags, 1500};
    want_.add_endpoint(EndpointEntry{kLo, 2, kIpA, kMacA, kGwA});
    want_.add_endpoint(EndpointEntry{kIfB, 1, kIpB, kMacB, kGwB});
    want_.add_endpoint(EndpointEntry{kIfW, 1, kIpW, kMacW, kGwW});
    // Every address of the host, loopback included, as the daemon projects them.
    for (uint32_t a : {kHost, kLoopback, kGw1, kGw2}) want_.host_addrs[a] = 0;
    want_.uplinks[up0_] = datapath::UplinkEntry{up0_, kHost, kUp0};
    want_.add_portmap(PortMapEntry{kLoopback, 5353, kUdp, kIpB, 53});
    want_.add_portmap(PortMapEntry{0, 8080, kTcp, kIpB, 80});
    // Service on network 1: VIP:80 -> W, published on 9090.
    want_.backends[1] = kIpW;
    want_.vips[kVip] = 1;
    want_.add_service(datapath::ServiceEntry{kVip, 80, kTcp, 7, 251, 0});
    want_.add_portmap(PortMapEntry{0, 9090, kTcp, kVip, 80});
    sync();
    fill_maglev(7, 1);
  }
  void sync() { dp_->apply(datapath::diff(dp_->read_maps(), want_)); }
  // Every slot of service table `index` to backend `id`.
  void fill_maglev(uint32_t index, uint32_t id) {
    std::vector<std::pair<uint32_t, uint32_t>> slots;
    for (uint32_t s = 0; s < 251; ++s) slots.emplace_back(s, id);
    dp_->write_maglev(index, 251, slots);
  }

  RunResult xdp(const Bytes& f) { return run_prog(dp_->xdp_uplink_prog_fd(), f); }
  RunResult tc_uplink(const Bytes& f) { return run_prog(dp_->tc_uplink_prog_fd(), f, 1, up0_); }
  RunResult from_a(const Bytes& f) { return run_prog(dp_->from_container_prog_fd(), f); }

  uint64_t count(uint32_t ifindex, uint8_t reason) {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.ifindex == ifindex && row.reason == reason && row.dir == 0) n += row.packets;
    return n;
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
  static Bytes udp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp,
                   uint16_t dp) {
    Ipv4Spec spec;
    spec.proto = kUdp;
    spec.saddr = s;
    spec.daddr = d;
    spec.sport = sp;
    spec.dport = dp;
    return ipv4_frame(dst, src, spec);
  }

  static void expect_valid_checksums(const Bytes& f) {
    EXPECT_EQ(get16(f, kEth + 10), ipv4_header_checksum(f)) << "IP checksum";
    size_t l4 = kEth + (f[kEth] & 0xf) * 4;
    size_t field = f[kEth + 9] == kTcp ? 16 : f[kEth + 9] == kUdp ? 6 : 2;
    EXPECT_EQ(get16(f, l4 + field), l4_checksum(f)) << "L4 checksum";
  }

  std::unique_ptr<datapath::Datapath> dp_;
  MapContents want_;
  uint32_t up0_ = 0;
};

// Issue 12, item 1: a neighbour on the uplink sends 127.0.0.1:5353 to the
// host's MAC; the 127.0.0.1 binding must not match.
TEST_F(IsolationProgTest, LoopbackBoundPortIsNotReachableFromTheUplink) {
  Bytes in = udp(kUp0, kClientMac, kClient, kLoopback, 40000, 5353);
  EXPECT_EQ(xdp(in).retval, XDP_DROP_);
  EXPECT_EQ(count(kLo, BPFNET_DROP_MARTIAN), 1u);
  EXPECT_EQ(tc_uplink(in).retval, kShot);
  EXPECT_EQ(count(up0_, BPFNET_DROP_MARTIAN), 1u);
  // Anywhere in 127/8 and 0/8, any protocol: martians.
  EXPECT_EQ(tc_uplink(tcp(kUp0, kClientMac, kClient, ip4("127.1.2.3"), 40000, 8080)).retval, kShot);
  EXPECT_EQ(xdp(udp(kUp0, kClientMac, kClient, ip4("0.0.0.0"), 40000, 5353)).retval, XDP_DROP_);
  EXPECT_EQ(count(up0_, BPFNET_DROP_MARTIAN), 2u);
  EXPECT_EQ(count(kLo, BPFNET_DROP_MARTIAN), 2u);
  EXPECT_EQ(count(kLo, BPFNET_OK), 0u) << "nothing forwarded";
  // The host's own address on that port: no binding there, a host service.
  EXPECT_EQ(xdp(udp(kUp0, kClientMac, kClient, kHost, 40000, 5353)).retval, XDP_PASS_);
  // What is published on every address still is.
  EXPECT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 40001, 8080)).retval, XDP_REDIRECT_);
}

TEST_F(IsolationProgTest, LoopbackBoundPortIsNotReachableFromAContainer) {
  EXPECT_EQ(from_a(udp(kGwA, kMacA, kIpA, kLoopback, 40000, 5353)).retval, kShot);
  EXPECT_EQ(from_a(tcp(kGwA, kMacA, kIpA, ip4("127.0.0.53"), 40000, 53)).retval, kShot);
  EXPECT_EQ(count(kLo, BPFNET_DROP_MARTIAN), 2u);
  EXPECT_EQ(count(kLo, BPFNET_OK), 0u);
}

// Issue 12, item 2: the VIP of a service on network 1 is not reachable from
// a container of network 2; the service's published port is.
TEST_F(IsolationProgTest, ServiceVipIsScopedToItsNetwork) {
  RunResult r = from_a(tcp(kGwA, kMacA, kIpA, kVip, 41000, 80));
  EXPECT_EQ(r.retval, kShot);
  EXPECT_EQ(count(kLo, BPFNET_DROP_ISOLATION), 1u);
  EXPECT_TRUE(dp_->read_conntrack().empty()) << "no flow set up";
  // Another port of the VIP: the same drop.
  EXPECT_EQ(from_a(udp(kGwA, kMacA, kIpA, kVip, 41000, 81)).retval, kShot);
  EXPECT_EQ(count(kLo, BPFNET_DROP_ISOLATION), 2u);

  // The published port, through the host's address, leads to the backend W
  // as any published port does: the client keeps its address.
  r = from_a(tcp(kGwA, kMacA, kIpA, kHost, 41001, 9090));
  ASSERT_EQ(r.retval, kRedirect);
  EXPECT_EQ(r.out, routed(tcp(kMacW, kGwW, kIpA, kIpW, 41001, 80)));
  expect_valid_checksums(r.out);
  EXPECT_EQ(count(kLo, BPFNET_OK), 1u);
}

// Issue 12, item 3: A (network 2) has a masqueraded flow of its own and
// sends ICMP errors quoting it to B (network 1). Not translated: the error
// meets the isolation drop as any packet from A to B does.
TEST_F(IsolationProgTest, IcmpErrorQuotingOwnFlowDoesNotCrossNetworks) {
  RunResult r = from_a(udp(kGwA, kMacA, kIpA, kRemote, 36000, 53));
  ASSERT_EQ(r.retval, kRedirect) << "A's masqueraded flow";
  const Bytes received = udp(kMacA, kGwA, kRemote, kIpA, 53, 36000);  // its reply, as A got it
  for (uint32_t target : {kIpB, kIpW}) {
    Bytes err = icmp_error_frame(kGwA, kMacA, kIpA, target, 3, 3, received);
    EXPECT_EQ(from_a(err).retval, kShot);
  }
  EXPECT_EQ(count(kLo, BPFNET_DROP_ISOLATION), 2u);
  EXPECT_EQ(count(kLo, BPFNET_OK), 1u) << "only the flow's own packet went through";
}

// The same error sent where it belongs, to the flow's remote end: translated
// back to the host's address and the flow's port, every byte checked.
TEST_F(IsolationProgTest, IcmpErrorAboutOwnFlowToItsSourceIsTranslated) {
  RunResult r = from_a(udp(kGwA, kMacA, kIpA, kRemote, 36001, 53));
  ASSERT_EQ(r.retval, kRedirect);
  const uint16_t nport = get16(r.out, kEth + 20);
  Bytes err = icmp_error_frame(kGwA, kMacA, kIpA, kRemote, 3, 3,
                               udp(kMacA, kGwA, kRemote, kIpA, 53, 36001));
  RunResult t = from_a(err);
  ASSERT_EQ(t.retval, kRedirect);
  // What the remote must see: the error about what it sent, kRemote:53 ->
  // kHost:nport, from the host's address, out of up0 to its next hop.
  Bytes want = icmp_error_frame(kRouter, kUp0, kHost, kRemote, 3, 3,
                                udp(kUp0, kRouter, kRemote, kHost, 53, nport));
  // The quoted UDP checksum is left alone (it covers data the error lacks).
  const size_t quoted_udp_sum = kEth + 20 + 8 + 20 + 6;
  put16(want, quoted_udp_sum, get16(t.out, quoted_udp_sum));
  put16(want, kEth + 20 + 2, 0);
  put16(want, kEth + 20 + 2, l4_checksum(want));
  EXPECT_EQ(t.out, routed(want));
  expect_valid_checksums(t.out);
  EXPECT_EQ(get16(t.out, kEth + 20 + 8 + 10), ipv4_header_checksum(t.out, kEth + 20 + 8))
      << "quoted IP checksum";
}

// From the uplink: an error addressed to a container instead of the quoted
// packet's source, or quoting a flow between two containers, is direct
// access to a container: dropped, not translated and not passed up.
TEST_F(IsolationProgTest, IcmpErrorFromUplinkNeverReachesAContainerDirectly) {
  ASSERT_EQ(xdp(tcp(kUp0, kClientMac, kClient, kHost, 40000, 8080)).retval, XDP_REDIRECT_);
  Bytes quoted = tcp(kClientMac, kUp0, kHost, kClient, 8080, 40000, 0x12);  // B's reply, sent
  Bytes to_b = icmp_error_frame(kUp0, kClientMac, kClient, kIpB, 3, 3, quoted);
  EXPECT_EQ(tc_uplink(to_b).retval, kShot);
  EXPECT_EQ(count(up0_, BPFNET_DROP_NO_PORTMAP), 1u);

  // A reaches B by its published port (hairpin); a neighbour quotes that flow to A.
  ASSERT_EQ(from_a(tcp(kGwA, kMacA, kIpA, kHost, 41000, 8080)).retval, kRedirect);
  Bytes hairpin = tcp(kMacB, kGwB, kIpA, kIpB, 41000, 80);
  Bytes to_a = icmp_error_frame(kUp0, kClientMac, kClient, kIpA, 3, 3, hairpin);
  EXPECT_EQ(tc_uplink(to_a).retval, kShot);
  EXPECT_EQ(count(up0_, BPFNET_DROP_NO_PORTMAP), 2u);
  // An error quoting nothing we know, to a container: the same.
  Bytes unknown = icmp_error_frame(kUp0, kClientMac, kClient, kIpB, 3, 3,
                                   tcp(kUp0, kMacB, kIpB, kClient, 1, 2));
  EXPECT_EQ(tc_uplink(unknown).retval, kShot);
  EXPECT_EQ(count(up0_, BPFNET_DROP_NO_PORTMAP), 3u);
  EXPECT_EQ(count(up0_, BPFNET_OK), 0u);

  // The legitimate error, to the host about B's reply, is translated to B.
  Bytes legit = icmp_error_frame(kUp0, kClientMac, kClient, kHost, 3, 3, quoted);
  RunResult t = tc_uplink(legit);
  ASSERT_EQ(t.retval, kRedirect);
  EXPECT_EQ(get32(t.out, kEth + 16), kIpB) << "outer destination";
  EXPECT_EQ(get32(t.out, kEth + 28 + 12), kIpB) << "quoted source";
  EXPECT_EQ(get16(t.out, kEth + 28 + 20), 80) << "quoted source port";
  expect_valid_checksums(t.out);
}

// Direct access from a host interface that is not the container's own (not
// an uplink: nothing of bpfnet runs there): the kernel routes the packet to
// the container's veth, whose egress program drops it.
TEST_F(IsolationProgTest, ToContainerRefusesWhatTheHostRoutesInFromElsewhere) {
  const uint32_t veth = up0_;  // stands for a container's host veth
  auto to_container = [&](uint32_t ingress) {
    Bytes f = udp(kMacB, kGwB, kClient, kIpB, 40000, 53);
    RunResult r;
    r.out.resize(f.size() + 256);
    struct __sk_buff ctx {};
    ctx.ifindex = veth;
    ctx.ingress_ifindex = ingress;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data(), .data_out = r.out.data(),
                .data_size_in = static_cast<uint32_t>(f.size()),
                .data_size_out = static_cast<uint32_t>(r.out.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof(ctx));
    EXPECT_EQ(bpf_prog_test_run_opts(dp_->to_container_prog_fd(), &opts), 0);
    return opts.retval;
  };
  EXPECT_EQ(to_container(kLo), kShot) << "routed in from another interface";
  EXPECT_EQ(to_container(0), static_cast<uint32_t>(TC_ACT_OK)) << "sent by the host itself";
  EXPECT_EQ(to_container(veth), static_cast<uint32_t>(TC_ACT_OK)) << "its own veth (ARP replies)";
  uint64_t dropped = 0;
  for (const auto& row : dp_->read_metrics())
    if (row.ifindex == veth && row.reason == BPFNET_DROP_DIRECT_ACCESS &&
        row.dir == BPFNET_DIR_TO_CONTAINER)
      dropped += row.packets;
  EXPECT_EQ(dropped, 1u);
}

}  // namespace
}  // namespace bpfnet::test
