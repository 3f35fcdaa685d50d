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

}  // namespace
}  // namespace bpfnet::core
