// core/limits.h: the limits match the map ABI, the checks word their refusals
// as the engine and the files always have, and each limit is reached the same
// way from every entry point (the engine, Docker's calls, the config file,
// the state file).
#include "core/limits.h"

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/engine.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::attach;
using testing::bridge;
using testing::error_of;
using testing::FakeIds;
using testing::fresh_state;
using testing::hex_id;
using testing::kNow;

TEST(LimitsTest, CapacitiesAreTheMapsOfTheAbi) {
  EXPECT_EQ(kEndpointCapacity.most, size_t{BPFNET_MAX_ENDPOINTS});
  EXPECT_EQ(kPublishedPortCapacity.most, size_t{BPFNET_MAX_PORTMAPS});
  EXPECT_EQ(kUplinkCapacity.most, size_t{BPFNET_MAX_UPLINKS});
  EXPECT_EQ(kNetworkIndexes.last(), uint32_t{BPFNET_MAX_NETWORKS - 1});
  EXPECT_EQ(kServiceIndexes.last(), kMaxServices - 1);
  EXPECT_EQ(kBackendIds.last(), kMaxBackendIds - 1);
}

TEST(LimitsTest, FitsAndContains) {
  constexpr Capacity kThree{"things", 3};
  EXPECT_TRUE(kThree.fits(0));
  EXPECT_TRUE(kThree.fits(3));
  EXPECT_FALSE(kThree.fits(4));
  constexpr IndexSpace kSpace{kThree};
  EXPECT_FALSE(kSpace.contains(0));
  EXPECT_TRUE(kSpace.contains(1));
  EXPECT_TRUE(kSpace.contains(3));
  EXPECT_FALSE(kSpace.contains(4));
}

TEST(LimitsTest, RefusalsNameTheLimit) {
  constexpr Capacity kThree{"things", 3};
  EXPECT_NO_THROW(check_room(kThree, 3, "cannot add a thing"));
  EXPECT_EQ(error_of([&] { check_room(kThree, 4, "cannot add a thing"); }),
            "cannot add a thing: bpfnet supports at most 3 things");
  EXPECT_NO_THROW(check_capacity(kThree, 3, "state", "things"));
  EXPECT_EQ(error_of([&] { check_capacity(kThree, 4, "state", "things"); }),
            "state: things: 4 things exceed the limit of 3");
}

TEST(LimitsTest, LowestFreeIndexSkipsUsedOnesAndIgnoresStrangers) {
  constexpr IndexSpace kSpace{{"things", 3}};
  EXPECT_EQ(lowest_free_index(kSpace, {}, "cannot add a thing"), 1u);
  EXPECT_EQ(lowest_free_index(kSpace, {1, 3}, "cannot add a thing"), 2u);
  EXPECT_EQ(lowest_free_index(kSpace, {0, 2, 1, 7}, "cannot add a thing"), 3u);
  EXPECT_EQ(error_of([&] {
              lowest_free_index(kSpace, {3, 1, 2}, "cannot add a thing");
            }),
            "cannot add a thing: bpfnet supports at most 3 things");
}

// A State holding as many endpoints as the endpoint map does, on "front".
class FullEndpointMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    create_network(state, bridge("front", "10.1.0.0/16"), {}, ids, kNow);
    Endpoint filler = connect(state, attach("front", "filler"), ids);
    state.endpoints.resize(kEndpointCapacity.most, filler);
  }

  FakeIds ids;
  State state = fresh_state(ids);
};

TEST_F(FullEndpointMapTest, ConnectIsRefused) {
  EXPECT_EQ(error_of([&] { connect(state, attach("front", "web"), ids); }),
            "cannot connect container web: bpfnet supports at most 65536 endpoints");
  EXPECT_EQ(state.endpoints.size(), kEndpointCapacity.most);
}

TEST_F(FullEndpointMapTest, DockerEndpointIsRefused) {
  DockerNetworkCreate network;
  network.id = hex_id("d0c4e7", '1');
  network.name = "docker";
  network.subnet = "172.30.0.0/16";
  create_docker_network(state, network, kNow);
  DockerEndpointCreate endpoint{network.id, hex_id("e9a0b1", '2'), "172.30.0.5", std::nullopt};
  EXPECT_EQ(error_of([&] { create_docker_endpoint(state, endpoint, ids); }),
            "cannot connect container e9a0b1222222: bpfnet supports at most 65536 endpoints");
}

TEST_F(FullEndpointMapTest, ConfigIsRefused) {
  Config config = parse_config(nlohmann::json::parse(
      R"({"containers": [{"name": "web", "netns": "web", "networks": ["front"]}]})"));
  EXPECT_EQ(error_of([&] { apply_config(state, config, {}, PortEnvironment{}, ids, kNow); }),
            "config: containers[0].networks[0] (web on front): cannot connect container web: "
            "bpfnet supports at most 65536 endpoints");
}

TEST_F(FullEndpointMapTest, StateFileIsRefusedBeyondIt) {
  // The fillers break other rules of the state: keep only the count at stake.
  State loaded = state;
  loaded.endpoints = {loaded.endpoints.front()};
  EXPECT_NO_THROW(validate_state(loaded));
  loaded.endpoints.resize(kEndpointCapacity.most + 1, loaded.endpoints.front());
  EXPECT_EQ(error_of([&] { validate_state(loaded); }),
            "state: endpoints: 65537 endpoints exceed the limit of 65536");
}

TEST(StateFileLimitsTest, UplinksAreCountedWhenLoaded) {
  FakeIds ids;
  nlohmann::json json = to_json(fresh_state(ids));
  for (size_t i = 0; i <= kUplinkCapacity.most; ++i) {
    json["uplinks"].push_back(fmt::format("eth{}", i));
  }
  EXPECT_EQ(error_of([&] { state_from_json(json); }),
            "state: uplinks: 65 uplinks exceed the limit of 64");
}

TEST(StateFileLimitsTest, ServicesAreCountedWhenLoaded) {
  FakeIds ids;
  State state = fresh_state(ids);
  create_network(state, bridge("front", "10.1.0.0/24"), {}, ids, kNow);
  Service service;
  service.id = hex_id("5e", '1');
  service.name = "api";
  service.network_id = state.networks.back().id;
  service.vip = Ipv4::parse("10.1.0.9");
  service.ports = {{Proto::kTcp, 80}};
  service.index = 1;
  state.services.push_back(service);
  nlohmann::json json = to_json(state);
  EXPECT_NO_THROW(state_from_json(json));
  // Copies of one service: the count is checked before what they hold.
  for (uint32_t i = 1; i <= kServiceIndexes.last(); ++i) {
    json["services"].push_back(json["services"][0]);
  }
  EXPECT_EQ(error_of([&] { state_from_json(json); }),
            "state: services: 1024 services exceed the limit of 1023");
}

}  // namespace
}  // namespace bpfnet::core
