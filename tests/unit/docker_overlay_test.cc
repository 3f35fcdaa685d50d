// Docker networks on overlay networks (core/docker_overlay.h): a Docker
// network on an overlay's global IPAM pool is the overlay's face on this
// host, its endpoints are the overlay's, and what does not fit the overlay
// is refused naming why, changing nothing.
#include "core/docker_overlay.h"

#include <gtest/gtest.h>

#include "core/docker_ipam.h"
#include "core/engine.h"
#include "core/overlay.h"
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

const std::string kOverlay = hex_id("0f", 'c');
const std::string kNet = hex_id("d0c4e7", '1');
const std::string kNet2 = hex_id("d0c4e8", '4');
const std::string kEp = hex_id("e9a0b1", '2');
const std::string kEp2 = hex_id("e9a0b2", '3');

Network overlay(const std::string& name, const std::string& subnet) {
  Network n;
  n.id = kOverlay;
  n.name = name;
  n.driver = std::string(kDriverOverlay);
  n.created = kNow;
  n.subnet = cidr(subnet);
  n.gateway = Ipv4{n.subnet->network().value + 1};
  n.vni = 4096;
  return n;
}

// Docker's CreateNetwork as the network driver reads it, after Docker's
// IPAM (bpfnet's) gave the pool and the gateway.
DockerNetworkCreate docker_net(std::string subnet = "10.60.0.0/24",
                               std::map<std::string, std::string> options = {}) {
  DockerNetworkCreate request;
  request.id = kNet;
  request.name = kNet.substr(0, 12);
  request.subnet = std::move(subnet);
  request.gateway = "10.60.0.1";
  request.options = std::move(options);
  return request;
}

class DockerOverlayTest : public ::testing::Test {
 protected:
  DockerOverlayTest() : state(fresh_state(ids)) {
    mirror_overlay_network(state, overlay("ov", "10.60.0.0/24"));
    // --ipam-driver bpfnet --ipam-opt bpfnet.network=ov: Docker's calls.
    IpamPoolRequest request;
    request.address_space = std::string(kLocalAddressSpace);
    request.pool = "10.60.0.0/24";
    request.options = {{std::string(kIpamNetworkOption), "ov"}};
    pool_id = request_ipam_pool(state, request, {}).id;
    request_ipam_address(state, IpamAddressRequest{pool_id, std::nullopt, true, ""});
  }
  // An address the cluster gave this host, recorded in the pool (what
  // daemon/docker_ipam.cc does after take_cluster_address).
  void hand_out(const std::string& address) {
    request_ipam_address(state, IpamAddressRequest{pool_id, address, false, "c"});
  }
  const Network& ov() const { return *state.network_by_name("ov"); }

  FakeIds ids;
  State state;
  std::string pool_id;
};

TEST_F(DockerOverlayTest, ADockerNetworkOnTheGlobalPoolIsTheOverlaysFace) {
  const size_t networks = state.networks.size();
  const Network& faced = create_docker_network(state, docker_net(), kNow);
  EXPECT_EQ(faced.id, kOverlay);
  EXPECT_EQ(faced.docker_network_id, kNet);
  EXPECT_FALSE(faced.docker);
  EXPECT_EQ(state.networks.size(), networks);  // no network of its own
  EXPECT_EQ(state.docker_network(kNet), state.network_by_name("ov"));
  EXPECT_EQ(&get_docker_network(state, kNet), state.network_by_name("ov"));
  validate_state(state);
  EXPECT_EQ(state_from_json(to_json(state)), state);  // persisted
  // Docker repeats a CreateNetwork whose answer it lost.
  State again = state;
  create_docker_network(again, docker_net(), kNow);
  EXPECT_EQ(again, state);
  // -o bpfnet.network=ov says the same.
  State named = state;
  remove_docker_network(named, kNet);
  create_docker_network(named, docker_net("10.60.0.0/24", {{"bpfnet.network", "ov"}}), kNow);
  EXPECT_EQ(named.docker_network(kNet), named.network_by_name("ov"));
}

TEST_F(DockerOverlayTest, DockersEndpointsAreTheOverlaysNextToBpfnetctls) {
  create_docker_network(state, docker_net(), kNow);
  connect(state, attach("ov", "web"), ids);  // a bpfnetctl container on the overlay
  hand_out("10.60.0.7");
  const Endpoint& ep =
      create_docker_endpoint(state, DockerEndpointCreate{kNet, kEp, "10.60.0.7", {}}, ids);
  EXPECT_EQ(ep.network_id, kOverlay);
  EXPECT_TRUE(ep.docker);
  EXPECT_EQ(ep.ip, ip("10.60.0.7"));
  EXPECT_EQ(get_docker_endpoint(state, kNet, kEp).ip, ip("10.60.0.7"));
  EXPECT_EQ(state.endpoints_of_network(kOverlay).size(), 2u);
  validate_state(state);
  EXPECT_EQ(state_from_json(to_json(state)), state);
  EXPECT_TRUE(join_docker_endpoint(state, kNet, kEp, "/var/run/docker/netns/abc").plumbed());
  // Only Docker removes Docker's container; bpfnetctl's own stays bpfnetctl's.
  expect_error_and_unchanged(
      state, [&](State& s) { remove_endpoint(s, "ov", kEp.substr(0, 12)); },
      "container " + kEp.substr(0, 12) +
          " on network ov is Docker's: use `docker network disconnect`");
  // An address the cluster did not give this host (not in the pool).
  expect_error_and_unchanged(
      state,
      [&](State& s) {
        create_docker_endpoint(s, DockerEndpointCreate{kNet, kEp2, "10.60.0.9", {}}, ids);
      },
      "address 10.60.0.9 was not handed out by bpfnet's IPAM pool GlobalDefault/10.60.0.0/24 (a "
      "network on a bpfnet pool takes its addresses from it: --ipam-driver bpfnet)");
  leave_docker_endpoint(state, kNet, kEp);
  EXPECT_FALSE(state.endpoint_by_id(kEp)->plumbed());
  EXPECT_TRUE(remove_docker_endpoint(state, kNet, kEp).has_value());
  EXPECT_EQ(state.endpoints_of_network(kOverlay).size(), 1u);
}

TEST_F(DockerOverlayTest, DeleteNetworkDropsOnlyTheFace) {
  create_docker_network(state, docker_net(), kNow);
  connect(state, attach("ov", "web"), ids);
  hand_out("10.60.0.7");
  create_docker_endpoint(state, DockerEndpointCreate{kNet, kEp, "10.60.0.7", {}}, ids);
  // While Docker's network is on it, bpfnetctl cannot remove the overlay.
  remove_endpoint(state, "ov", "web");
  expect_error_and_unchanged(
      state, [&](State& s) { remove_network(s, "ov"); },
      "error while removing network: network ov is Docker network " + kNet.substr(0, 12) +
          " on this host: `docker network rm` it first");
  connect(state, attach("ov", "web"), ids);
  // Docker's endpoint left over (its DeleteEndpoint was lost) goes with the face.
  std::optional<Network> removed = remove_docker_network(state, kNet);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->id, kOverlay);
  const Network* kept = state.network_by_name("ov");
  ASSERT_NE(kept, nullptr);
  EXPECT_TRUE(kept->docker_network_id.empty());
  EXPECT_EQ(state.docker_network(kNet), nullptr);
  EXPECT_EQ(state.endpoint_by_id(kEp), nullptr);
  ASSERT_EQ(state.endpoints_of_network(kOverlay).size(), 1u);
  EXPECT_EQ(state.endpoints_of_network(kOverlay)[0]->container, "web");
  validate_state(state);
  // Docker retries removals.
  EXPECT_FALSE(remove_docker_network(state, kNet).has_value());
}

TEST_F(DockerOverlayTest, WhatDoesNotFitTheOverlayIsRefusedNamingWhy) {
  create_network(state, bridge("br", "10.70.0.0/24"), {}, ids, kNow);
  auto refused = [&](const DockerNetworkCreate& request, const std::string& message) {
    expect_error_and_unchanged(
        state, [&](State& s) { create_docker_network(s, request, kNow); }, message);
  };
  refused(docker_net("10.60.0.0/24", {{"bpfnet.network", "nope"}}),
          "-o bpfnet.network=nope: network nope not found (create it first, on any host: "
          "bpfnetctl network create -d overlay nope)");
  refused(docker_net("10.60.0.0/24", {{"bpfnet.network", "br"}}),
          "-o bpfnet.network=br: network br is a bridge network, not an overlay network");
  refused(docker_net("10.61.0.0/24", {{"bpfnet.network", "ov"}}),
          "the Docker network's subnet 10.61.0.0/24 is not the subnet 10.60.0.0/24 of overlay "
          "network ov (create it with --ipam-driver bpfnet --ipam-opt bpfnet.network=ov "
          "--subnet 10.60.0.0/24)");
  DockerNetworkCreate gateway = docker_net();
  gateway.gateway = "10.60.0.254";
  refused(gateway, "gateway 10.60.0.254 is not overlay network ov's gateway 10.60.0.1");
  DockerNetworkCreate aux = docker_net();
  aux.aux_addresses = {{"router", "10.60.0.250"}};
  refused(aux,
          "--aux-address router: a Docker network on overlay network ov has no auxiliary "
          "addresses");
  DockerNetworkCreate internal = docker_net();
  internal.internal = true;
  refused(internal,
          "overlay network ov is not internal: create the Docker network without --internal");
  refused(docker_net("10.60.0.0/24", {{"com.docker.network.driver.mtu", "1400"}}),
          "-o com.docker.network.driver.mtu: a Docker network on overlay network ov has the "
          "overlay's options (give them to `bpfnetctl network create -d overlay`)");
  // A second Docker network on the same overlay.
  create_docker_network(state, docker_net(), kNow);
  DockerNetworkCreate second = docker_net();
  second.id = kNet2;
  refused(second,
          "overlay network ov already is Docker network " + kNet.substr(0, 12) + " on this host");
}

TEST_F(DockerOverlayTest, DockersOwnIpamOnTheOverlayIsRefused) {
  // Without bpfnet's pool each host's Docker would hand out the same
  // addresses: --ipam-driver bpfnet is what takes them in the cluster.
  release_ipam_pool(state, pool_id);
  expect_error_and_unchanged(
      state,
      [&](State& s) {
        create_docker_network(s, docker_net("10.60.0.0/24", {{"bpfnet.network", "ov"}}), kNow);
      },
      "overlay network ov takes its addresses from the cluster: create the Docker network with "
      "--ipam-driver bpfnet --ipam-opt bpfnet.network=ov");
  // And with no option, the overlay's subnet is simply taken.
  EXPECT_NE(error_of([&] { create_docker_network(state, docker_net(), kNow); }).find("overlaps"),
            std::string::npos);
}

TEST_F(DockerOverlayTest, TheStateFileKeepsFacesOnOverlaysOnly) {
  create_network(state, bridge("br", "10.70.0.0/24"), {}, ids, kNow);
  create_docker_network(state, docker_net(), kNow);
  hand_out("10.60.0.7");
  create_docker_endpoint(state, DockerEndpointCreate{kNet, kEp, "10.60.0.7", {}}, ids);
  nlohmann::json json = to_json(state);
  nlohmann::json on_bridge = json;
  nlohmann::json faceless = json;
  for (auto& n : on_bridge["networks"]) {
    if (n["name"] == "ov") n.erase("docker_network_id");
    if (n["name"] == "br") n["docker_network_id"] = kNet2;
  }
  EXPECT_NE(error_of([&] {
              state_from_json(on_bridge);
            }).find("docker_network_id: only an overlay network is a Docker network's face"),
            std::string::npos);
  for (auto& n : faceless["networks"])
    if (n["name"] == "ov") n.erase("docker_network_id");
  EXPECT_NE(error_of([&] { state_from_json(faceless); }).find("network \"ov\" is not Docker's"),
            std::string::npos);
}

}  // namespace
}  // namespace bpfnet::core
