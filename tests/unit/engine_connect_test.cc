// connect and remove_endpoint: IPAM, MACs, interface names, container IDs.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::attach;
using testing::bridge;
using testing::error_of;
using testing::expect_error_and_unchanged;
using testing::FakeIds;
using testing::fresh_state;
using testing::hex_id;
using testing::ip;
using testing::kNow;

class ConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NetworkCreate front = bridge("front", "10.1.0.0/24");
    create_network(state, front, {}, ids, kNow);
    NetworkCreate back = bridge("back", "10.2.0.0/16");
    back.ip_range = "10.2.7.0/30";
    create_network(state, back, {}, ids, kNow);
  }

  Endpoint join(const ConnectRequest& request, const std::set<Ipv4>& keep_free = {}) {
    return connect(state, request, ids, keep_free);
  }
  void expect_connect_fails(const ConnectRequest& request, const std::string& message) {
    expect_error_and_unchanged(
        state, [&](State& s) { connect(s, request, ids); }, message);
  }

  FakeIds ids;
  State state = fresh_state(ids);
};

TEST_F(ConnectTest, FirstEndpointGetsEverythingDerived) {
  Endpoint endpoint = join(attach("front", "web"));
  EXPECT_EQ(endpoint.network_id, state.network_by_name("front")->id);
  EXPECT_EQ(endpoint.container, "web");
  EXPECT_EQ(endpoint.netns, "/var/run/netns/web");
  EXPECT_EQ(endpoint.ip, ip("10.1.0.2"));  // .0 network, .1 gateway
  EXPECT_EQ(endpoint.mac.to_string(), "02:42:0a:01:00:02");
  EXPECT_EQ(endpoint.ifname, "eth0");
  EXPECT_TRUE(is_hex_id(endpoint.id));
  EXPECT_TRUE(is_hex_id(endpoint.container_id));
  EXPECT_NE(endpoint.id, endpoint.container_id);
  EXPECT_EQ(endpoint.host_ifname, "bnv" + endpoint.id.substr(0, 11));
  EXPECT_LE(endpoint.host_ifname.size(), 15u);
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ConnectTest, AnInterfaceNameCanBeChosenOnce) {
  // CNI_IFNAME: the runtime names the container's interface.
  ConnectRequest request = attach("front", "pod");
  request.ifname = "net1";
  EXPECT_EQ(join(request).ifname, "net1");
  ConnectRequest again = attach("back", "pod");
  again.ifname = "net1";
  expect_connect_fails(again, "interface net1 already exists in container pod");
  again.ifname = "bad/name";
  expect_connect_fails(again, "invalid interface name \"bad/name\"");
  EXPECT_EQ(join(attach("back", "pod")).ifname, "eth0");  // the lowest free ethN otherwise
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ConnectTest, DynamicAddressesAreTheLowestFree) {
  EXPECT_EQ(join(attach("front", "a")).ip, ip("10.1.0.2"));
  EXPECT_EQ(join(attach("front", "b")).ip, ip("10.1.0.3"));
  EXPECT_EQ(join(attach("front", "c", "10.1.0.5")).ip, ip("10.1.0.5"));
  EXPECT_EQ(join(attach("front", "d")).ip, ip("10.1.0.4"));
  EXPECT_EQ(join(attach("front", "e")).ip, ip("10.1.0.6"));
  // A freed address is reused first.
  remove_endpoint(state, "front", "b");
  EXPECT_EQ(join(attach("front", "f")).ip, ip("10.1.0.3"));
}

TEST_F(ConnectTest, DynamicAddressesSkipACustomGateway) {
  NetworkCreate request = bridge("gw", "10.3.0.0/24");
  request.gateway = "10.3.0.2";
  create_network(state, request, {}, ids, kNow);
  EXPECT_EQ(join(attach("gw", "a")).ip, ip("10.3.0.1"));
  EXPECT_EQ(join(attach("gw", "b")).ip, ip("10.3.0.3"));
}

TEST_F(ConnectTest, DynamicAddressesComeFromTheIpRangeOnly) {
  // back is 10.2.0.0/16 with ip-range 10.2.7.0/30: four addresses, none of
  // them the subnet's network, broadcast or gateway, so all four are usable.
  EXPECT_EQ(join(attach("back", "a")).ip, ip("10.2.7.0"));
  EXPECT_EQ(join(attach("back", "b")).ip, ip("10.2.7.1"));
  EXPECT_EQ(join(attach("back", "c")).ip, ip("10.2.7.2"));
  EXPECT_EQ(join(attach("back", "d")).ip, ip("10.2.7.3"));
  // A static address outside the range but inside the subnet is fine.
  EXPECT_EQ(join(attach("back", "e", "10.2.200.9")).ip, ip("10.2.200.9"));
  const std::string back_id = state.network_by_name("back")->id;
  expect_connect_fails(
      attach("back", "f"),
      "no available IPv4 addresses on this network's address pools: back (" + back_id + ")");
}

TEST_F(ConnectTest, ExhaustingASubnet) {
  create_network(state, bridge("small", "10.9.0.0/30"), {}, ids, kNow);
  EXPECT_EQ(join(attach("small", "a")).ip, ip("10.9.0.2"));
  const std::string small_id = state.network_by_name("small")->id;
  expect_connect_fails(
      attach("small", "b"),
      "no available IPv4 addresses on this network's address pools: small (" + small_id + ")");
}

TEST_F(ConnectTest, KeepFreeAddressesAreSkippedByDynamicAllocationOnly) {
  std::set<Ipv4> promised = {ip("10.1.0.2"), ip("10.1.0.3")};
  EXPECT_EQ(join(attach("front", "a"), promised).ip, ip("10.1.0.4"));
  EXPECT_EQ(join(attach("front", "b", "10.1.0.2"), promised).ip, ip("10.1.0.2"));
}

TEST_F(ConnectTest, StaticAddressRules) {
  join(attach("front", "web", "10.1.0.10"));
  expect_connect_fails(attach("front", "x", "10.1.0"), "invalid IPv4 address \"10.1.0\"");
  expect_connect_fails(attach("front", "x", "10.2.0.10"),
                       "Invalid address 10.2.0.10: It does not belong to any of this network's "
                       "subnets");
  expect_connect_fails(attach("front", "x", "10.1.0.0"),
                       "Invalid address 10.1.0.0: it is the network address of 10.1.0.0/24");
  expect_connect_fails(attach("front", "x", "10.1.0.255"),
                       "Invalid address 10.1.0.255: it is the broadcast address of 10.1.0.0/24");
  expect_connect_fails(attach("front", "x", "10.1.0.1"),
                       "Address already in use: 10.1.0.1 is the gateway of network front");
  expect_connect_fails(attach("front", "x", "10.1.0.10"),
                       "Address already in use: 10.1.0.10 is used by container web");
  // The same address on another network is a different address.
  create_network(state, bridge("other", "10.4.0.0/24"), {}, ids, kNow);
  EXPECT_EQ(join(attach("other", "x", "10.4.0.10")).ip, ip("10.4.0.10"));
}

TEST_F(ConnectTest, NetworkAndContainerRules) {
  expect_connect_fails(attach("ghost", "web"), "network ghost not found");
  expect_connect_fails(attach("host", "web"),
                       "container cannot be connected to the builtin network host: only bridge "
                       "networks take endpoints");
  expect_connect_fails(attach("none", "web"),
                       "container cannot be connected to the builtin network none: only bridge "
                       "networks take endpoints");
  expect_connect_fails(attach("front", "-web"),
                       "Invalid container name (-web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  expect_connect_fails(attach("front", ""), "container name must not be empty");
  ConnectRequest no_netns = attach("front", "web");
  no_netns.netns = "";
  expect_connect_fails(no_netns, "a netns is required to connect container web");
}

TEST_F(ConnectTest, ConnectingTwiceIsAnError) {
  join(attach("front", "web"));
  expect_connect_fails(attach("front", "web"),
                       "endpoint with name web already exists in network front");
  // Found by ID too, and still reported with the network's name.
  expect_connect_fails(attach(state.network_by_name("front")->id, "web"),
                       "endpoint with name web already exists in network front");
}

TEST_F(ConnectTest, AContainerKeepsOneNetnsAndOneId) {
  Endpoint first = join(attach("front", "web"));
  ConnectRequest elsewhere = attach("back", "web");
  elsewhere.netns = "/proc/42/ns/net";
  expect_connect_fails(elsewhere,
                       "container web is already attached to netns /var/run/netns/web, not "
                       "/proc/42/ns/net");
  Endpoint second = join(attach("back", "web"));
  EXPECT_EQ(second.container_id, first.container_id);
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(second.ifname, "eth1");
  Endpoint other = join(attach("front", "db"));
  EXPECT_NE(other.container_id, first.container_id);
  EXPECT_EQ(other.ifname, "eth0");
}

TEST_F(ConnectTest, InterfaceNamesReuseTheLowestFree) {
  create_network(state, bridge("third", "10.5.0.0/24"), {}, ids, kNow);
  join(attach("front", "web"));
  join(attach("back", "web"));
  join(attach("third", "web"));
  remove_endpoint(state, "front", "web");  // frees eth0
  Endpoint again = join(attach("front", "web"));
  EXPECT_EQ(again.ifname, "eth0");
}

TEST_F(ConnectTest, ContainerIdSurvivesWhileTheContainerHasEndpoints) {
  std::string id = join(attach("front", "web")).container_id;
  join(attach("back", "web"));
  remove_endpoint(state, "front", "web");
  EXPECT_EQ(join(attach("front", "web")).container_id, id);
}

TEST_F(ConnectTest, ExplicitMacRules) {
  ConnectRequest request = attach("front", "a");
  request.mac = "02:AA:00:00:00:01";
  EXPECT_EQ(join(request).mac.to_string(), "02:aa:00:00:00:01");

  request = attach("front", "b");
  request.mac = "02:aa:00:00:00:01";
  expect_connect_fails(
      request, "MAC address 02:aa:00:00:00:01 is already in use on network front by container a");
  request.mac = "02:aa:00:00";
  expect_connect_fails(request, "invalid MAC address \"02:aa:00:00\"");
  request.mac = "33:33:00:00:00:01";
  expect_connect_fails(request,
                       "invalid MAC address \"33:33:00:00:00:01\": a multicast address cannot be "
                       "assigned to an endpoint");
  // The same MAC on another network is allowed (separate L2 domains).
  request = attach("back", "b");
  request.mac = "02:aa:00:00:00:01";
  EXPECT_EQ(join(request).mac.to_string(), "02:aa:00:00:00:01");
}

TEST_F(ConnectTest, DerivedMacFallsBackToRandomWhenTaken) {
  // "a" claims the MAC that 10.1.0.3 would derive.
  ConnectRequest request = attach("front", "a");
  request.mac = "02:42:0a:01:00:03";
  EXPECT_EQ(join(request).ip, ip("10.1.0.2"));
  Endpoint b = join(attach("front", "b"));
  EXPECT_EQ(b.ip, ip("10.1.0.3"));
  EXPECT_NE(b.mac.to_string(), "02:42:0a:01:00:03");
  EXPECT_FALSE(b.mac.is_multicast());
  EXPECT_EQ(b.mac.bytes[0] & 0x02, 0x02) << "not locally administered: " << b.mac.to_string();
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ConnectTest, RedrawsEndpointIdsWhoseVethNameIsTaken) {
  FakeIds scripted({hex_id("c1"), hex_id("0123456789a", '1'), hex_id("c2"),
                    hex_id("0123456789a", '2'), hex_id("0123456789b", '3')});
  Endpoint a = connect(state, attach("front", "a"), scripted);
  Endpoint b = connect(state, attach("front", "b"), scripted);
  EXPECT_EQ(a.container_id, hex_id("c1"));
  EXPECT_EQ(a.host_ifname, "bnv0123456789a");
  EXPECT_EQ(b.container_id, hex_id("c2"));
  EXPECT_EQ(b.host_ifname, "bnv0123456789b");
}

TEST_F(ConnectTest, ReturnsTheStoredEndpoint) {
  const Endpoint& stored = connect(state, attach("front", "web"), ids);
  EXPECT_EQ(&stored, &state.endpoints.back());
}

class RemoveEndpointTest : public ConnectTest {};

TEST_F(RemoveEndpointTest, RemovesAndReturnsTheEndpoint) {
  Endpoint web = join(attach("front", "web"));
  Endpoint db = join(attach("front", "db"));
  EXPECT_EQ(remove_endpoint(state, "front", "web"), web);
  ASSERT_EQ(state.endpoints.size(), 1u);
  EXPECT_EQ(state.endpoints[0], db);
  // By network ID and container ID too.
  EXPECT_EQ(remove_endpoint(state, db.network_id, db.container_id), db);
  EXPECT_TRUE(state.endpoints.empty());
}

TEST_F(RemoveEndpointTest, Errors) {
  join(attach("front", "web"));
  expect_error_and_unchanged(
      state, [](State& s) { remove_endpoint(s, "ghost", "web"); }, "network ghost not found");
  expect_error_and_unchanged(
      state, [](State& s) { remove_endpoint(s, "back", "web"); },
      "container web is not connected to network back");
  expect_error_and_unchanged(
      state, [](State& s) { remove_endpoint(s, "front", "db"); },
      "container db is not connected to network front");
}

}  // namespace
}  // namespace bpfnet::core
