#include "core/pools.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::cidr;
using testing::error_of;

TEST(PoolsTest, DefaultPoolsAreDockersInOrder) {
  const std::vector<Cidr>& pools = default_local_pools();
  ASSERT_EQ(pools.size(), 31u);  // 3 /16s + 3 /14s split into 4 /16s + 16 /20s
  std::vector<std::string> expected_16s;
  for (int octet = 17; octet <= 31; ++octet)
    expected_16s.push_back(fmt::format("172.{}.0.0/16", octet));
  for (size_t i = 0; i < expected_16s.size(); ++i) EXPECT_EQ(pools[i].to_string(), expected_16s[i]);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(pools[15 + i].to_string(), fmt::format("192.168.{}.0/20", i * 16));
  }
}

TEST(PoolsTest, PicksTheFirstPoolWhenNothingIsTaken) {
  EXPECT_EQ(pick_subnet({}).to_string(), "172.17.0.0/16");
}

TEST(PoolsTest, SkipsPoolsOverlappingExistingNetworksAndHostRoutes) {
  // An existing network on 172.17/16 and a host route inside 172.18/16.
  std::vector<Cidr> taken = {cidr("172.17.0.0/16"), cidr("172.18.3.0/24")};
  EXPECT_EQ(pick_subnet(taken).to_string(), "172.19.0.0/16");
}

TEST(PoolsTest, SkipsPoolsInsideABroadHostRoute) {
  // A VPN route covering all of 172.16/12 pushes Docker to 192.168.
  EXPECT_EQ(pick_subnet({cidr("172.16.0.0/12")}).to_string(), "192.168.0.0/20");
  // A host address route (/32) taints only its own pool.
  EXPECT_EQ(pick_subnet({cidr("172.16.0.0/12"), cidr("192.168.1.10/32")}).to_string(),
            "192.168.16.0/20");
}

TEST(PoolsTest, IgnoresDefaultRoutes) {
  EXPECT_EQ(pick_subnet({cidr("0.0.0.0/0")}).to_string(), "172.17.0.0/16");
}

TEST(PoolsTest, ExhaustionUsesDockersMessage) {
  std::vector<Cidr> taken = {cidr("172.16.0.0/12"), cidr("192.168.0.0/16")};
  EXPECT_EQ(error_of([&] { pick_subnet(taken); }),
            "all predefined address pools have been fully subnetted");
}

}  // namespace
}  // namespace bpfnet::core
