// BPF_PROG_TEST_RUN tests of issue 12's items 5 and 7: fragments follow their
// flow (bpf/lib/frag.h), what masquerade cannot translate never leaves with a
// container's address, and routed hops answer an expired TTL and a packet too
// big for the next hop with ICMP (bpf/lib/pmtu.h, icmp_reply.h). Every output
// frame is compared whole against one built independently (packet.h), with
// checksums computed from scratch.
//
// Topology (main.cc): "up0" is the uplink 192.0.2.1/24, default route via
// 192.0.2.254; the tc programs' sending endpoint is A on loopback (ifindex 1).
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "datapath/events.h"
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
constexpr uint8_t kUdp = 17, kIcmp = 1, kGre = 47, kSctp = 132;
constexpr uint32_t XDP_PASS_ = 2, XDP_REDIRECT_ = 4;
constexpr uint32_t kRedirect = TC_ACT_REDIRECT, kShot = TC_ACT_SHOT, kOk = TC_ACT_OK;

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

// What a packet's header says, for frames built here.
struct Udp {
  uint32_t s, d;
  uint16_t sp, dp;
  uint8_t ttl = 64;
};

// A UDP datagram with `data_len` bytes of data, whole (DF set, as ipv4_frame
// builds it).
Bytes udp_whole(const Mac& dst, const Mac& src, const Udp& u, size_t data_len) {
  Ipv4Spec spec;
  spec.proto = kUdp;
  spec.saddr = u.s;
  spec.daddr = u.d;
  spec.sport = u.sp;
  spec.dport = u.dp;
  spec.ttl = u.ttl;
  spec.payload.resize(data_len);
  for (size_t i = 0; i < data_len; ++i) spec.payload[i] = static_cast<char>('a' + i % 26);
  return ipv4_frame(dst, src, spec);
}

// The same datagram as Linux fragments it: a first fragment with the UDP
// header and `first_len` - 8 bytes of data (first_len a multiple of 8), MF
// set, and the rest at offset first_len / 8. Both with IP id `id`.
std::pair<Bytes, Bytes> udp_fragments(const Mac& dst, const Mac& src, const Udp& u, size_t data_len,
                                      size_t first_len, uint16_t id = 0x777) {
  Bytes whole = udp_whole(dst, src, u, data_len);
  const size_t l4 = kEth + 20;
  Bytes first(whole.begin(), whole.begin() + l4 + first_len);
  Bytes later(whole.begin(), whole.begin() + l4);
  later.insert(later.end(), whole.begin() + l4 + first_len, whole.end());
  auto finish = [&](Bytes& f, uint16_t frag) {
    put16(f, kEth + 2, static_cast<uint16_t>(f.size() - kEth));
    put16(f, kEth + 4, id);
    put16(f, kEth + 6, frag);
    put16(f, kEth + 10, 0);
    put16(f, kEth + 10, ipv4_header_checksum(f));
  };
  finish(first, 0x2000);  // MF
  finish(later, static_cast<uint16_t>(first_len / 8));
  return {first, later};
}

// A packet of another protocol (no ports), 8 bytes of data.
Bytes portless(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint8_t proto) {
  Bytes b = eth(dst, src, 0x0800);
  b.resize(kEth + 28);
  b[kEth] = 0x45;
  put16(b, kEth + 2, 28);
  put16(b, kEth + 6, 0x4000);
  b[kEth + 8] = 64;
  b[kEth + 9] = proto;
  put32(b, kEth + 12, s);
  put32(b, kEth + 16, d);
  put16(b, kEth + 10, ipv4_header_checksum(b));
  return b;
}

// The ICMP error a router sends about `about` (a frame as its sender sent
// it): its IP header and first 8 bytes of data quoted.
Bytes icmp_reply(const Mac& dst, const Mac& src, uint32_t from, uint32_t to, uint8_t type,
                 uint8_t code, uint16_t mtu, const Bytes& about) {
  Bytes b = eth(dst, src, 0x0800);
  b.resize(kEth + 56);
  b[kEth] = 0x45;
  put16(b, kEth + 2, 56);
  b[kEth + 8] = 64;
  b[kEth + 9] = kIcmp;
  put32(b, kEth + 12, from);
  put32(b, kEth + 16, to);
  put16(b, kEth + 10, ipv4_header_checksum(b));
  b[kEth + 20] = type;
  b[kEth + 21] = code;
  put16(b, kEth + 26, mtu);
  std::copy(about.begin() + kEth, about.begin() + kEth + 28, b.begin() + kEth + 28);
  put16(b, kEth + 22, l4_checksum(b));
  return b;
}

void expect_valid_checksums(const Bytes& f) {
  EXPECT_EQ(get16(f, kEth + 10), ipv4_header_checksum(f)) << "IP checksum";
  if (f[kEth + 9] == kIcmp) {
    EXPECT_EQ(get16(f, kEth + 22), l4_checksum(f)) << "ICMP checksum";
  }
}

class FragPmtuProgTest : public ::testing::Test {
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
    want_.add_portmap(PortMapEntry{0, 5353, kUdp, kIpB, 53});
    want_.add_portmap(PortMapEntry{0, 5454, kUdp, kIpA, 53});
    dp_->apply(datapath::diff(dp_->read_maps(), want_));
  }
  void TearDown() override { set_up0_mtu(1500); }

  static void set_up0_mtu(int mtu) {
    ASSERT_EQ(std::system(("ip link set up0 mtu " + std::to_string(mtu)).c_str()), 0);
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

  std::unique_ptr<datapath::Datapath> dp_;
  MapContents want_;
  uint32_t up0_ = 0;
};

// ---------------------------------------------------------------- fragments

// A 4000-byte datagram to a published port, in fragments from the uplink:
// the first is translated as a whole datagram would be (its UDP checksum
// covers all of them), the later ones follow it to the container with their
// addresses rewritten. On XDP and on tc.
TEST_F(FragPmtuProgTest, LaterFragmentsOfAPublishedFlowReachTheContainer) {
  for (bool on_xdp : {true, false}) {
    SCOPED_TRACE(on_xdp ? "xdp" : "tc");
    uint16_t id = on_xdp ? 0x101 : 0x102;
    Udp in{kClient, kHost, 40000, 5353};
    auto [first, later] = udp_fragments(kUp0, kClientMac, in, 4000, 1480, id);
    Udp out{kClient, kIpB, 40000, 53, 63};
    auto [want_first, want_later] = udp_fragments(kMacB, kGwB, out, 4000, 1480, id);

    RunResult r1 = on_xdp ? xdp(first) : tc_uplink(first);
    ASSERT_EQ(r1.retval, on_xdp ? XDP_REDIRECT_ : kRedirect);
    EXPECT_EQ(r1.out, want_first);
    RunResult r2 = on_xdp ? xdp(later) : tc_uplink(later);
    ASSERT_EQ(r2.retval, on_xdp ? XDP_REDIRECT_ : kRedirect) << "the later fragment follows";
    EXPECT_EQ(r2.out, want_later);
    expect_valid_checksums(r2.out);
  }
}

// The container's answer in fragments goes back out of the uplink whole:
// source rewritten to the published address and port on the first, the
// address on the later one.
TEST_F(FragPmtuProgTest, FragmentedReplyOfAPublishedFlowLeavesTranslated) {
  ASSERT_EQ(tc_uplink(udp_whole(kUp0, kClientMac, {kClient, kHost, 40001, 5454}, 10)).retval,
            kRedirect);
  auto [first, later] = udp_fragments(kGwA, kMacA, {kIpA, kClient, 53, 40001}, 2500, 1480, 0x202);
  auto [want_first, want_later] =
      udp_fragments(kRouter, kUp0, {kHost, kClient, 5454, 40001, 63}, 2500, 1480, 0x202);
  RunResult r1 = from_a(first);
  ASSERT_EQ(r1.retval, kRedirect);
  EXPECT_EQ(r1.out, want_first);
  RunResult r2 = from_a(later);
  ASSERT_EQ(r2.retval, kRedirect);
  EXPECT_EQ(r2.out, want_later);
}

// Masquerade: the first fragment gets the flow's source port, the later ones
// the uplink's address; none leaves with the container's.
TEST_F(FragPmtuProgTest, MasqueradedFragmentsAllLeaveWithTheUplinkAddress) {
  auto [first, later] = udp_fragments(kGwA, kMacA, {kIpA, kRemote, 33000, 53}, 2000, 1480, 0x303);
  RunResult r1 = from_a(first);
  ASSERT_EQ(r1.retval, kRedirect);
  uint16_t nport = get16(r1.out, kEth + 20);
  EXPECT_GE(nport, BPFNET_NAT_PORT_MIN);
  auto [want_first, want_later] =
      udp_fragments(kRouter, kUp0, {kHost, kRemote, nport, 53, 63}, 2000, 1480, 0x303);
  EXPECT_EQ(r1.out, want_first);
  RunResult r2 = from_a(later);
  ASSERT_EQ(r2.retval, kRedirect);
  EXPECT_EQ(r2.out, want_later);
}

// A later fragment whose first was never seen: dropped with its reason where
// it would reach a container or leave masqueraded; the host's own are passed.
TEST_F(FragPmtuProgTest, LaterFragmentWithoutItsFirstIsDroppedAndCounted) {
  auto to_container = udp_fragments(kUp0, kClientMac, {kClient, kIpB, 40000, 53}, 2000, 1480, 9);
  EXPECT_EQ(tc_uplink(to_container.second).retval, kShot);
  EXPECT_EQ(count(up0_, BPFNET_DROP_FRAG_NO_FLOW), 1u);
  auto to_host = udp_fragments(kUp0, kClientMac, {kClient, kHost, 40000, 5353}, 2000, 1480, 10);
  EXPECT_EQ(tc_uplink(to_host.second).retval, kOk) << "a fragment of the host's own";

  auto out = udp_fragments(kGwA, kMacA, {kIpA, kRemote, 33001, 53}, 2000, 1480, 11);
  EXPECT_EQ(from_a(out.second).retval, kShot);
  EXPECT_EQ(count(kLo, BPFNET_DROP_FRAG_NO_FLOW), 1u);
}

// GRE and SCTP carry no ports masquerade could translate: dropped, never
// sent with the container's private address.
TEST_F(FragPmtuProgTest, PortlessProtocolsNeverLeaveUnmasqueraded) {
  for (uint8_t proto : {kGre, kSctp}) {
    RunResult r = from_a(portless(kGwA, kMacA, kIpA, kRemote, proto));
    EXPECT_EQ(r.retval, kShot) << int(proto);
  }
  EXPECT_EQ(count(kLo, BPFNET_DROP_NAT_UNSUPPORTED), 2u);
  // Between containers of the network they are bridged as before.
  Bytes gre = portless(kGwA, kMacA, kIpA, kIpB, kGre);
  EXPECT_EQ(from_a(gre).retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
}

// ---------------------------------------------------------------- TTL

// Routed hops decrement the TTL (every frame above expects 63); a TTL of 1
// is answered with ICMP time exceeded from the address the client reached,
// quoting the packet as the client sent it. XDP leaves the answer to tc.
TEST_F(FragPmtuProgTest, ExpiringTtlFromTheUplinkIsAnsweredWithTimeExceeded) {
  Bytes in = udp_whole(kUp0, kClientMac, {kClient, kHost, 40002, 5353, 1}, 100);
  EXPECT_EQ(xdp(in).retval, XDP_PASS_);
  RunResult r = tc_uplink(in);
  ASSERT_EQ(r.retval, kRedirect);
  Bytes want = icmp_reply(kClientMac, kUp0, kHost, kClient, 11, 0, 0, in);
  EXPECT_EQ(r.out, want);
  expect_valid_checksums(r.out);
  EXPECT_EQ(count(up0_, BPFNET_DROP_TTL_EXCEEDED), 1u);
}

// From a container, out by masquerade: the error comes from its gateway and
// quotes its own addresses and ports, not the translated ones.
TEST_F(FragPmtuProgTest, ExpiringTtlFromAContainerIsAnsweredFromItsGateway) {
  Bytes in = udp_whole(kGwA, kMacA, {kIpA, kRemote, 33002, 33434, 1}, 20);
  RunResult r = from_a(in);
  ASSERT_EQ(r.retval, kRedirect);
  EXPECT_EQ(r.out, icmp_reply(kMacA, kGwA, kGw, kIpA, 11, 0, 0, in));
  EXPECT_EQ(count(kLo, BPFNET_DROP_TTL_EXCEEDED), 1u);
  // Within the network it is bridging: the TTL is neither checked nor spent.
  Bytes peer = udp_whole(kGwA, kMacA, {kIpA, kIpB, 33002, 53, 1}, 20);
  RunResult p = from_a(peer);
  ASSERT_EQ(p.retval, kRedirect);
  EXPECT_EQ(p.out[kEth + 8], 1);
}

// ---------------------------------------------------------------- path MTU

// Too big for the uplink (MTU 1400) with DF: ICMP fragmentation needed with
// the next hop's MTU, for a new flow and for one already masqueraded (whose
// packet was translated before the route said no: the quote is restored).
// Without DF the packet is dropped (BPF cannot fragment); both counted.
TEST_F(FragPmtuProgTest, TooBigForTheUplinkIsAnsweredWithFragmentationNeeded) {
  set_up0_mtu(1400);
  Bytes big = udp_whole(kGwA, kMacA, {kIpA, kRemote, 33003, 53}, 1472);
  RunResult r = from_a(big);
  ASSERT_EQ(r.retval, kRedirect);
  EXPECT_EQ(r.out, icmp_reply(kMacA, kGwA, kGw, kIpA, 3, 4, 1400, big));
  expect_valid_checksums(r.out);

  ASSERT_EQ(from_a(udp_whole(kGwA, kMacA, {kIpA, kRemote, 33004, 53}, 10)).retval, kRedirect);
  Bytes tracked = udp_whole(kGwA, kMacA, {kIpA, kRemote, 33004, 53}, 1472);
  r = from_a(tracked);
  ASSERT_EQ(r.retval, kRedirect);
  EXPECT_EQ(r.out, icmp_reply(kMacA, kGwA, kGw, kIpA, 3, 4, 1400, tracked));
  EXPECT_EQ(count(kLo, BPFNET_DROP_FRAG_NEEDED), 2u);

  Bytes no_df = tracked;
  put16(no_df, kEth + 6, 0);
  put16(no_df, kEth + 10, 0);
  put16(no_df, kEth + 10, ipv4_header_checksum(no_df));
  EXPECT_EQ(from_a(no_df).retval, kShot);
  EXPECT_EQ(count(kLo, BPFNET_DROP_FRAG_NEEDED), 3u);
  // What fits still goes (TTL spent).
  r = from_a(udp_whole(kGwA, kMacA, {kIpA, kRemote, 33004, 53}, 1300));
  ASSERT_EQ(r.retval, kRedirect);
  EXPECT_EQ(r.out[kEth + 8], 63);
}

// ------------------------------------------------------ monitor drop events

// A drop answered with an ICMP error never reaches the verdict site as a
// drop (it is CONTINUE_ANSWERED there): it is still a monitor drop event,
// with its reason and the packet as it arrived, captured before it became
// the error; translated already (the client's to the published port, A's
// masqueraded), its headers are told as the sender sent them.
TEST_F(FragPmtuProgTest, IcmpAnsweredDropsAreMonitorDropEventsWithTheOriginalPacket) {
  std::vector<datapath::MonitorEvent> events;
  datapath::EventReader reader(*dp_, [&](const datapath::MonitorEvent& e) { events.push_back(e); });
  datapath::set_monitor(*dp_, datapath::MonitorSettings{{datapath::EventType::kDrop}});
  struct Case {
    const char* what;
    Bytes in;
    uint8_t reason;
    uint32_t ifindex;
    bool from_uplink;
  };
  const Case cases[] = {
      {"TTL 1 from the uplink", udp_whole(kUp0, kClientMac, {kClient, kHost, 40102, 5353, 1}, 100),
       BPFNET_DROP_TTL_EXCEEDED, up0_, true},
      {"TTL 1 from a container", udp_whole(kGwA, kMacA, {kIpA, kRemote, 33102, 33434, 1}, 20),
       BPFNET_DROP_TTL_EXCEEDED, kLo, false},
      {"DF over the uplink's MTU", udp_whole(kGwA, kMacA, {kIpA, kRemote, 33103, 53}, 1472),
       BPFNET_DROP_FRAG_NEEDED, kLo, false},
  };
  set_up0_mtu(1400);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RunResult r = c.from_uplink ? tc_uplink(c.in) : from_a(c.in);
    ASSERT_EQ(r.retval, kRedirect) << "answered";
    reader.drain();
    ASSERT_EQ(events.size(), 1u);
    const datapath::MonitorEvent e = events[0];
    events.clear();
    EXPECT_EQ(e.type, datapath::EventType::kDrop);
    EXPECT_EQ(e.reason, c.reason);
    EXPECT_EQ(e.ifindex, c.ifindex);
    EXPECT_FALSE(e.xdp);
    EXPECT_EQ(e.orig_len, c.in.size());
    const size_t cap = std::min<size_t>(c.in.size(), BPFNET_EVENT_CAPTURE);
    EXPECT_EQ(e.packet, Bytes(c.in.begin(), c.in.begin() + cap)) << "the packet as it came";
  }
  datapath::set_monitor(*dp_, datapath::MonitorSettings{});
}

}  // namespace
}  // namespace bpfnet::test
