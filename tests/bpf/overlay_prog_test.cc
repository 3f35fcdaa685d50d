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

  void TearDown() override { std::system("ip link del bpfnet_vxlan 2>/dev/null"); }

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

}  // namespace
}  // namespace bpfnet::test
