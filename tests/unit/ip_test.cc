#include "core/ip.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;

TEST(Ipv4Test, ParsesDottedQuadIntoHostOrder) {
  Ipv4 ip = Ipv4::parse("172.17.0.2");
  EXPECT_EQ(ip.value, 0xac110002u);
  EXPECT_EQ(ip.to_string(), "172.17.0.2");
  EXPECT_EQ(Ipv4::parse("0.0.0.0").value, 0u);
  EXPECT_EQ(Ipv4::parse("255.255.255.255").value, 0xffffffffu);
  EXPECT_EQ(Ipv4::from_octets(10, 1, 2, 3), Ipv4::parse("10.1.2.3"));
}

TEST(Ipv4Test, RejectsAnythingButFourDecimalOctets) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", " 1.2.3.4",
                          "1.2.3.4 ", "1.2.3.4x", "1..2.3", "1.2.3.", ".1.2.3", "01.2.3.4",
                          "1.2.3.04", "a.b.c.d", "1.2.3.-4", "1.2.3.4/32", "1000.1.1.1"}) {
    EXPECT_FALSE(Ipv4::try_parse(bad).has_value()) << bad;
  }
  EXPECT_EQ(error_of([] { Ipv4::parse("1.2.3"); }), "invalid IPv4 address \"1.2.3\"");
}

TEST(CidrTest, ParsesAndComputesTheBlock) {
  Cidr subnet = Cidr::parse("172.20.0.0/16");
  EXPECT_EQ(subnet.prefix_len, 16);
  EXPECT_EQ(subnet.mask().to_string(), "255.255.0.0");
  EXPECT_EQ(subnet.network().to_string(), "172.20.0.0");
  EXPECT_EQ(subnet.broadcast().to_string(), "172.20.255.255");
  EXPECT_EQ(subnet.size(), 65536u);
  EXPECT_EQ(subnet.to_string(), "172.20.0.0/16");
}

TEST(CidrTest, HandlesTheExtremePrefixLengths) {
  Cidr all = Cidr::parse("0.0.0.0/0");
  EXPECT_EQ(all.mask().value, 0u);
  EXPECT_EQ(all.size(), uint64_t{1} << 32);
  EXPECT_TRUE(all.contains(Ipv4::parse("8.8.8.8")));
  Cidr host = Cidr::parse("10.0.0.7/32");
  EXPECT_EQ(host.size(), 1u);
  EXPECT_EQ(host.network(), host.broadcast());
}

TEST(CidrTest, RejectsBadSyntax) {
  for (const char* bad : {"10.0.0/8", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08",
                          "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0 /8", "10.0.0.0/8 "}) {
    EXPECT_FALSE(Cidr::try_parse(bad).has_value()) << bad;
  }
  EXPECT_EQ(error_of([] { Cidr::parse("10.0.0/8"); }), "invalid CIDR \"10.0.0/8\"");
}

TEST(CidrTest, ParseRequiresTheNetworkAddressLikeDocker) {
  EXPECT_EQ(error_of([] { Cidr::parse("172.20.5.1/16"); }),
            "invalid subnet 172.20.5.1/16 : it should be 172.20.0.0/16");
  // try_parse keeps host bits: routes and interface addresses carry them.
  Cidr with_host_bits = *Cidr::try_parse("172.20.5.1/16");
  EXPECT_FALSE(with_host_bits.is_network_address());
  EXPECT_EQ(with_host_bits.network().to_string(), "172.20.0.0");
}

TEST(CidrTest, ContainsAddressesAndBlocks) {
  Cidr subnet = Cidr::parse("10.1.0.0/16");
  EXPECT_TRUE(subnet.contains(Ipv4::parse("10.1.0.0")));
  EXPECT_TRUE(subnet.contains(Ipv4::parse("10.1.255.255")));
  EXPECT_FALSE(subnet.contains(Ipv4::parse("10.2.0.0")));
  EXPECT_FALSE(subnet.contains(Ipv4::parse("10.0.255.255")));
  EXPECT_TRUE(subnet.contains(Cidr::parse("10.1.5.0/24")));
  EXPECT_TRUE(subnet.contains(subnet));
  EXPECT_FALSE(subnet.contains(Cidr::parse("10.0.0.0/8")));
  EXPECT_FALSE(subnet.contains(Cidr::parse("10.2.0.0/24")));
}

TEST(CidrTest, OverlapsIsSymmetric) {
  Cidr big = Cidr::parse("10.0.0.0/8");
  Cidr inside = Cidr::parse("10.5.0.0/16");
  Cidr apart = Cidr::parse("11.0.0.0/8");
  EXPECT_TRUE(big.overlaps(inside));
  EXPECT_TRUE(inside.overlaps(big));
  EXPECT_FALSE(big.overlaps(apart));
  EXPECT_FALSE(apart.overlaps(big));
  // Adjacent blocks share no address.
  EXPECT_FALSE(Cidr::parse("192.168.0.0/20").overlaps(Cidr::parse("192.168.16.0/20")));
}

TEST(MacTest, ParsesEitherCaseAndPrintsLowercase) {
  Mac mac = Mac::parse("02:42:AC:11:00:02");
  EXPECT_EQ(mac.bytes, (std::array<uint8_t, 6>{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}));
  EXPECT_EQ(mac.to_string(), "02:42:ac:11:00:02");
}

TEST(MacTest, RejectsBadSyntax) {
  for (const char* bad :
       {"", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02-42-ac-11-00-02", "2:42:ac:11:00:02",
        "02:42:ac:11:00:0g", "02:42:ac:11:00:02 ", "0242.ac11.0002", "02:42:ac:11:00:002"}) {
    EXPECT_FALSE(Mac::try_parse(bad).has_value()) << bad;
  }
  EXPECT_EQ(error_of([] { Mac::parse("02:42"); }), "invalid MAC address \"02:42\"");
}

TEST(MacTest, EndpointsMayNotUseMulticastOrZeroAddresses) {
  EXPECT_EQ(error_of([] { Mac::parse_unicast("01:00:5e:00:00:01"); }),
            "invalid MAC address \"01:00:5e:00:00:01\": a multicast address cannot be assigned "
            "to an endpoint");
  EXPECT_EQ(error_of([] { Mac::parse_unicast("ff:ff:ff:ff:ff:ff"); }),
            "invalid MAC address \"ff:ff:ff:ff:ff:ff\": a multicast address cannot be assigned "
            "to an endpoint");
  EXPECT_EQ(error_of([] { Mac::parse_unicast("00:00:00:00:00:00"); }),
            "invalid MAC address \"00:00:00:00:00:00\": the zero address cannot be assigned to "
            "an endpoint");
  EXPECT_EQ(Mac::parse_unicast("02:00:00:00:00:01").to_string(), "02:00:00:00:00:01");
}

TEST(MacTest, MacForIpIsDockersClassicScheme) {
  EXPECT_EQ(mac_for_ip(Ipv4::parse("172.17.0.2")).to_string(), "02:42:ac:11:00:02");
  EXPECT_EQ(mac_for_ip(Ipv4::parse("192.168.16.255")).to_string(), "02:42:c0:a8:10:ff");
  EXPECT_FALSE(mac_for_ip(Ipv4::parse("255.255.255.255")).is_multicast());
}

}  // namespace
}  // namespace bpfnet::core
