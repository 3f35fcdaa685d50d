// Docker's networks and endpoints in the core: create/remove, join/leave,
// aux addresses, stale endpoints, published ports, and the state file.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/inspect.h"
#include "core/portmap.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;
using testing::expect_error_and_unchanged;
using testing::FakeIds;
using testing::hex_id;
using testing::ip;
using testing::kNow;

const std::string kNet = hex_id("d0c4e7", '1');
const std::string kEp = hex_id("e9a0b1", '2');
const std::string kEp2 = hex_id("e9a0b2", '3');

DockerNetworkCreate docker_net(std::string id = kNet, std::string subnet = "172.30.0.0/16") {
  DockerNetworkCreate request;
  request.id = std::move(id);
  request.name = request.id.substr(0, 12);
  request.subnet = std::move(subnet);
  request.gateway = "172.30.0.1";
  request.aux_addresses = {{"router", "172.30.0.250"}};
  return request;
}

DockerEndpointCreate docker_ep(std::string id, std::optional<std::string> address) {
  return DockerEndpointCreate{kNet, std::move(id), std::move(address), std::nullopt};
}

class DockerEngineTest : public ::testing::Test {
 protected:
  DockerEngineTest() : state(testing::fresh_state(ids)) {}
  FakeIds ids;
  State state;
};

TEST_F(DockerEngineTest, NetworkTakesDockersIdAndAddresses) {
  const Network& net = create_docker_network(state, docker_net(), kNow);
  EXPECT_EQ(net.id, kNet);
  EXPECT_TRUE(net.docker);
  EXPECT_EQ(net.driver, "bridge");
  EXPECT_EQ(net.gateway, ip("172.30.0.1"));
  EXPECT_EQ(net.aux_addresses.at("router"), ip("172.30.0.250"));
  EXPECT_EQ(net.dummy_ifname, "bn-" + kNet.substr(0, 12));
  EXPECT_EQ(net.index, 1u);
  validate_state(state);
}

TEST_F(DockerEngineTest, NetworkRefusals) {
  DockerNetworkCreate bad_aux = docker_net();
  bad_aux.aux_addresses = {{"far", "10.0.0.1"}};
  expect_error_and_unchanged(
      state, [&](State& s) { create_docker_network(s, bad_aux, kNow); },
      "invalid auxiliary address far=10.0.0.1: not a host address of 172.30.0.0/16");
  DockerNetworkCreate aux_on_gateway = docker_net();
  aux_on_gateway.aux_addresses = {{"gw", "172.30.0.1"}};
  expect_error_and_unchanged(
      state, [&](State& s) { create_docker_network(s, aux_on_gateway, kNow); },
      "invalid auxiliary address gw=172.30.0.1: it is the gateway of the network");
  DockerNetworkCreate bad_name = docker_net();
  bad_name.name = "no/slash";
  EXPECT_NE(error_of([&] { create_docker_network(state, bad_name, kNow); }), "");
  create_docker_network(state, docker_net(), kNow);
  // Same prefix of the ID: the interface name would collide.
  DockerNetworkCreate twin = docker_net(kNet.substr(0, 12) + std::string(52, 'f'), "10.9.0.0/24");
  twin.name = "twin";
  twin.gateway.reset();
  twin.aux_addresses.clear();
  expect_error_and_unchanged(
      state, [&](State& s) { create_docker_network(s, twin, kNow); },
      "network ID " + twin.id + " starts like the ID of network " + kNet.substr(0, 12) +
          ": interface bn-" + kNet.substr(0, 12) + " is taken");
}

TEST_F(DockerEngineTest, AuxAddressesAreNeverHandedOut) {
  DockerNetworkCreate request = docker_net(kNet, "10.7.0.0/29");
  request.gateway = "10.7.0.1";
  request.aux_addresses = {{"a", "10.7.0.2"}, {"b", "10.7.0.3"}};
  create_docker_network(state, request, kNow);
  EXPECT_EQ(create_docker_endpoint(state, docker_ep(kEp, std::nullopt), ids).ip, ip("10.7.0.4"));
  expect_error_and_unchanged(
      state, [&](State& s) { create_docker_endpoint(s, docker_ep(kEp2, "10.7.0.3"), ids); },
      "Address already in use: 10.7.0.3 is the auxiliary address b of network " +
          kNet.substr(0, 12));
  nlohmann::json inspect = network_inspect(state, state.networks.back());
  EXPECT_EQ(inspect["IPAM"]["Config"][0]["AuxiliaryAddresses"],
            (nlohmann::json{{"a", "10.7.0.2"}, {"b", "10.7.0.3"}}));
}

TEST_F(DockerEngineTest, EndpointLifecycle) {
  create_docker_network(state, docker_net(), kNow);
  const Endpoint& ep = create_docker_endpoint(state, docker_ep(kEp, "172.30.0.9"), ids);
  EXPECT_EQ(ep.mac.to_string(), "02:42:ac:1e:00:09");
  EXPECT_EQ(ep.container, kEp.substr(0, 12));
  EXPECT_EQ(ep.container_id, kEp);
  EXPECT_TRUE(ep.netns.empty());
  EXPECT_FALSE(ep.plumbed());
  validate_state(state);

  EXPECT_TRUE(join_docker_endpoint(state, kNet, kEp, "/var/run/docker/netns/abc").plumbed());
  expect_error_and_unchanged(
      state, [&](State& s) { join_docker_endpoint(s, kNet, kEp, "/var/run/docker/netns/other"); },
      "endpoint " + kEp + " has already joined sandbox /var/run/docker/netns/abc");
  State round_trip = state_from_json(to_json(state));
  EXPECT_EQ(round_trip, state);

  leave_docker_endpoint(state, kNet, kEp);
  EXPECT_FALSE(state.endpoint_by_id(kEp)->plumbed());
  EXPECT_TRUE(remove_docker_endpoint(state, kNet, kEp).has_value());
  EXPECT_FALSE(remove_docker_endpoint(state, kNet, kEp).has_value());
  EXPECT_TRUE(remove_docker_network(state, kNet).has_value());
  EXPECT_FALSE(remove_docker_network(state, kNet).has_value());
}

TEST_F(DockerEngineTest, AnAddressHandedOutAgainReplacesTheStaleEndpoint) {
  create_docker_network(state, docker_net(), kNow);
  create_docker_endpoint(state, docker_ep(kEp, "172.30.0.9"), ids);
  create_docker_endpoint(state, docker_ep(kEp2, "172.30.0.9"), ids);
  EXPECT_EQ(state.endpoint_by_id(kEp), nullptr);
  EXPECT_EQ(state.endpoint_by_id(kEp2)->ip, ip("172.30.0.9"));
}

TEST_F(DockerEngineTest, BpfnetCommandsLeaveDockerNetworksAlone) {
  create_docker_network(state, docker_net(), kNow);
  create_docker_endpoint(state, docker_ep(kEp, "172.30.0.9"), ids);
  const std::string name = kNet.substr(0, 12);
  expect_error_and_unchanged(
      state, [&](State& s) { remove_network(s, name); },
      "network " + name + " is managed by Docker: use `docker network rm`");
  expect_error_and_unchanged(
      state, [&](State& s) { connect(s, testing::attach(name, "web"), ids); },
      "network " + name + " is managed by Docker: use `docker network connect`");
  expect_error_and_unchanged(
      state, [&](State& s) { remove_endpoint(s, name, kEp.substr(0, 12)); },
      "network " + name + " is managed by Docker: use `docker network disconnect`");
}

TEST_F(DockerEngineTest, EndpointPortsAreReplacedAsAWhole) {
  create_docker_network(state, docker_net(), kNow);
  create_docker_endpoint(state, docker_ep(kEp, "172.30.0.9"), ids);
  create_docker_endpoint(state, docker_ep(kEp2, "172.30.0.10"), ids);
  PortEnvironment env;
  PortRequest fixed{Proto::kTcp, 80, std::nullopt, 8080, 8080};
  PortRequest range{Proto::kTcp, 81, std::nullopt, 8080, 8082};
  EXPECT_EQ(set_endpoint_ports(state, kEp, {fixed}, env),
            (std::vector<PortBinding>{{Proto::kTcp, 80, Ipv4{}, 8080}}));
  // Programming again replaces the bindings, so its own port is free to it.
  EXPECT_EQ(
      set_endpoint_ports(state, kEp, {fixed, range}, env),
      (std::vector<PortBinding>{{Proto::kTcp, 80, Ipv4{}, 8080}, {Proto::kTcp, 81, Ipv4{}, 8081}}));
  expect_error_and_unchanged(
      state, [&](State& s) { set_endpoint_ports(s, kEp2, {fixed}, env); },
      "Bind for 0.0.0.0:8080 failed: port is already allocated");
  EXPECT_TRUE(set_endpoint_ports(state, kEp, {}, env).empty());
  EXPECT_TRUE(state.endpoint_by_id(kEp)->ports.empty());
}

TEST_F(DockerEngineTest, StateFileRejectsMixedKinds) {
  create_docker_network(state, docker_net(), kNow);
  create_docker_endpoint(state, docker_ep(kEp, "172.30.0.9"), ids);
  nlohmann::json file = to_json(state);
  nlohmann::json& ep = file["endpoints"][0];
  EXPECT_EQ(ep["docker"], true);
  ep["netns"] = "/var/run/netns/x";
  EXPECT_EQ(error_of([&] { state_from_json(file); }),
            "state: endpoints[0].netns: a Docker endpoint has no netns (Docker moves its "
            "interface)");
  ep["netns"] = "";
  ep.erase("docker");
  EXPECT_EQ(error_of([&] { state_from_json(file); }), "state: endpoints[0].docker: network \"" +
                                                          kNet.substr(0, 12) +
                                                          "\" takes only Docker's endpoints");
  ep["docker"] = true;
  ep["ip"] = "172.30.0.250";
  EXPECT_EQ(error_of([&] { state_from_json(file); }),
            "state: endpoints[0].ip: 172.30.0.250 is the auxiliary address router of network \"" +
                kNet.substr(0, 12) + "\"");
}

}  // namespace
}  // namespace bpfnet::core
