// BPF_PROG_TEST_RUN tests of masquerade's source ports (issue 12, item 8):
// the span the daemon writes to bpfnet_config (from the host's
// ip_local_port_range) is the one used, a random start and a walk find the
// last free port of it, and exhaustion is a counted drop.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <memory>
#include <set>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "packet.h"
#include "prog_runner.h"

namespace bpfnet::test {
namespace {

constexpr uint32_t kLo = 1;
constexpr uint8_t kUdp = 17;
constexpr uint32_t kShot = TC_ACT_SHOT, kRedirect = TC_ACT_REDIRECT;
const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kRouter{0x02, 0, 0, 0, 0x02, 0x54};
const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kRemote = ip4("198.51.100.9");
const uint32_t kIpA = ip4("172.18.0.2");

Bytes udp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp) {
  Ipv4Spec spec;
  spec.proto = kUdp;
  spec.saddr = s;
  spec.daddr = d;
  spec.sport = sp;
  spec.dport = dp;
  return ipv4_frame(dst, src, spec);
}

class NatPortsProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    const uint32_t up0 = if_nametoindex("up0");
    ASSERT_NE(up0, 0u);
    want_.networks[1] = datapath::NetworkEntry{
        1,   ip4("172.18.0.0"), 16, ip4("172.18.0.1"), BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE,
        1500};
    want_.add_endpoint(datapath::EndpointEntry{kLo, 1, kIpA, kMacA, kGwA});
    want_.host_addrs[kHost] = 0;
    want_.uplinks[up0] = datapath::UplinkEntry{up0, kHost, kUp0};
    dp_->apply(datapath::diff(dp_->read_maps(), want_));
  }
  void TearDown() override { dp_->set_nat_ports(0, 0); }  // the defaults, for other tests

  RunResult from_a(uint16_t sport) {
    return run_prog(dp_->from_container_prog_fd(), udp(kGwA, kMacA, kIpA, kRemote, sport, 53));
  }
  uint64_t no_port_drops() {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.ifindex == kLo && row.reason == BPFNET_DROP_NAT_NO_PORT) n += row.packets;
    return n;
  }
  // Holds `port` towards kRemote:53 as another flow's reply half would.
  void take(uint16_t port) {
    struct bpfnet_ct_key k {};
    k.saddr = htonl(kRemote);
    k.daddr = htonl(kHost);
    k.sport = htons(53);
    k.dport = htons(port);
    k.proto = kUdp;
    struct bpfnet_ct_value v {};
    v.expires_ns = ~0ULL;  // live: an expired flow's port is free again
    ASSERT_EQ(bpf_map_update_elem(dp_->map_fd(BPFNET_MAP_CT), &k, &v, BPF_ANY), 0);
  }
  void clear_conntrack() {
    std::vector<datapath::CtKey> keys;
    for (const auto& e : dp_->read_conntrack()) keys.push_back(e.key);
    dp_->delete_conntrack(keys);
  }

  std::unique_ptr<datapath::Datapath> dp_;
  datapath::MapContents want_;
};

TEST_F(NatPortsProgTest, TheConfiguredSpanIsUsedWholeThenExhaustionIsCounted) {
  dp_->set_nat_ports(20000, 20009);
  std::set<uint16_t> used;
  for (uint16_t i = 0; i < 10; ++i) {
    RunResult r = from_a(static_cast<uint16_t>(30000 + i));
    ASSERT_EQ(r.retval, kRedirect) << "flow " << i;
    const uint16_t nport = get16(r.out, kEth + 20);
    EXPECT_GE(nport, 20000);
    EXPECT_LE(nport, 20009);
    used.insert(nport);
    // Every rewritten byte: source address and port, checksums, MACs of up0's next hop.
    EXPECT_EQ(r.out, routed(udp(kRouter, kUp0, kHost, kRemote, nport, 53)));
    EXPECT_EQ(get16(r.out, kEth + 10), ipv4_header_checksum(r.out));
    EXPECT_EQ(get16(r.out, kEth + 26), l4_checksum(r.out));
  }
  EXPECT_EQ(used.size(), 10u) << "ten flows, ten ports: the walk found every free one";
  EXPECT_EQ(no_port_drops(), 0u);
  EXPECT_EQ(from_a(30010).retval, kShot);
  EXPECT_EQ(no_port_drops(), 1u) << "exhaustion counted as nat-no-port";
}

TEST_F(NatPortsProgTest, TheWalkFindsTheLastFreePort) {
  dp_->set_nat_ports(30000, 30099);
  for (uint16_t trial = 0; trial < 8; ++trial) {
    clear_conntrack();
    for (uint16_t p = 30000; p <= 30099; ++p)
      if (p != 30042) take(p);
    RunResult r = from_a(static_cast<uint16_t>(31000 + trial));
    ASSERT_EQ(r.retval, kRedirect) << "trial " << trial;
    EXPECT_EQ(get16(r.out, kEth + 20), 30042);
  }
  EXPECT_EQ(no_port_drops(), 0u);
}

}  // namespace
}  // namespace bpfnet::test
