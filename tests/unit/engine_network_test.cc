// create_network and remove_network.
#include <gtest/gtest.h>

#include "bpfnet_abi.h"
#include "core/engine.h"
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
using testing::hex_id;
using testing::ip;
using testing::kNow;

class CreateNetworkTest : public ::testing::Test {
 protected:
  // Creates and returns a copy (the reference dies with the next change).
  Network create(const NetworkCreate& request, const std::vector<Cidr>& routes = {}) {
    return create_network(state, request, routes, ids, kNow);
  }
  void expect_create_fails(const NetworkCreate& request, const std::string& message,
                           const std::vector<Cidr>& routes = {}) {
    expect_error_and_unchanged(
        state, [&](State& s) { create_network(s, request, routes, ids, kNow); }, message);
  }

  FakeIds ids;
  State state = fresh_state(ids);
};

TEST_F(CreateNetworkTest, DefaultsFollowDocker) {
  Network network = create(bridge("web"));
  EXPECT_EQ(network.name, "web");
  EXPECT_EQ(network.driver, "bridge");
  EXPECT_EQ(network.created, kNow);
  EXPECT_EQ(network.subnet, cidr("172.17.0.0/16"));
  EXPECT_EQ(network.gateway, ip("172.17.0.1"));
  EXPECT_FALSE(network.ip_range.has_value());
  EXPECT_FALSE(network.internal);
  EXPECT_FALSE(network.builtin);
  EXPECT_EQ(network.index, 1u);
  EXPECT_TRUE(is_hex_id(network.id));
  EXPECT_EQ(network.dummy_ifname, "bn-" + network.id.substr(0, 12));
  EXPECT_EQ(network.parsed, NetworkOptions{});
  EXPECT_EQ(state.networks.size(), 3u);
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(CreateNetworkTest, EmptyDriverMeansBridge) {
  NetworkCreate request = bridge("web");
  request.driver = "";
  EXPECT_EQ(create(request).driver, "bridge");
}

TEST_F(CreateNetworkTest, AutomaticSubnetsSkipNetworksAndHostRoutes) {
  EXPECT_EQ(create(bridge("a")).subnet, cidr("172.17.0.0/16"));
  // The host has a route in 172.18/16 (a VPN, say) and a default route.
  std::vector<Cidr> routes = {cidr("0.0.0.0/0"), cidr("172.18.0.0/24")};
  EXPECT_EQ(create(bridge("b"), routes).subnet, cidr("172.19.0.0/16"));
  EXPECT_EQ(create(bridge("c"), routes).subnet, cidr("172.20.0.0/16"));
  // An explicit subnet is free to overlap a host route.
  EXPECT_EQ(create(bridge("d", "172.18.0.0/16"), routes).subnet, cidr("172.18.0.0/16"));
}

TEST_F(CreateNetworkTest, ExhaustedPoolsUseDockersMessage) {
  expect_create_fails(bridge("web"), "all predefined address pools have been fully subnetted",
                      {cidr("172.16.0.0/12"), cidr("192.168.0.0/16")});
}

TEST_F(CreateNetworkTest, ExplicitSubnetGatewayAndRange) {
  NetworkCreate request = bridge("web", "10.10.0.0/16");
  request.gateway = "10.10.0.254";
  request.ip_range = "10.10.8.0/22";
  request.internal = true;
  Network network = create(request);
  EXPECT_EQ(network.subnet, cidr("10.10.0.0/16"));
  EXPECT_EQ(network.gateway, ip("10.10.0.254"));
  EXPECT_EQ(network.ip_range, cidr("10.10.8.0/22"));
  EXPECT_TRUE(network.internal);
}

TEST_F(CreateNetworkTest, NameRules) {
  expect_create_fails(bridge(""), "network name must not be empty");
  expect_create_fails(bridge("my net"),
                      "invalid network name (my net), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  expect_create_fails(bridge("_x"),
                      "invalid network name (_x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  create(bridge("web"));
  expect_create_fails(bridge("web"), "network with name web already exists");
  expect_create_fails(bridge("host"), "network with name host already exists");
  expect_create_fails(bridge("none"), "network with name none already exists");
}

TEST_F(CreateNetworkTest, DriverRules) {
  NetworkCreate request = bridge("x");
  request.driver = "host";
  expect_create_fails(request, "only one instance of \"host\" network is allowed");
  request.driver = "null";
  expect_create_fails(request, "only one instance of \"null\" network is allowed");
  request.driver = "none";
  expect_create_fails(request, "only one instance of \"null\" network is allowed");
  request.driver = "macvlan";
  expect_create_fails(request, "plugin \"macvlan\" not found");
}

TEST_F(CreateNetworkTest, SubnetRules) {
  expect_create_fails(bridge("x", "10.0.0/8"),
                      "invalid subnet 10.0.0/8: invalid CIDR block notation");
  expect_create_fails(bridge("x", "172.20.5.1/16"),
                      "invalid subnet 172.20.5.1/16 : it should be 172.20.0.0/16");
  expect_create_fails(bridge("x", "10.0.0.0/31"),
                      "invalid subnet 10.0.0.0/31: too small for a gateway and an endpoint (the "
                      "longest prefix is /30)");
  expect_create_fails(bridge("x", "127.0.0.0/16"),
                      "invalid subnet 127.0.0.0/16: it overlaps the loopback range 127.0.0.0/8");
  expect_create_fails(bridge("x", "0.0.0.0/0"),
                      "invalid subnet 0.0.0.0/0: it overlaps the \"this network\" range 0.0.0.0/8");
  expect_create_fails(bridge("x", "239.1.0.0/16"),
                      "invalid subnet 239.1.0.0/16: it overlaps the multicast and reserved range "
                      "224.0.0.0/3");
  EXPECT_EQ(create(bridge("tiny", "10.0.0.0/30")).gateway, ip("10.0.0.1"));
}

TEST_F(CreateNetworkTest, SubnetMayNotOverlapAnotherNetwork) {
  create(bridge("web", "10.1.0.0/16"));
  expect_create_fails(bridge("x", "10.0.0.0/8"),
                      "Pool overlaps with other one on this address space: 10.0.0.0/8 overlaps "
                      "network web (10.1.0.0/16)");
  expect_create_fails(bridge("x", "10.1.2.0/24"),
                      "Pool overlaps with other one on this address space: 10.1.2.0/24 overlaps "
                      "network web (10.1.0.0/16)");
  EXPECT_EQ(create(bridge("y", "10.2.0.0/16")).subnet, cidr("10.2.0.0/16"));
}

TEST_F(CreateNetworkTest, AutomaticSubnetAvoidsExplicitOnes) {
  create(bridge("web", "172.17.0.0/16"));
  EXPECT_EQ(create(bridge("auto")).subnet, cidr("172.18.0.0/16"));
}

TEST_F(CreateNetworkTest, GatewayRules) {
  NetworkCreate request = bridge("x", "10.1.0.0/24");
  request.gateway = "10.1.0";
  expect_create_fails(request, "invalid gateway 10.1.0: invalid address");
  request.gateway = "10.2.0.1";
  expect_create_fails(request,
                      "invalid gateway 10.2.0.1: parent subnet 10.1.0.0/24 doesn't contain this "
                      "address");
  request.gateway = "10.1.0.0";
  expect_create_fails(request,
                      "invalid gateway 10.1.0.0: it is the network address of 10.1.0.0/24");
  request.gateway = "10.1.0.255";
  expect_create_fails(request,
                      "invalid gateway 10.1.0.255: it is the broadcast address of 10.1.0.0/24");
}

TEST_F(CreateNetworkTest, IpRangeRules) {
  NetworkCreate request = bridge("x", "10.1.0.0/16");
  request.ip_range = "10.1.0/24";
  expect_create_fails(request, "invalid ip-range 10.1.0/24: invalid CIDR block notation");
  request.ip_range = "10.0.0.0/8";
  expect_create_fails(request,
                      "invalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet "
                      "10.1.0.0/16");
  request.ip_range = "10.1.5.1/24";
  expect_create_fails(request, "invalid ip-range 10.1.5.1/24: it should be 10.1.5.0/24");
  request.ip_range = "10.2.5.0/24";
  expect_create_fails(request,
                      "invalid ip-range 10.2.5.0/24: parent subnet 10.1.0.0/16 doesn't contain "
                      "ip-range");
}

TEST_F(CreateNetworkTest, GatewayOrRangeNeedASubnet) {
  NetworkCreate request = bridge("x");
  request.gateway = "10.1.0.1";
  expect_create_fails(request, "every ip-range or gateway must have a corresponding subnet");
  request.gateway.reset();
  request.ip_range = "10.1.0.0/24";
  expect_create_fails(request, "every ip-range or gateway must have a corresponding subnet");
}

TEST_F(CreateNetworkTest, OptionsAreKeptAndParsed) {
  NetworkCreate request = bridge("x");
  request.options = {{"com.docker.network.driver.mtu", "1400"}, {"com.example.note", "hi"}};
  Network network = create(request);
  EXPECT_EQ(network.options, request.options);
  EXPECT_EQ(network.parsed.mtu, 1400u);

  request.name = "y";
  request.options = {{"com.docker.network.bridge.enable_icc", "nope"}};
  expect_create_fails(request,
                      "invalid value \"nope\" for option com.docker.network.bridge.enable_icc: "
                      "expected a boolean (true or false)");
}

TEST_F(CreateNetworkTest, IndexIsTheLowestFreeNumber) {
  create(bridge("a"));
  create(bridge("b"));
  create(bridge("c"));
  EXPECT_EQ(state.network_by_name("c")->index, 3u);
  remove_network(state, "b");
  EXPECT_EQ(create(bridge("d")).index, 2u);
  EXPECT_EQ(create(bridge("e")).index, 4u);
}

TEST_F(CreateNetworkTest, IndexIsBoundedByTheBpfMap) {
  // Going through create_network thousands of times is slow in a debug
  // build, so build all but the last allowed network directly.
  for (uint32_t index = 1; index < BPFNET_MAX_NETWORKS - 1; ++index) {
    Network network;
    network.id = fmt::format("{:064x}", index);
    network.name = fmt::format("n{}", index);
    network.driver = "bridge";
    network.created = kNow;
    network.subnet = Cidr{Ipv4{Ipv4::from_octets(10, 0, 0, 0).value + index * 4}, 30};
    network.gateway = Ipv4{network.subnet->network().value + 1};
    network.index = index;
    network.dummy_ifname = fmt::format("bn-{:012x}", index);
    state.networks.push_back(network);
  }
  ASSERT_NO_THROW(validate_state(state));
  EXPECT_EQ(create(bridge("last", "11.0.0.0/24")).index, BPFNET_MAX_NETWORKS - 1);
  expect_create_fails(bridge("one-too-many", "11.0.1.0/24"),
                      "cannot create network: bpfnet supports at most 4095 networks");
}

TEST_F(CreateNetworkTest, RedrawsIdsWhoseInterfacePrefixIsTaken) {
  // The second ID shares its first 12 hex digits (the dummy interface name)
  // with the first one, so a third must be drawn.
  FakeIds scripted(
      {hex_id("0123456789ab", '1'), hex_id("0123456789ab", '2'), hex_id("0123456789ac", '3')});
  Network first = create_network(state, bridge("a"), {}, scripted, kNow);
  Network second = create_network(state, bridge("b"), {}, scripted, kNow);
  EXPECT_EQ(first.dummy_ifname, "bn-0123456789ab");
  EXPECT_EQ(second.dummy_ifname, "bn-0123456789ac");
  EXPECT_EQ(scripted.calls(), 3);
}

TEST_F(CreateNetworkTest, MalformedIdsFromTheSourceAreALogicError) {
  FakeIds broken({"not-hex"});
  EXPECT_THROW(create_network(state, bridge("a"), {}, broken, kNow), std::logic_error);
  EXPECT_EQ(state.network_by_name("a"), nullptr);
}

class RemoveNetworkTest : public CreateNetworkTest {};

TEST_F(RemoveNetworkTest, RemovesByNameIdOrPrefixAndReturnsTheNetwork) {
  Network a = create(bridge("a"));
  Network b = create(bridge("b"));
  Network c = create(bridge("c"));
  EXPECT_EQ(remove_network(state, "a"), a);
  EXPECT_EQ(remove_network(state, b.id), b);
  EXPECT_EQ(remove_network(state, c.id.substr(0, 12)), c);
  EXPECT_EQ(state.networks.size(), 2u);
}

TEST_F(RemoveNetworkTest, Errors) {
  expect_error_and_unchanged(
      state, [](State& s) { remove_network(s, "ghost"); }, "network ghost not found");
  expect_error_and_unchanged(
      state, [](State& s) { remove_network(s, "host"); },
      "host is a pre-defined network and cannot be removed");
  expect_error_and_unchanged(
      state, [](State& s) { remove_network(s, "none"); },
      "none is a pre-defined network and cannot be removed");
  Network web = create(bridge("web"));
  connect(state, attach("web", "app"), ids);
  expect_error_and_unchanged(
      state, [](State& s) { remove_network(s, "web"); },
      "error while removing network: network web id " + web.id + " has active endpoints");
}

}  // namespace
}  // namespace bpfnet::core
