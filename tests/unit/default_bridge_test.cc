// ensure_default_bridge: Docker's default network, --bip and --bridge none.
#include "core/default_bridge.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/state_validate.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::attach;
using testing::bridge;
using testing::cidr;
using testing::error_of;
using testing::expect_error_and_unchanged;
using testing::FakeIds;
using testing::fresh_state;
using testing::ip;
using testing::kNow;

class DefaultBridgeTest : public ::testing::Test {
 protected:
  std::vector<std::string> ensure(const DefaultBridgeSettings& settings = {},
                                  const std::vector<Cidr>& avoid = {}) {
    return ensure_default_bridge(state, settings, avoid, ids, kNow);
  }
  const Network* bridge_net() const { return state.network_by_name("bridge"); }

  FakeIds ids;
  State state = fresh_state(ids);
};

TEST_F(DefaultBridgeTest, CreatedAsDockerDoes) {
  auto log = ensure();
  ASSERT_NE(bridge_net(), nullptr);
  const Network& net = *bridge_net();
  EXPECT_TRUE(is_default_bridge(net));
  EXPECT_EQ(net.driver, "bridge");
  EXPECT_FALSE(net.builtin);
  EXPECT_EQ(net.subnet, cidr("172.17.0.0/16"));
  EXPECT_EQ(net.gateway, ip("172.17.0.1"));
  EXPECT_TRUE(net.parsed.icc);
  EXPECT_TRUE(net.parsed.masquerade);
  EXPECT_EQ(net.options.at("com.docker.network.bridge.default_bridge"), "true");
  EXPECT_EQ(net.index, 1u);
  EXPECT_EQ(log, std::vector<std::string>{
                     "default bridge network \"bridge\": 172.17.0.0/16 (gateway 172.17.0.1)"});
  EXPECT_NO_THROW(validate_state(state));
  // Idempotent: a restart finds it and changes nothing.
  State before = state;
  EXPECT_TRUE(ensure().empty());
  EXPECT_EQ(state, before);
}

TEST_F(DefaultBridgeTest, SkipsAHostRouteAsDockerDoes) {
  // docker0 already holds 172.17.0.0/16 on this host.
  std::vector<Cidr> routes = {cidr("172.17.0.1/16")};
  ensure({}, routes);
  EXPECT_EQ(bridge_net()->subnet, cidr("172.18.0.0/16"));
  // Networks created afterwards take the following pools.
  EXPECT_EQ(create_network(state, bridge("web"), routes, ids, kNow).subnet, cidr("172.19.0.0/16"));
}

TEST_F(DefaultBridgeTest, BipChoosesSubnetAndGateway) {
  ensure({.bip = "10.200.0.1/24"});
  EXPECT_EQ(bridge_net()->subnet, cidr("10.200.0.0/24"));
  EXPECT_EQ(bridge_net()->gateway, ip("10.200.0.1"));
  // A later, different --bip is reported, not applied.
  auto log = ensure({.bip = "10.201.0.1/24"});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("the default bridge stays 10.200.0.0/24"), std::string::npos) << log[0];
  EXPECT_EQ(bridge_net()->subnet, cidr("10.200.0.0/24"));
}

TEST_F(DefaultBridgeTest, BadBipIsRefusedAndChangesNothing) {
  for (std::string bad : {"10.0.0.0/24", "10.0.0.255/24", "10.0.0.1", "10.0.0.1/31", "x/16"})
    expect_error_and_unchanged(
        state, [&](State&) { ensure({.bip = bad}); },
        "invalid --bip \"" + bad +
            "\": expected the bridge's address and prefix length, e.g. 172.26.0.1/16");
  create_network(state, bridge("web", "10.9.0.0/16"), {}, ids, kNow);
  expect_error_and_unchanged(
      state, [&](State&) { ensure({.bip = "10.9.8.1/24"}); },
      "Pool overlaps with other one on this address space: 10.9.8.0/24 overlaps network web "
      "(10.9.0.0/16)");
}

TEST_F(DefaultBridgeTest, CannotBeRemovedButTakesContainers) {
  ensure();
  expect_error_and_unchanged(
      state, [&](State& s) { remove_network(s, "bridge"); },
      "bridge is a pre-defined network and cannot be removed");
  const Endpoint& ep = connect(state, attach("bridge", "c1"), ids);
  EXPECT_EQ(ep.ip, ip("172.17.0.2"));
  EXPECT_EQ(error_of([&] { create_network(state, bridge("bridge"), {}, ids, kNow); }),
            "network with name bridge already exists");
}

TEST_F(DefaultBridgeTest, BridgeNoneRemovesItOnlyWhenUnused) {
  ensure();
  connect(state, attach("bridge", "c1"), ids);
  auto log = ensure({.enabled = false, .bip = {}});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("kept while it has endpoints"), std::string::npos) << log[0];
  ASSERT_NE(bridge_net(), nullptr);
  remove_endpoint(state, "bridge", "c1");
  ensure({.enabled = false, .bip = {}});
  EXPECT_EQ(bridge_net(), nullptr);
  EXPECT_EQ(state.networks.size(), 2u);  // host and none
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(DefaultBridgeTest, AUserNetworkNamedBridgeIsLeftAlone) {
  create_network(state, bridge("bridge", "10.5.0.0/24"), {}, ids, kNow);
  State before = state;
  auto log = ensure();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("a network of yours is named \"bridge\""), std::string::npos);
  EXPECT_EQ(state, before);
  EXPECT_TRUE(ensure({.enabled = false, .bip = {}}).empty());
  EXPECT_EQ(state, before);
  // Not the default bridge: the user may remove it.
  EXPECT_NO_THROW(remove_network(state, "bridge"));
}

}  // namespace
}  // namespace bpfnet::core
