#include "core/nat_ports.h"

#include <gtest/gtest.h>

#include "bpfnet_abi.h"

namespace bpfnet::core {
namespace {

TEST(NatPortsTest, OutsideTheEphemeralRangeTheLargerSpan) {
  // Linux's default range: below it is larger than above.
  EXPECT_EQ(masquerade_ports(32768, 60999), (NatPortSpan{1024, 32767}));
  EXPECT_EQ(masquerade_ports(32768, 60999).size(), 31744u);
  EXPECT_EQ(masquerade_ports(1024, 20000), (NatPortSpan{20001, 65535}));
  EXPECT_EQ(masquerade_ports(20000, 65000), (NatPortSpan{1024, 19999}));
}

TEST(NatPortsTest, NoRoomFallsBackToTheDatapathDefault) {
  EXPECT_EQ(masquerade_ports(1024, 65535), kDefaultNatPorts);
  EXPECT_EQ(masquerade_ports(1500, 65000), kDefaultNatPorts);  // 476 and 535 ports
  EXPECT_EQ(kDefaultNatPorts.min, BPFNET_NAT_PORT_MIN);
  EXPECT_EQ(kDefaultNatPorts.max, BPFNET_NAT_PORT_MAX);
}

// A forward half of a flow from 10.0.0.2:`sport` to `dst`:53, rewritten
// (SNAT) to `addr`:`port`, live until `expires`.
FlowHalf snat_half(uint32_t addr, uint16_t port, uint32_t dst, uint16_t sport, uint64_t expires,
                   uint8_t flags = BPFNET_CT_F_SNAT) {
  FlowHalf h;
  h.key = {0x0a000002, dst, sport, 53, 17};
  h.rewrite = {addr, dst, port, 53, 17};
  h.flags = flags;
  h.expires_ns = expires;
  return h;
}

TEST(NatPortsTest, PortsInUseAreTheDistinctPortsOfLiveSnatFlowsPerAddress) {
  const uint32_t up1 = 0xc0000201, up2 = 0xc0000202, dns1 = 0x08080808, dns2 = 0x01010101;
  const uint64_t now = 1000;
  std::vector<FlowHalf> halves = {
      snat_half(up1, 20000, dns1, 40000, now + 1),
      snat_half(up1, 20001, dns1, 40001, now + 1),
      // The same port towards another destination: one port in use.
      snat_half(up1, 20000, dns2, 40002, now + 1),
      snat_half(up2, 20000, dns1, 40003, now + 1),
      // Expired (the datapath reuses its port), a reply half, a DNAT flow
      // (no port taken): none counts.
      snat_half(up1, 20002, dns1, 40004, now),
      snat_half(up1, 20003, dns1, 40005, now + 1, BPFNET_CT_F_SNAT | BPFNET_CT_F_REPLY),
      snat_half(up1, 20004, dns1, 40006, now + 1, BPFNET_CT_F_DNAT),
  };
  // Hairpin (DNAT+SNAT) takes its port from the same allocator: it counts.
  halves.push_back(
      snat_half(up2, 20005, dns1, 40007, now + 1, BPFNET_CT_F_DNAT | BPFNET_CT_F_SNAT));
  const auto in_use = masquerade_ports_in_use(halves, now);
  EXPECT_EQ(in_use, (std::map<uint32_t, uint32_t>{{up1, 2}, {up2, 2}}));
  EXPECT_TRUE(masquerade_ports_in_use({}, now).empty());
}

}  // namespace
}  // namespace bpfnet::core
