// Service backends on other hosts of an overlay network (CONTAINER@HOST):
// the name, add_backend's checks against the cluster's containers, the state
// file's rules and the Maglev input.
#include "core/remote_backend.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/overlay.h"
#include "core/service.h"
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

Network overlay_network() {
  Network n;
  n.id = hex_id("c", 'c');
  n.name = "ov";
  n.driver = std::string(kDriverOverlay);
  n.created = kNow;
  n.subnet = cidr("10.50.0.0/24");
  n.gateway = ip("10.50.0.1");
  n.vni = 4097;
  return n;
}

// ov (overlay): a1 here; the cluster has b1 on host b. front (bridge): w here.
class RemoteBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ov = mirror_overlay_network(state, overlay_network()).id;
    connect(state, attach("ov", "a1"), ids);
    create_network(state, bridge("front", "10.1.0.0/24"), {}, ids, kNow);
    connect(state, attach("front", "w"), ids);
    ServiceCreate web;
    web.name = "web";
    web.network = "ov";
    web.ports = {"80/tcp"};
    create_service(state, web, ids, env);
    ServiceCreate local = web;
    local.name = "local";
    local.network = "front";
    create_service(state, local, ids, env);
    remote = {RemoteContainer{ov, "b1", "b", ip("10.50.0.7")}};
  }

  FakeIds ids;
  State state = fresh_state(ids);
  PortEnvironment env;
  std::string ov;
  std::vector<RemoteContainer> remote;
};

TEST(BackendName, SplitsAtTheAt) {
  EXPECT_EQ(split_backend_name("web@h3").container, "web");
  EXPECT_EQ(split_backend_name("web@h3").host, "h3");
  EXPECT_EQ(split_backend_name("web").container, "web");
  EXPECT_EQ(split_backend_name("web").host, "");
  EXPECT_TRUE(is_remote_backend("web@h3"));
  EXPECT_FALSE(is_remote_backend("web"));
}

TEST_F(RemoteBackendTest, AContainerTheClusterHasOnAnotherHostIsABackend) {
  add_backend(state, "web", "a1", 1, "a", remote);
  const Service& web = add_backend(state, "web", "b1@b", 2, "a", remote);
  ASSERT_EQ(web.backends.size(), 2u);
  EXPECT_EQ(web.backends[1].container, "b1@b");
  EXPECT_EQ(web.backends[1].weight, 2u);
  EXPECT_NO_THROW(validate_state(state));
  EXPECT_EQ(state_from_json(to_json(state)), state);
  // Every weighted backend is Maglev input; the daemon leaves out the ones
  // the cluster lacks by passing them as unhealthy.
  EXPECT_EQ(maglev_input(web, {}).size(), 2u);
  EXPECT_EQ(maglev_input(web, {web.backends[1].id}).size(), 1u);
  // A local container leaving takes its own backend only.
  remove_endpoint(state, ov, "a1");
  EXPECT_EQ(state.get_service("web").backends.size(), 1u);
  // rm-backend and drain take the same name.
  drain_backend(state, "web", "b1@b");
  EXPECT_EQ(state.get_service("web").backends[0].weight, 0u);
  remove_backend(state, "web", "b1@b");
  EXPECT_TRUE(state.get_service("web").backends.empty());
}

TEST_F(RemoteBackendTest, RefusalsNameWhatIsWrongAndChangeNothing) {
  auto invalid = [](const std::string& name) {
    return "invalid backend \"" + name +
           "\": expected CONTAINER or CONTAINER@HOST (a container on another host of an overlay "
           "network)";
  };
  auto refused = [&](const std::string& service, const std::string& name,
                     const std::string& message) {
    expect_error_and_unchanged(
        state, [&](State& s) { add_backend(s, service, name, 1, "a", remote); }, message);
  };
  refused("web", "nobody@b", "container nobody is not connected to network ov on host b");
  refused("web", "b1@c", "container b1 is not connected to network ov on host c");
  refused("web", "a1@a", "a1@a: host a is this host, name the container alone (a1)");
  refused("web", "@b", invalid("@b"));
  refused("web", "b1@", invalid("b1@"));
  refused("web", "b1@b@c", invalid("b1@b@c"));
  refused("local", "b1@b",
          "b1@b names a container on another host: network front is not an "
          "overlay network");
  add_backend(state, "web", "b1@b", 1, "a", remote);
  refused("web", "b1@b", "container b1@b is already a backend of service web");
}

TEST_F(RemoteBackendTest, TheStateFileRefusesRemoteBackendsOnBridgeNetworks) {
  State bad = state;
  bad.services[1].backends.push_back(ServiceBackend{"b1@b", 9, 1});
  std::string err = error_of([&] { validate_state(bad); });
  EXPECT_NE(err.find("is not an overlay network"), std::string::npos) << err;
}

}  // namespace
}  // namespace bpfnet::core
