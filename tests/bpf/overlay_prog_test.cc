// BPF_PROG_TEST_RUN tests of overlay networks (bpf/lib/overlay.h): encap to a
// remote endpoint through the VXLAN device, the ARP answers for remote
// peers, decap delivery, and every drop on either side.
//
// A test run's skb has no tunnel metadata, and the key a program sets is not
// returned, so tests/bpf/overlay_probe.bpf.c wraps the same pipeline: its
// probe_encap reads the key back after the container pipeline ran, its
// probe_decap sets the key a VXLAN device would have left, then runs the
// VXLAN device's program body. The maps are the Datapath's.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <utility>
#include <vector>

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
using datapath::TunnelEntry;

constexpr uint32_t kLo = 1;
constexpr uint32_t kLocalPeerIf = 42;
constexpr uint32_t kOtherNetIf = 43;
constexpr uint32_t kVni = 4097;
constexpr uint32_t kOtherVni = 4098;
constexpr uint32_t kOverlayFlags = BPFNET_NET_F_ICC | BPFNET_NET_F_OVERLAY;

const Mac kMacA{0x02, 0x42, 0x0a, 0x32, 0x00, 0x02};
const Mac kGwA{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0a};
const Mac kMacL{0x02, 0x42, 0x0a, 0x32, 0x00, 0x04};
const Mac kGwL{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0b};
const Mac kMacC{0x02, 0x42, 0x0a, 0x3c, 0x00, 0x02};
const Mac kGwC{0x6e, 0x00, 0x00, 0x00, 0x00, 0x0c};
const Mac kRemoteMac{0x02, 0x42, 0x0a, 0x32, 0x00, 0x03};
const Mac kRemoteMac2{0x02, 0x42, 0x0a, 0x3c, 0x00, 0x03};
const Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Mac kZero{};

class OverlayProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    load(kOverlayFlags, kOverlayFlags);
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

  // Overlay 1: 10.50.0.0/24 (VNI 4097) with A (ifindex 1) and L here, R on
  // host 192.168.77.2. Overlay 2: 10.60.0.0/24 (VNI 4098) with C here, R2
  // on that host.
  void load(uint32_t net1_flags, uint32_t net2_flags) {
    MapContents want;
    want.networks[1] =
        NetworkEntry{1, ip4("10.50.0.0"), 24, ip4("10.50.0.1"), net1_flags, 1450, kVni};
    want.networks[2] =
        NetworkEntry{2, ip4("10.60.0.0"), 24, ip4("10.60.0.1"), net2_flags, 1450, kOtherVni};
    want.add_endpoint(EndpointEntry{kLo, 1, ip4("10.50.0.2"), kMacA, kGwA});
    want.add_endpoint(EndpointEntry{kLocalPeerIf, 1, ip4("10.50.0.4"), kMacL, kGwL});
    want.add_endpoint(EndpointEntry{kOtherNetIf, 2, ip4("10.60.0.2"), kMacC, kGwC});
    want.tunnels[ip4("10.50.0.3")] =
        TunnelEntry{ip4("10.50.0.3"), ip4("192.168.77.2"), kVni, 1, kRemoteMac};
    want.tunnels[ip4("10.60.0.3")] =
        TunnelEntry{ip4("10.60.0.3"), ip4("192.168.77.2"), kOtherVni, 2, kRemoteMac2};
    dp_->apply(datapath::diff(dp_->read_maps(), want));
    ASSERT_EQ(dp_->read_maps(), want);
  }

  // The VXLAN device, as the daemon has it: its program attached, its
  // ifindex and the underlay address in bpfnet_config.
  uint32_t attach_vxlan() {
    EXPECT_EQ(std::system("ip link add bpfnet_vxlan type vxlan external dstport 4789"), 0);
    uint32_t ifindex = if_nametoindex("bpfnet_vxlan");
    EXPECT_NE(ifindex, 0u);
    dp_->attach_overlay(ifindex, ip4("192.168.77.1"));
    return ifindex;
  }

  // VXLAN in BPF: an underlay interface (a veth of MTU 1500) holding
  // 192.168.77.1/24, after attach_vxlan.
  uint32_t attach_underlay() {
    EXPECT_EQ(std::system("ip link show bpfnet_ul_t >/dev/null 2>&1 || "
                          "ip link add bpfnet_ul_t mtu 1500 type veth peer name bpfnet_ul_p"),
              0);
    uint32_t ifindex = if_nametoindex("bpfnet_ul_t");
    EXPECT_NE(ifindex, 0u);
    dp_->attach_underlay(ifindex, 24);
    return ifindex;
  }

  // A VXLAN packet from host @outer_src to this host (192.168.77.1)
  // carrying @inner.
  static Bytes vxlan_frame(const Bytes& inner, const char* outer_src, uint32_t vni,
                           uint16_t udp_check = 0, const char* outer_dst = "192.168.77.1") {
    return vxlan_packet(inner, ip4(outer_src), ip4(outer_dst), vni, udp_check);
  }

  RunResult from_underlay(const Bytes& frame) {
    return run_prog(dp_->from_underlay_prog_fd(), frame);
  }

  bpfnet_config config() {
    uint32_t zero = 0;
    bpfnet_config cfg{};
    EXPECT_EQ(bpf_map_lookup_elem(dp_->map_fd(BPFNET_MAP_CONFIG), &zero, &cfg), 0);
    return cfg;
  }

  RunResult encap(const Bytes& frame) {
    return run_prog(bpf_program__fd(probe_->progs.probe_encap), frame);
  }

  RunResult decap(const Bytes& frame, const char* outer_src, uint32_t vni) {
    probe_->bss->probe_outer_src = ip4(outer_src);
    probe_->bss->probe_vni = vni;
    return run_prog(bpf_program__fd(probe_->progs.probe_decap), frame);
  }

  uint64_t count(uint32_t ifindex, uint8_t reason, uint8_t dir) {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.ifindex == ifindex && row.reason == reason && row.dir == dir) n += row.packets;
    return n;
  }

  void expect_drop(const RunResult& r, bpfnet_reason reason, uint64_t before) {
    EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
    // Slot 0: the container's veth (encap) or the VXLAN device (decap).
    EXPECT_EQ(count(kLo, reason, BPFNET_DIR_FROM_CONTAINER), before + 1)
        << "drop reason " << int(reason) << " not counted";
  }

  // Through the real container program.
  void expect_encap_drop(const Bytes& frame, bpfnet_reason reason) {
    uint64_t before = count(kLo, reason, BPFNET_DIR_FROM_CONTAINER);
    expect_drop(run_prog(dp_->from_container_prog_fd(), frame), reason, before);
  }

  void expect_decap_drop(const Bytes& frame, const char* outer_src, uint32_t vni,
                         bpfnet_reason reason) {
    uint64_t before = count(kLo, reason, BPFNET_DIR_FROM_UPLINK);
    expect_drop(decap(frame, outer_src, vni), reason, before);
    EXPECT_EQ(count(kLocalPeerIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 0u);
  }

  static Bytes tcp(const Mac& dst_mac, const Mac& src_mac, const char* saddr, const char* daddr) {
    Ipv4Spec s;
    s.saddr = ip4(saddr);
    s.daddr = ip4(daddr);
    return ipv4_frame(dst_mac, src_mac, s);
  }

  // What A sends to R: to R's MAC, as A's ARP resolved it.
  static Bytes tcp_a_to(const char* daddr) { return tcp(kRemoteMac, kMacA, "10.50.0.2", daddr); }
  // UDP: what VXLAN in BPF carries (TCP stays on the device).
  static Bytes udp(const Mac& dst_mac, const Mac& src_mac, const char* saddr, const char* daddr,
                   uint16_t sport = 40000) {
    Ipv4Spec s;
    s.proto = 17;
    s.saddr = ip4(saddr);
    s.daddr = ip4(daddr);
    s.sport = sport;
    s.dport = 53;
    return ipv4_frame(dst_mac, src_mac, s);
  }
  static Bytes udp_a_to(const char* daddr) { return udp(kRemoteMac, kMacA, "10.50.0.2", daddr); }
  static Bytes udp_r_to(const char* daddr, const char* saddr = "10.50.0.3") {
    return udp(kRemoteMac, kRemoteMac, saddr, daddr);
  }
  // What R's host sends through the tunnel to L.
  static Bytes tcp_r_to(const char* daddr, const char* saddr = "10.50.0.3") {
    return tcp(kRemoteMac, kRemoteMac, saddr, daddr);
  }

  struct ProbeDeleter {
    void operator()(overlay_probe_bpf* p) const { overlay_probe_bpf::destroy(p); }
  };
  std::unique_ptr<datapath::Datapath> dp_;
  std::unique_ptr<overlay_probe_bpf, ProbeDeleter> probe_;
};

TEST_F(OverlayProgTest, AttachOverlayWritesConfigAndKeepsTheCgroupCookie) {
  // What attach_cgroup wrote before: another field of the same entry.
  uint32_t zero = 0;
  bpfnet_config before{};
  before.host_netns_cookie = 0x5eed;
  ASSERT_EQ(bpf_map_update_elem(dp_->map_fd(BPFNET_MAP_CONFIG), &zero, &before, BPF_ANY), 0);
  uint32_t ifindex = attach_vxlan();
  bpfnet_config cfg = config();
  EXPECT_EQ(cfg.host_netns_cookie, 0x5eedu);
  EXPECT_EQ(cfg.vxlan_ifindex, ifindex);
  EXPECT_EQ(ntohl(cfg.underlay), ip4("192.168.77.1"));
  // Attached at tc ingress of the device.
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 0xb9f, .priority = 1);
  ASSERT_EQ(bpf_tc_query(&hook, &opts), 0);
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(dp_->from_overlay_prog_fd(), &info, &len), 0);
  EXPECT_EQ(opts.prog_id, info.id);
  // Detach: the settings go, the filter too, and doing it twice is fine.
  dp_->detach_overlay(ifindex);
  dp_->detach_overlay(ifindex);
  EXPECT_EQ(config().vxlan_ifindex, 0u);
  EXPECT_EQ(config().underlay, 0u);
  LIBBPF_OPTS(bpf_tc_opts, gone, .handle = 0xb9f, .priority = 1);
  EXPECT_NE(bpf_tc_query(&hook, &gone), 0);
}

TEST_F(OverlayProgTest, RemotePeerLeavesThroughTheTunnelWithItsKeyFrameUntouched) {
  attach_vxlan();
  Bytes in = tcp_a_to("10.50.0.3");
  RunResult r = encap(in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, in) << "the VXLAN device encapsulates the frame as the container sent it";
  ASSERT_EQ(probe_->bss->probe_key_rc, 0) << "no tunnel key on the skb";
  EXPECT_EQ(probe_->bss->probe_key.tunnel_id, kVni);
  // Read back, the kernel's (src, dst) pair comes out as a received key
  // would: "remote" is the outer source. So: from 192.168.77.1 (this host's
  // underlay address) to 192.168.77.2 (R's host).
  EXPECT_EQ(probe_->bss->probe_key.remote_ipv4, ip4("192.168.77.1")) << "outer source";
  EXPECT_EQ(probe_->bss->probe_key.local_ipv4, ip4("192.168.77.2")) << "outer destination";
  EXPECT_EQ(probe_->bss->probe_key.tunnel_ttl, 64);
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 1u);

  // The real program takes the same path.
  RunResult real = run_prog(dp_->from_container_prog_fd(), in);
  EXPECT_EQ(real.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(real.out, in);
}

TEST_F(OverlayProgTest, InternalOverlayStillReachesRemotePeers) {
  load(kOverlayFlags | BPFNET_NET_F_INTERNAL, kOverlayFlags);
  attach_vxlan();
  RunResult r = encap(tcp_a_to("10.50.0.3"));
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(probe_->bss->probe_key.local_ipv4, ip4("192.168.77.2")) << "outer destination";
}

TEST_F(OverlayProgTest, EncapDrops) {
  attach_vxlan();
  // Another overlay's remote endpoint.
  expect_encap_drop(tcp_a_to("10.60.0.3"), BPFNET_DROP_ISOLATION);
  // Nobody at that address of its own overlay, here or elsewhere.
  expect_encap_drop(tcp_a_to("10.50.0.99"), BPFNET_DROP_NO_ENDPOINT);
  // Anti-spoofing holds before any tunnel lookup.
  expect_encap_drop(tcp(kRemoteMac, kMacA, "10.50.0.9", "10.50.0.3"), BPFNET_DROP_INVALID_SIP);
  load(BPFNET_NET_F_OVERLAY, kOverlayFlags);
  expect_encap_drop(tcp_a_to("10.50.0.3"), BPFNET_DROP_ICC);
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 0u);
}

TEST_F(OverlayProgTest, RemotePeerWithoutVxlanDeviceIsDropped) {
  expect_encap_drop(tcp_a_to("10.50.0.3"), BPFNET_DROP_NO_VXLAN);
}

TEST_F(OverlayProgTest, BridgeNetworksNeverLookAtTunnels) {
  // The same addresses on a network without the overlay flag: 10.50.0.3 is
  // just an empty address of the subnet.
  load(BPFNET_NET_F_ICC, BPFNET_NET_F_ICC);
  attach_vxlan();
  expect_encap_drop(tcp_a_to("10.50.0.3"), BPFNET_DROP_NO_ENDPOINT);
  expect_encap_drop(
      arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("10.50.0.2"), kZero, ip4("10.50.0.3")),
      BPFNET_DROP_ARP_NO_TARGET);
}

TEST_F(OverlayProgTest, ArpForRemotePeerIsAnsweredWithItsMac) {
  Bytes req = arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("10.50.0.2"), kZero, ip4("10.50.0.3"));
  RunResult r = run_prog(dp_->from_container_prog_fd(), req);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out,
            arp_frame(kMacA, kRemoteMac, 2, kRemoteMac, ip4("10.50.0.3"), kMacA, ip4("10.50.0.2")));
  // Local peers and the gateway keep the host veth's MAC.
  Bytes local = arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("10.50.0.2"), kZero, ip4("10.50.0.4"));
  EXPECT_EQ(run_prog(dp_->from_container_prog_fd(), local).out,
            arp_frame(kMacA, kGwA, 2, kGwA, ip4("10.50.0.4"), kMacA, ip4("10.50.0.2")));
}

TEST_F(OverlayProgTest, ArpForAnotherOverlaysRemoteIsNotAnswered) {
  expect_encap_drop(
      arp_frame(kBroadcast, kMacA, 1, kMacA, ip4("10.50.0.2"), kZero, ip4("10.60.0.3")),
      BPFNET_DROP_ARP_NO_TARGET);
}

TEST_F(OverlayProgTest, DecapDeliversToTheLocalPeerWithItsMacs) {
  Bytes in = tcp_r_to("10.50.0.4");
  RunResult r = decap(in, "192.168.77.2", kVni);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  Bytes want = in;
  std::memcpy(&want[0], kMacL.data(), 6);
  std::memcpy(&want[6], kGwL.data(), 6);
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.out[kEth + 8], 64) << "TTL";
  EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out));
  EXPECT_EQ(get16(r.out, kEth + 20 + 16), l4_checksum(r.out));
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_UPLINK), 1u);
  EXPECT_EQ(count(kLocalPeerIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 1u);
}

TEST_F(OverlayProgTest, DecapDropsSpoofedSources) {
  // A's peer R lives on 192.168.77.2: another host cannot speak for it.
  expect_decap_drop(tcp_r_to("10.50.0.4"), "192.168.77.9", kVni, BPFNET_DROP_TUNNEL_SPOOF);
  // Right host, wrong VNI.
  expect_decap_drop(tcp_r_to("10.50.0.4"), "192.168.77.2", kOtherVni, BPFNET_DROP_TUNNEL_SPOOF);
  // An inner source that is no remote endpoint at all (one of ours, here).
  expect_decap_drop(tcp_r_to("10.50.0.4", "10.50.0.2"), "192.168.77.2", kVni,
                    BPFNET_DROP_TUNNEL_SPOOF);
}

TEST_F(OverlayProgTest, DecapDropsWhatIsNotForThatNetwork) {
  // To a local endpoint of another overlay.
  expect_decap_drop(tcp_r_to("10.60.0.2"), "192.168.77.2", kVni, BPFNET_DROP_ISOLATION);
  // To nobody.
  expect_decap_drop(tcp_r_to("10.50.0.99"), "192.168.77.2", kVni, BPFNET_DROP_NO_ENDPOINT);
  // ARP never crosses (each host answers for remote peers itself).
  expect_decap_drop(
      arp_frame(kBroadcast, kRemoteMac, 1, kRemoteMac, ip4("10.50.0.3"), kZero, ip4("10.50.0.4")),
      "192.168.77.2", kVni, BPFNET_DROP_UNSUPPORTED_L3);
  // enable_icc=false holds on the receiving side too.
  load(BPFNET_NET_F_OVERLAY, kOverlayFlags);
  expect_decap_drop(tcp_r_to("10.50.0.4"), "192.168.77.2", kVni, BPFNET_DROP_ICC);
}

TEST_F(OverlayProgTest, VxlanProgramDropsFramesWithoutTunnelKey) {
  uint64_t before = count(kLo, BPFNET_DROP_MALFORMED, BPFNET_DIR_FROM_UPLINK);
  RunResult r = run_prog(dp_->from_overlay_prog_fd(), tcp_r_to("10.50.0.4"));
  expect_drop(r, BPFNET_DROP_MALFORMED, before);
}

TEST_F(OverlayProgTest, AttachUnderlayAttachesDecapAndWritesItsSubnet) {
  uint32_t vxlan = attach_vxlan();
  uint32_t ul = attach_underlay();
  bpfnet_config cfg = config();
  EXPECT_EQ(cfg.underlay_ifindex, ul);
  EXPECT_EQ(ntohl(cfg.underlay_mask), 0xffffff00u);
  EXPECT_EQ(cfg.vxlan_ifindex, vxlan) << "the device stays for what BPF does not carry";
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ul), .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 0xba0, .priority = 1);
  ASSERT_EQ(bpf_tc_query(&hook, &opts), 0);
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(dp_->from_underlay_prog_fd(), &info, &len), 0);
  EXPECT_EQ(opts.prog_id, info.id);
  // Through the device only: the settings go, and so does the program.
  dp_->attach_underlay(0, 0);
  EXPECT_EQ(config().underlay_ifindex, 0u);
  LIBBPF_OPTS(bpf_tc_opts, gone, .handle = 0xba0, .priority = 1);
  EXPECT_NE(bpf_tc_query(&hook, &gone), 0);
  // detach_overlay takes it off too.
  attach_underlay();
  dp_->detach_overlay(vxlan);
  EXPECT_EQ(config().underlay_ifindex, 0u);
  LIBBPF_OPTS(bpf_tc_opts, gone2, .handle = 0xba0, .priority = 1);
  EXPECT_NE(bpf_tc_query(&hook, &gone2), 0);
}

TEST_F(OverlayProgTest, RemotePeerIsEncapsulatedInBpfOutOfTheUnderlay) {
  attach_vxlan();
  attach_underlay();
  Bytes in = udp_a_to("10.50.0.3");
  RunResult r = run_prog(dp_->from_container_prog_fd(), in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  ASSERT_EQ(r.out.size(), in.size() + kVxlanHeaders);
  // The frame's Ethernet header stays in front (bpf_redirect_neigh fills
  // in the underlay's MACs), then outer IPv4, UDP, VXLAN, the inner frame.
  EXPECT_EQ(Bytes(r.out.begin(), r.out.begin() + kEth), Bytes(in.begin(), in.begin() + kEth));
  const size_t ip = kEth;
  EXPECT_EQ(r.out[ip], 0x45);
  EXPECT_EQ(r.out[ip + 1], 0) << "TOS: the inner ECN field (none)";
  EXPECT_EQ(get16(r.out, ip + 2), in.size() - kEth + kVxlanHeaders) << "total length";
  EXPECT_EQ(get16(r.out, ip + 6), 0) << "no DF, no fragment, as the VXLAN device sends";
  EXPECT_EQ(r.out[ip + 8], 64) << "outer TTL";
  EXPECT_EQ(r.out[ip + 9], 17) << "UDP";
  EXPECT_EQ(get32(r.out, ip + 12), ip4("192.168.77.1")) << "this host's underlay address";
  EXPECT_EQ(get32(r.out, ip + 16), ip4("192.168.77.2")) << "R's host";
  EXPECT_EQ(get16(r.out, ip + 10), ipv4_header_checksum(r.out, ip)) << "outer IP checksum";
  const size_t uh = ip + 20;
  const uint16_t sport = get16(r.out, uh);
  EXPECT_GE(sport, 49152) << "source port in RFC 7348's range";
  EXPECT_EQ(get16(r.out, uh + 2), 4789);
  EXPECT_EQ(get16(r.out, uh + 4), in.size() - kEth + kVxlanHeaders - 20) << "UDP length";
  EXPECT_EQ(get16(r.out, uh + 6), 0) << "zero UDP checksum (RFC 7348, IPv4)";
  EXPECT_EQ(get32(r.out, uh + 8), 0x08000000u) << "VXLAN flags: I";
  EXPECT_EQ(get32(r.out, uh + 12), kVni << 8) << "VNI";
  EXPECT_EQ(Bytes(r.out.begin() + kEth + kVxlanHeaders - kEth, r.out.end()), in)
      << "the inner frame as the container sent it";
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER), 1u);

  // One flow, one source port (the underlay's ECMP keeps it on one path);
  // other flows spread.
  std::set<uint16_t> sports;
  for (uint16_t p = 40000; p < 40016; ++p) {
    RunResult again = run_prog(dp_->from_container_prog_fd(),
                               udp(kRemoteMac, kMacA, "10.50.0.2", "10.50.0.3", p));
    ASSERT_EQ(again.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
    if (p == 40000) {
      EXPECT_EQ(get16(again.out, uh), sport);
    }
    sports.insert(get16(again.out, uh));
  }
  EXPECT_GE(sports.size(), 8u) << "16 flows over " << sports.size() << " source ports";

  // Through the device only again: the frame leaves untouched.
  dp_->attach_underlay(0, 0);
  RunResult dev = run_prog(dp_->from_container_prog_fd(), in);
  EXPECT_EQ(dev.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(dev.out, in);
}

// TCP keeps the VXLAN device both ways: its GSO and GRO, and the kernel's
// clearing of the tunnel's offload state on the way in.
TEST_F(OverlayProgTest, TcpStaysOnTheVxlanDeviceBothWays) {
  attach_vxlan();
  attach_underlay();
  Bytes in = tcp_a_to("10.50.0.3");
  RunResult r = encap(in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, in) << "left to the VXLAN device";
  ASSERT_EQ(probe_->bss->probe_key_rc, 0) << "with its tunnel key";
  Bytes tunnelled = vxlan_frame(tcp_r_to("10.50.0.4"), "192.168.77.2", kVni);
  RunResult back = from_underlay(tunnelled);
  EXPECT_EQ(back.retval, static_cast<uint32_t>(TC_ACT_UNSPEC)) << "passed on to the device";
  EXPECT_EQ(back.out, tunnelled);
}

TEST_F(OverlayProgTest, OuterEcnCopiesTheInnerCeBecomingEct0) {
  attach_vxlan();
  attach_underlay();
  for (auto [inner_tos, outer_tos] : {std::pair<uint8_t, uint8_t>{0x01, 0x01},
                                      {0x02, 0x02},
                                      {0x03, 0x02},
                                      {0xb8, 0x00},
                                      {0xba, 0x02}}) {
    Bytes in = udp_a_to("10.50.0.3");
    in[kEth + 1] = inner_tos;
    put16(in, kEth + 10, 0);
    put16(in, kEth + 10, ipv4_header_checksum(in));
    RunResult r = run_prog(dp_->from_container_prog_fd(), in);
    ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
    EXPECT_EQ(r.out[kEth + 1], outer_tos) << "inner TOS " << int(inner_tos);
    EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out));
  }
}

TEST_F(OverlayProgTest, TooBigForTheUnderlayGoesThroughTheDeviceWhichFragments) {
  attach_vxlan();
  attach_underlay();
  Ipv4Spec s;
  s.proto = 17;
  s.saddr = ip4("10.50.0.2");
  s.daddr = ip4("10.50.0.3");
  s.payload.assign(1500 - 20 - 8 - kVxlanHeaders + 1, 'x');  // one byte over, wrapped
  Bytes in = ipv4_frame(kRemoteMac, kMacA, s);
  put16(in, kEth + 6, 0);  // no DF: a router would fragment it
  put16(in, kEth + 10, ipv4_header_checksum(in));
  RunResult r = encap(in);
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(r.out, in) << "left to the VXLAN device";
  ASSERT_EQ(probe_->bss->probe_key_rc, 0) << "with its tunnel key";
  EXPECT_EQ(probe_->bss->probe_key.local_ipv4, ip4("192.168.77.2"));
  // One byte less fits: BPF.
  s.payload.pop_back();
  Bytes fits = ipv4_frame(kRemoteMac, kMacA, s);
  RunResult f = run_prog(dp_->from_container_prog_fd(), fits);
  ASSERT_EQ(f.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(f.out.size(), fits.size() + kVxlanHeaders);
  EXPECT_EQ(get16(f.out, kEth + 2), 1500);
}

TEST_F(OverlayProgTest, UnderlayDecapDeliversAsTheVxlanDeviceDoes) {
  attach_vxlan();
  attach_underlay();
  Bytes inner = udp_r_to("10.50.0.4");
  RunResult r = from_underlay(vxlan_frame(inner, "192.168.77.2", kVni));
  ASSERT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_REDIRECT));
  // The outer headers gone; the Ethernet header the local peer gets.
  Bytes want = inner;
  std::memcpy(&want[0], kMacL.data(), 6);
  std::memcpy(&want[6], kGwL.data(), 6);
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out));
  EXPECT_EQ(get16(r.out, kEth + 20 + 6), l4_checksum(r.out));
  // The same bytes as through the device.
  EXPECT_EQ(decap(inner, "192.168.77.2", kVni).out, want);
  EXPECT_EQ(count(kLo, BPFNET_OK, BPFNET_DIR_FROM_UPLINK), 2u);
  EXPECT_EQ(count(kLocalPeerIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 2u);
}

TEST_F(OverlayProgTest, UnderlayDecapDropsForgedAndForeignPackets) {
  attach_vxlan();
  attach_underlay();
  auto expect_underlay_drop = [&](const Bytes& frame, bpfnet_reason reason) {
    uint64_t before = count(kLo, reason, BPFNET_DIR_FROM_UPLINK);
    EXPECT_EQ(from_underlay(frame).retval, static_cast<uint32_t>(TC_ACT_SHOT));
    EXPECT_EQ(count(kLo, reason, BPFNET_DIR_FROM_UPLINK), before + 1)
        << "drop reason " << int(reason) << " not counted on the underlay";
  };
  // R lives on 192.168.77.2: another host cannot speak for it.
  expect_underlay_drop(vxlan_frame(udp_r_to("10.50.0.4"), "192.168.77.9", kVni),
                       BPFNET_DROP_TUNNEL_SPOOF);
  // Right host, wrong VNI.
  expect_underlay_drop(vxlan_frame(udp_r_to("10.50.0.4"), "192.168.77.2", kOtherVni),
                       BPFNET_DROP_TUNNEL_SPOOF);
  // To a local endpoint of another overlay.
  expect_underlay_drop(vxlan_frame(udp_r_to("10.60.0.2"), "192.168.77.2", kVni),
                       BPFNET_DROP_ISOLATION);
  // ARP never crosses.
  expect_underlay_drop(vxlan_frame(arp_frame(kBroadcast, kRemoteMac, 1, kRemoteMac,
                                             ip4("10.50.0.3"), kZero, ip4("10.50.0.4")),
                                   "192.168.77.2", kVni),
                       BPFNET_DROP_UNSUPPORTED_L3);
  EXPECT_EQ(count(kLocalPeerIf, BPFNET_OK, BPFNET_DIR_TO_CONTAINER), 0u);
}

TEST_F(OverlayProgTest, UnderlayPassesWhatIsNotItsVxlanUntouched) {
  attach_vxlan();
  attach_underlay();
  Bytes inner = udp_r_to("10.50.0.4");
  Bytes fragment = vxlan_frame(inner, "192.168.77.2", kVni);
  put16(fragment, kEth + 6, 0x2000);  // MF: the stack reassembles first
  Bytes flags = vxlan_frame(inner, "192.168.77.2", kVni);
  put32(flags, kEth + 28, 0x08000001);  // reserved bits: the device judges
  Bytes other_port = vxlan_frame(inner, "192.168.77.2", kVni);
  put16(other_port, kEth + 22, 4790);
  Ipv4Spec host_tcp;
  host_tcp.saddr = ip4("192.168.77.2");
  host_tcp.daddr = ip4("192.168.77.1");
  for (const auto& [what, frame] : std::vector<std::pair<const char*, Bytes>>{
           {"TCP to the host", ipv4_frame(kUnderlayMac, kPeerHostMac, host_tcp)},
           {"VXLAN to another address",
            vxlan_frame(inner, "192.168.77.2", kVni, 0, "192.168.77.5")},
           {"a UDP checksum to check", vxlan_frame(inner, "192.168.77.2", kVni, 0x1234)},
           {"an outer fragment", fragment},
           {"VXLAN flags other than I", flags},
           {"another UDP port", other_port},
           {"ARP", arp_frame(kBroadcast, kPeerHostMac, 1, kPeerHostMac, ip4("192.168.77.2"), kZero,
                             ip4("192.168.77.1"))}}) {
    RunResult r = from_underlay(frame);
    EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_UNSPEC)) << what;
    EXPECT_EQ(r.out, frame) << what;
  }
  for (const auto& row : dp_->read_metrics())
    ADD_FAILURE() << "counted: reason " << int(row.reason);
}

}  // namespace
}  // namespace bpfnet::test
