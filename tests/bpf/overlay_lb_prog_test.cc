// BPF_PROG_TEST_RUN tests of services across hosts (bpf/lib/overlay.h's
// overlay_lb_source and overlay_tracked, bpf/lib/deliver.h's tunnel branch):
// a published port whose backend is an endpoint on another host is DNATed
// to it, SNATed to this host's lb address on the overlay and sent into the
// tunnel; the backend's reply, decapsulated, is reverse-NATed to the client
// and routed out of the uplink. A container reaching a VIP whose backend is
// remote keeps its address, and the reply comes back as from the VIP.
// Into the tunnel, a translated packet takes a routed hop as anywhere else
// (bpf/lib/pmtu.h): TTL - 1, time exceeded for a TTL of 1, fragmentation
// needed with the overlay's MTU for a DF packet too big for it; untranslated
// traffic between endpoints of the overlay is bridged (TTL left alone).
//
// Every rewritten byte is compared with a frame built from scratch (so the
// checksums are too). The decap side runs tests/bpf/overlay_probe.bpf.c's
// probe_decap (the key a VXLAN device would leave, then the device's
// program body), as overlay_prog_test.cc does.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "overlay_probe_bpf.skel.h"
#include "packet.h"
#include "prog_runner.h"

namespace bpfnet::test {
namespace {

using datapath::EndpointEntry;
using datapath::MapContents;
using datapath::NetworkEntry;
using datapath::PortMapEntry;
using datapath::TunnelEntry;

constexpr uint32_t kLo = 1;  // container A's host veth (the test run's ifindex)
constexpr uint32_t kVni = 4097;
constexpr uint32_t kIndex = 7;
constexpr uint32_t kTable = 251;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

const Mac kMacA{0x02, 0x42, 0x0a, 0x32, 0x00, 0x02};
const Mac kGwA{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0a};
const Mac kRemoteMac{0x02, 0x42, 0x0a, 0x32, 0x00, 0x03};
const Mac kMacC{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwC{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0c};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kRouter{0x02, 0, 0, 0, 0x02, 0x54};
const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kClient = ip4("198.51.100.7");
const uint32_t kIpA = ip4("10.50.0.2");
const uint32_t kRemote = ip4("10.50.0.3");  // the backend, on host 192.168.77.2
const uint32_t kLb = ip4("10.50.0.9");      // this host's lb address on the overlay
const uint32_t kVip = ip4("10.50.0.100");
const uint32_t kIpC = ip4("172.18.0.2");  // container C, on a bridge network here

class OverlayLbProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    up0_ = if_nametoindex("up0");
    ASSERT_NE(up0_, 0u) << "test netns setup (main.cc) missing";
    want_.networks[1] = NetworkEntry{1,
                                     ip4("10.50.0.0"),
                                     24,
                                     ip4("10.50.0.1"),
                                     BPFNET_NET_F_ICC | BPFNET_NET_F_OVERLAY,
                                     1450,
                                     kVni,
                                     kLb};
    want_.add_endpoint(EndpointEntry{kLo, 1, kIpA, kMacA, kGwA});
    // C's host veth: a device of the test netns (up1, up0's peer).
    up1_ = if_nametoindex("up1");
    ASSERT_NE(up1_, 0u);
    want_.networks[2] =
        NetworkEntry{2, ip4("172.18.0.0"), 16, ip4("172.18.0.1"), BPFNET_NET_F_ICC, 1500};
    want_.add_endpoint(EndpointEntry{up1_, 2, kIpC, kMacC, kGwC});
    want_.tunnels[kRemote] = TunnelEntry{kRemote, ip4("192.168.77.2"), kVni, 1, kRemoteMac};
    want_.host_addrs[kHost] = 0;
    want_.uplinks[up0_] = datapath::UplinkEntry{up0_, kHost, kUp0};
    want_.add_portmap(PortMapEntry{0, 8080, kTcp, kVip, 80});
    want_.add_service(datapath::ServiceEntry{kVip, 80, kTcp, kIndex, kTable, 0});
    want_.vips[kVip] = 1;
    want_.backends[1] = kRemote;
    sync();
    std::vector<std::pair<uint32_t, uint32_t>> all;
    for (uint32_t s = 0; s < kTable; ++s) all.emplace_back(s, 1u);
    dp_->write_maglev(kIndex, kTable, all);

    probe_.reset(overlay_probe_bpf::open());
    ASSERT_TRUE(probe_);
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, probe_->obj) {
      bpf_map__set_pin_path(map, nullptr);
      try {
        ASSERT_EQ(bpf_map__reuse_fd(map, dp_->map_fd(bpf_map__name(map))), 0);
      } catch (const datapath::DatapathError&) {
        // The probe's own globals (.bss): not a Datapath map.
      }
    }
    ASSERT_EQ(overlay_probe_bpf::load(probe_.get()), 0);
  }

  void TearDown() override {
    std::system("ip link del bpfnet_vxlan 2>/dev/null");
    std::system("ip link del bpfnet_ul_t 2>/dev/null");
  }

  void sync() { dp_->apply(datapath::diff(dp_->read_maps(), want_)); }

  void attach_vxlan() {
    ASSERT_EQ(std::system("ip link add bpfnet_vxlan type vxlan external dstport 4789"), 0);
    vxlan_ = if_nametoindex("bpfnet_vxlan");
    ASSERT_NE(vxlan_, 0u);
    dp_->attach_overlay(vxlan_, ip4("192.168.77.1"));
  }

  // VXLAN in BPF (lib/vxlan.h) on an underlay interface (a veth) of
  // 192.168.77.1/24.
  void attach_underlay() {
    ASSERT_EQ(std::system("ip link add bpfnet_ul_t type veth peer name bpfnet_ul_p"), 0);
    underlay_ = if_nametoindex("bpfnet_ul_t");
    ASSERT_NE(underlay_, 0u);
    dp_->attach_underlay(underlay_, 24);
  }
  // What the backend's host sends: `inner` through VXLAN, arriving on the
  // underlay.
  RunResult from_underlay(const Bytes& inner) {
    return run_prog(dp_->from_underlay_prog_fd(),
                    vxlan_packet(inner, ip4("192.168.77.2"), ip4("192.168.77.1"), kVni), 1,
                    underlay_);
  }

  RunResult tc_uplink(const Bytes& f) { return run_prog(dp_->tc_uplink_prog_fd(), f, 1, up0_); }
  // `ifindex`: the device the frame arrives on (0: loopback).
  RunResult decap(const Bytes& frame, uint32_t ifindex = 0) {
    probe_->bss->probe_outer_src = ip4("192.168.77.2");
    probe_->bss->probe_vni = kVni;
    return run_prog(bpf_program__fd(probe_->progs.probe_decap), frame, 1, ifindex);
  }

  uint64_t count(uint32_t ifindex, uint8_t reason) {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.ifindex == ifindex && row.reason == reason) n += row.packets;
    return n;
  }

  bool has_ct(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp) {
    struct bpfnet_ct_key k {};
    k.saddr = htonl(s);
    k.daddr = htonl(d);
    k.sport = htons(sp);
    k.dport = htons(dp);
    k.proto = kTcp;
    for (const auto& e : dp_->read_conntrack())
      if (std::memcmp(e.key.data(), &k, sizeof(k)) == 0) return true;
    return false;
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
                   uint8_t ttl) {
    Ipv4Spec spec;
    spec.proto = kUdp;
    spec.saddr = s;
    spec.daddr = d;
    spec.sport = sp;
    spec.dport = dp;
    spec.ttl = ttl;
    return ipv4_frame(dst, src, spec);
  }
  // A TCP segment (DF set, as ipv4_frame builds it) whose IP packet is
  // `ip_len` bytes, sent with TTL `ttl`.
  static Bytes tcp_sized(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp,
                         uint16_t dp, size_t ip_len, uint8_t ttl = 64, uint8_t flags = 0x02) {
    Ipv4Spec spec;
    spec.tcp_flags = flags;
    spec.saddr = s;
    spec.daddr = d;
    spec.sport = sp;
    spec.dport = dp;
    spec.ttl = ttl;
    spec.payload.assign(ip_len - 40, 'p');
    return ipv4_frame(dst, src, spec);
  }
  static Bytes without_df(Bytes f) {
    put16(f, kEth + 6, 0);
    put16(f, kEth + 10, ipv4_header_checksum(f));
    return f;
  }
  // An ICMP error's checksums, each computed from scratch: its IP header,
  // the ICMP message, and the quoted IP header (the sender's own).
  static void expect_icmp_checksums(const Bytes& f) {
    ASSERT_EQ(f.size(), kEth + 56);
    EXPECT_EQ(get16(f, kEth + 10), ipv4_header_checksum(f)) << "IP checksum";
    EXPECT_EQ(get16(f, kEth + 22), l4_checksum(f)) << "ICMP checksum";
    EXPECT_EQ(get16(f, kEth + 28 + 10), ipv4_header_checksum(f, kEth + 28)) << "quoted IP checksum";
  }

  struct ProbeDeleter {
    void operator()(overlay_probe_bpf* p) const { overlay_probe_bpf::destroy(p); }
  };
  std::unique_ptr<datapath::Datapath> dp_;
  std::unique_ptr<overlay_probe_bpf, ProbeDeleter> probe_;
  MapContents want_;
  uint32_t up0_ = 0;
  uint32_t up1_ = 0;
  uint32_t vxlan_ = 0;
  uint32_t underlay_ = 0;
};

TEST_F(OverlayLbProgTest, PublishedFlowToARemoteBackendLeavesFromTheLbAddressThroughTheTunnel) {
  attach_vxlan();
  RunResult r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 41000, 8080));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  // Source: the lb address and a NAT port; destination: the backend; TTL
  // 63 (a routed hop). The Ethernet header goes into the tunnel as it came
  // (the receiving host sets the container's MACs).
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_GE(nport, BPFNET_NAT_PORT_MIN);
  EXPECT_LE(nport, BPFNET_NAT_PORT_MAX);
  EXPECT_EQ(r.out, routed(tcp(kUp0, kClientMac, kLb, kRemote, nport, 80)));
  EXPECT_EQ(r.out[kEth + 8], 63) << "TTL";
  EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out)) << "IP checksum";
  EXPECT_EQ(get16(r.out, kEth + 20 + 16), l4_checksum(r.out)) << "TCP checksum";
  EXPECT_TRUE(has_ct(kRemote, kLb, 80, nport)) << "the reply's entry";
  EXPECT_EQ(count(up0_, BPFNET_OK), 1u);

  // The backend's reply, decapsulated here: back to the client from the
  // published address and port, out of up0 to its next hop (a routed hop,
  // lib/pmtu.h: TTL - 1).
  RunResult back = decap(tcp(kRemoteMac, kRemoteMac, kRemote, kLb, 80, nport, 0x12));
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(back.out, routed(tcp(kRouter, kUp0, kHost, kClient, 8080, 41000, 0x12)));

  // The next packet of the flow takes the same translation.
  r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 41000, 8080, 0x10));
  EXPECT_EQ(r.out, routed(tcp(kUp0, kClientMac, kLb, kRemote, nport, 80, 0x10)));
}

TEST_F(OverlayLbProgTest, WithoutAVxlanDeviceTheFlowIsDroppedNotRouted) {
  uint64_t before = count(up0_, BPFNET_DROP_NO_VXLAN);
  RunResult r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 41001, 8080));
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(count(up0_, BPFNET_DROP_NO_VXLAN), before + 1);
}

TEST_F(OverlayLbProgTest, WithoutAnLbAddressThePublishedFlowIsDropped) {
  attach_vxlan();
  want_.networks[1].lb_addr = 0;
  sync();
  RunResult r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 41002, 8080));
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(count(up0_, BPFNET_DROP_NO_LB_ADDRESS), 1u);
  EXPECT_FALSE(has_ct(kRemote, kLb, 80, 41002));
}

TEST_F(OverlayLbProgTest, ContainerToVipWithARemoteBackendKeepsItsAddress) {
  attach_vxlan();
  Bytes in = tcp(kGwA, kMacA, kIpA, kVip, 42000, 80);
  RunResult r = run_prog(dp_->from_container_prog_fd(), in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, routed(tcp(kGwA, kMacA, kIpA, kRemote, 42000, 80)));
  // The reply through the tunnel: from the VIP, with A's own MACs.
  RunResult back = decap(tcp(kRemoteMac, kRemoteMac, kRemote, kIpA, 80, 42000, 0x12));
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(back.out, routed(tcp(kMacA, kGwA, kVip, kIpA, 80, 42000, 0x12)));
}

TEST_F(OverlayLbProgTest, ABridgeContainerThroughThePublishedPortLeavesFromTheLbAddressToo) {
  attach_vxlan();
  // C (another network) reaches the published port through the host's
  // address: its own address would be a forged source on the backend's host.
  RunResult r =
      run_prog(dp_->from_container_prog_fd(), tcp(kGwC, kMacC, kIpC, kHost, 43000, 8080), 1, up1_);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_GE(nport, BPFNET_NAT_PORT_MIN);
  EXPECT_EQ(r.out, routed(tcp(kGwC, kMacC, kLb, kRemote, nport, 80)));
  RunResult back = decap(tcp(kRemoteMac, kRemoteMac, kRemote, kLb, 80, nport, 0x12));
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(back.out, routed(tcp(kMacC, kGwC, kHost, kIpC, 8080, 43000, 0x12)));
}

TEST_F(OverlayLbProgTest, ForgedRepliesAreStillSpoofDrops) {
  attach_vxlan();
  RunResult r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 41003, 8080));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  // The flow's reply tuple, from a host the backend is not on.
  probe_->bss->probe_outer_src = ip4("192.168.77.9");
  probe_->bss->probe_vni = kVni;
  RunResult forged = run_prog(bpf_program__fd(probe_->progs.probe_decap),
                              tcp(kRemoteMac, kRemoteMac, kRemote, kLb, 80, nport, 0x12));
  EXPECT_EQ(forged.retval, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(count(kLo, BPFNET_DROP_TUNNEL_SPOOF), 1u);
}

// ------------------------------------------------ the routed hop into the tunnel

// A client's TTL-1 packet to a port published on this host, whose backend is
// on another host: answered from the published address with ICMP time
// exceeded, quoting the packet as the client sent it, and dropped (counted),
// not sent into the tunnel. XDP leaves the answer to tc. A TTL of 2 still
// goes, with 1.
TEST_F(OverlayLbProgTest, PublishedFlowWithTtlOneToARemoteBackendIsAnsweredWithTimeExceeded) {
  attach_vxlan();
  Bytes in = tcp_sized(kUp0, kClientMac, kClient, kHost, 41010, 8080, 60, 1);
  EXPECT_EQ(run_xdp(dp_->xdp_uplink_prog_fd(), in, up0_).retval, 2u) << "XDP_PASS";
  RunResult r = tc_uplink(in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT)) << "answered";
  EXPECT_EQ(r.out, icmp_error_frame(kClientMac, kUp0, kHost, kClient, 11, 0, in));
  expect_icmp_checksums(r.out);
  EXPECT_EQ(count(up0_, BPFNET_DROP_TTL_EXCEEDED), 1u);
  EXPECT_EQ(count(up0_, BPFNET_OK), 0u) << "nothing forwarded";

  r = tc_uplink(tcp_sized(kUp0, kClientMac, kClient, kHost, 41010, 8080, 60, 2));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_EQ(r.out, tcp_sized(kUp0, kClientMac, kLb, kRemote, nport, 80, 60, 1));
}

// The same for a container reaching a VIP of its overlay whose backend is
// remote (translated: routed, as to a local backend): TTL 63 into the
// tunnel, and a TTL of 1 answered by its gateway. Untranslated, between
// endpoints of the overlay, the tunnel is one L2 segment: a TTL-1 frame to
// the remote endpoint itself goes as it is.
TEST_F(OverlayLbProgTest, ContainerToARemoteBackendSpendsTtlToItsPeerNot) {
  attach_vxlan();
  Bytes in = tcp_sized(kGwA, kMacA, kIpA, kVip, 42010, 80, 60, 1);
  RunResult r = run_prog(dp_->from_container_prog_fd(), in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, icmp_error_frame(kMacA, kGwA, ip4("10.50.0.1"), kIpA, 11, 0, in));
  expect_icmp_checksums(r.out);
  EXPECT_EQ(count(kLo, BPFNET_DROP_TTL_EXCEEDED), 1u);

  Bytes peer = tcp_sized(kGwA, kMacA, kIpA, kRemote, 42011, 80, 60, 1);
  r = run_prog(dp_->from_container_prog_fd(), peer);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, peer) << "bridged: TTL 1 and all";
  EXPECT_EQ(count(kLo, BPFNET_DROP_TTL_EXCEEDED), 1u);
}

// The backend's reply whose TTL runs out here, on its way to the client (a
// traceroute from the backend): answered with time exceeded from the address
// it was sent to (this host's lb address, an endpoint the backend's host
// accepts from here), quoting it as the backend sent it, and sent back
// through the tunnel with a key for sending: to the backend's host, on the
// overlay's VNI. Not with the key it arrived with, which the VXLAN device
// cannot send with.
TEST_F(OverlayLbProgTest, ARemoteBackendsExpiringReplyIsAnsweredBackThroughTheTunnel) {
  attach_vxlan();
  RunResult r = tc_uplink(tcp(kUp0, kClientMac, kClient, kHost, 41030, 8080));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  Bytes reply = tcp_sized(kRemoteMac, kGwA, kRemote, kLb, 80, nport, 60, 1, 0x12);
  RunResult back = decap(reply, vxlan_);
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT)) << "answered";
  EXPECT_EQ(back.out, icmp_error_frame(kGwA, kRemoteMac, kLb, kRemote, 11, 0, reply));
  expect_icmp_checksums(back.out);
  ASSERT_EQ(probe_->bss->probe_key_rc, 0) << "no tunnel key on the answer";
  EXPECT_EQ(probe_->bss->probe_key.tunnel_id, kVni);
  // Read back, a key set for sending comes out as a received one would
  // (overlay_prog_test.cc): "remote" is the outer source.
  EXPECT_EQ(probe_->bss->probe_key.remote_ipv4, ip4("192.168.77.1")) << "outer source: this host";
  EXPECT_EQ(probe_->bss->probe_key.local_ipv4, ip4("192.168.77.2"))
      << "outer destination: the backend's host";
  EXPECT_EQ(count(vxlan_, BPFNET_DROP_TTL_EXCEEDED), 1u);
  // With TTL to spare it goes on to the client, as before.
  back = decap(tcp_sized(kRemoteMac, kGwA, kRemote, kLb, 80, nport, 60, 2, 0x12), vxlan_);
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(back.out, tcp_sized(kRouter, kUp0, kHost, kClient, 8080, 41030, 60, 1, 0x12));
}

// The same with VXLAN in BPF, for a UDP service (TCP stays on the device,
// lib/vxlan.h): the published flow leaves encapsulated, the backend's TTL-1
// reply is decapsulated at the underlay, and the error encapsulated back to
// the backend's host, every header checked.
TEST_F(OverlayLbProgTest, ARemoteBackendsExpiringReplyIsAnsweredBackThroughTheBpfTunnel) {
  attach_vxlan();
  attach_underlay();
  want_.add_portmap(PortMapEntry{0, 5353, kUdp, kVip, 53});
  want_.add_service(datapath::ServiceEntry{kVip, 53, kUdp, kIndex, kTable, 0});
  sync();
  Bytes query = udp(kUp0, kClientMac, kClient, kHost, 41030, 5353, 64);
  RunResult r = tc_uplink(query);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  ASSERT_EQ(r.out.size(), kVxlanHeaders + query.size()) << "the flow went out encapsulated";
  EXPECT_EQ(get32(r.out, kEth + 16), ip4("192.168.77.2")) << "to the backend's host";
  EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out)) << "outer IP checksum";
  Bytes inner_query(r.out.begin() + kVxlanHeaders, r.out.end());
  EXPECT_EQ(get32(inner_query, kEth + 12), kLb) << "from this host's lb address";
  EXPECT_EQ(get32(inner_query, kEth + 16), kRemote) << "to the backend";
  EXPECT_EQ(inner_query[kEth + 8], 63) << "TTL spent on the hop";
  EXPECT_EQ(get16(inner_query, kEth + 10), ipv4_header_checksum(inner_query));
  EXPECT_EQ(get16(inner_query, kEth + 26), l4_checksum(inner_query)) << "UDP checksum";
  uint16_t nport = get16(inner_query, kEth + 20);

  Bytes reply = udp(kRemoteMac, kGwA, kRemote, kLb, 53, nport, 1);
  RunResult back = from_underlay(reply);
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT)) << "answered";
  Bytes error = icmp_error_frame(kGwA, kRemoteMac, kLb, kRemote, 11, 0, reply);
  ASSERT_EQ(back.out.size(), kVxlanHeaders + error.size());
  EXPECT_EQ(get32(back.out, kEth + 12), ip4("192.168.77.1")) << "outer source: this host";
  EXPECT_EQ(get32(back.out, kEth + 16), ip4("192.168.77.2")) << "outer destination";
  EXPECT_EQ(get16(back.out, kEth + 10), ipv4_header_checksum(back.out)) << "outer IP checksum";
  EXPECT_EQ(get16(back.out, kEth + 22), 4789);
  EXPECT_EQ(get32(back.out, kEth + 32), kVni << 8);
  Bytes inner(back.out.begin() + kVxlanHeaders, back.out.end());
  EXPECT_EQ(inner, error) << "the same error as through the VXLAN device";
  EXPECT_EQ(count(underlay_, BPFNET_DROP_TTL_EXCEEDED), 1u);
  // With TTL to spare it goes on to the client, reverse-translated.
  back = from_underlay(udp(kRemoteMac, kGwA, kRemote, kLb, 53, nport, 2));
  ASSERT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(back.out, udp(kRouter, kUp0, kHost, kClient, 5353, 41030, 1));
}

// Into the tunnel a packet may be as big as the overlay's MTU (1450 here,
// not the VXLAN device's or the uplink's 1500): one byte more with DF is
// answered with ICMP fragmentation needed and that MTU, quoting the client's
// own packet (counted as a frag-needed drop). Without DF it goes whole, TTL
// spent (a router would fragment it, BPF cannot: the VXLAN device fragments
// the outer packet, lib/tunnel.h). The MTU is the network's as configured:
// at 1400, 1400 is told.
TEST_F(OverlayLbProgTest, DfPacketOverTheOverlayMtuIsAnsweredWithFragmentationNeeded) {
  attach_vxlan();
  RunResult r = tc_uplink(tcp_sized(kUp0, kClientMac, kClient, kHost, 41020, 8080, 1450));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  uint16_t nport = get16(r.out, kEth + 20);
  EXPECT_EQ(r.out, tcp_sized(kUp0, kClientMac, kLb, kRemote, nport, 80, 1450, 63))
      << "1450 bytes fit";

  Bytes big = tcp_sized(kUp0, kClientMac, kClient, kHost, 41020, 8080, 1451);
  r = tc_uplink(big);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT)) << "answered";
  EXPECT_EQ(r.out, icmp_error_frame(kClientMac, kUp0, kHost, kClient, 3, 4, big, 1450));
  expect_icmp_checksums(r.out);
  EXPECT_EQ(count(up0_, BPFNET_DROP_FRAG_NEEDED), 1u);

  r = tc_uplink(without_df(big));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, without_df(tcp_sized(kUp0, kClientMac, kLb, kRemote, nport, 80, 1451, 63)));
  EXPECT_EQ(count(up0_, BPFNET_DROP_FRAG_NEEDED), 1u);

  want_.networks[1].mtu = 1400;
  sync();
  Bytes over = tcp_sized(kUp0, kClientMac, kClient, kHost, 41020, 8080, 1401);
  r = tc_uplink(over);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, icmp_error_frame(kClientMac, kUp0, kHost, kClient, 3, 4, over, 1400));
  expect_icmp_checksums(r.out);
  EXPECT_EQ(count(up0_, BPFNET_DROP_FRAG_NEEDED), 2u);
  EXPECT_EQ(count(up0_, BPFNET_OK), 2u) << "the packet that fit and the one without DF";
}

// A container of a 1500-byte bridge network reaching the published port
// through the host's address: its 1500-byte DF packet is answered by its
// gateway with the overlay's 1450.
TEST_F(OverlayLbProgTest, ABridgeContainerTooBigForTheOverlayLearnsItsMtu) {
  attach_vxlan();
  Bytes big = tcp_sized(kGwC, kMacC, kIpC, kHost, 43010, 8080, 1500);
  RunResult r = run_prog(dp_->from_container_prog_fd(), big, 1, up1_);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, icmp_error_frame(kMacC, kGwC, ip4("172.18.0.1"), kIpC, 3, 4, big, 1450));
  expect_icmp_checksums(r.out);
  EXPECT_EQ(count(up1_, BPFNET_DROP_FRAG_NEEDED), 1u);
}

}  // namespace
}  // namespace bpfnet::test
