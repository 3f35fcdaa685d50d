// Service backends on other hosts of an overlay network (CONTAINER@HOST):
// the name, add_backend's checks against the cluster's containers, the state
// file's rules and the Maglev input.
#include "core/remote_backend.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/overlay.h"
#include "core/service.h"
#include "core/service_mesh.h"
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

// --- Services of the cluster (core/service_mesh.h) --------------------------

TEST_F(RemoteBackendTest, ARecreatedRequestMakesTheSameServiceOnAnotherHost) {
  ServiceCreate api;
  api.name = "api";
  api.network = "ov";
  api.ports = {"80/tcp", "53/udp"};
  api.publish = {"8080:80/tcp", "127.0.0.1::53/udp"};
  api.affinity = "client-ip:60";
  api.table_size = 251;
  api.health = HealthCheckSpec{"http", "/ready", 204, 500, 200, 2, 4};
  Service made = create_service(state, api, ids, env);
  made.global = true;
  EXPECT_EQ(state_from_json(to_json(state)), state);
  // Another host: the same network (mirrored), none of this host's services.
  FakeIds other_ids;
  State other = fresh_state(other_ids);
  mirror_overlay_network(other, overlay_network());
  const Service& there = create_service(other, recreate_request(made), other_ids, env);
  EXPECT_EQ(there.vip, made.vip);
  EXPECT_EQ(there.ports, made.ports);
  EXPECT_EQ(there.published, made.published) << "the ephemeral host port is not the same";
  EXPECT_EQ(there.affinity_timeout_s, made.affinity_timeout_s);
  EXPECT_EQ(there.table_size, made.table_size);
  EXPECT_EQ(there.health, made.health);
}

TEST_F(RemoteBackendTest, TheClustersBackendsAreSetInThisHostsNamesEachOnItsOwn) {
  const std::vector<ServiceBackend> wanted = {
      {"a1@a", 0, 1}, {"b1@b", 0, 0}, {"nobody@b", 0, 1}, {"w@a", 0, 1}};
  std::vector<std::string> problems = set_cluster_backends(state, "web", wanted, "a", remote);
  const Service& web = state.get_service("web");
  ASSERT_EQ(web.backends.size(), 2u);
  EXPECT_EQ(web.backends[0].container, "a1");
  EXPECT_EQ(web.backends[1].container, "b1@b");
  EXPECT_TRUE(web.backends[1].drained());
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("backend nobody@b: container nobody is not connected"),
            std::string::npos)
      << problems[0];
  EXPECT_NE(problems[1].find("backend w@a: "), std::string::npos) << problems[1];
  EXPECT_EQ(cluster_backends(web, "a"),
            (std::vector<ServiceBackend>{{"a1@a", web.backends[0].id, 1},
                                         {"b1@b", web.backends[1].id, 0}}));
  // Then: a1 gone, b1 undrained with weight 2 (its ID kept).
  const uint32_t b1 = web.backends[1].id;
  EXPECT_TRUE(set_cluster_backends(state, "web", {{"b1@b", 0, 2}}, "a", remote).empty());
  ASSERT_EQ(state.get_service("web").backends.size(), 1u);
  EXPECT_EQ(state.get_service("web").backends[0], (ServiceBackend{"b1@b", b1, 2}));
}

TEST(ServiceMesh, ABackendChangeMergesIntoAListAnotherHostChanged) {
  std::vector<ServiceBackend> record = {{"x@h1", 1, 1}, {"y@h2", 2, 1}};
  // This host saw [x] and drained x and added z; another host added y.
  merge_backend_change(record, {{"x@h1", 5, 1}}, {{"x@h1", 5, 0}, {"z@h3", 6, 3}});
  ASSERT_EQ(record.size(), 3u);
  EXPECT_EQ(record[0].weight, 0u);
  EXPECT_EQ(record[1].container, "y@h2");
  EXPECT_EQ(record[2].container, "z@h3");
  EXPECT_EQ(record[2].weight, 3u);
  merge_backend_change(record, {{"y@h2", 2, 1}}, {});
  EXPECT_EQ(record.size(), 2u);
  EXPECT_EQ(local_backend_name("x@h1", "h1"), "x");
  EXPECT_EQ(local_backend_name("x@h1", "h2"), "x@h1");
  EXPECT_EQ(cluster_backend_name("x", "h1"), "x@h1");
  EXPECT_EQ(cluster_backend_name("x@h2", "h1"), "x@h2");
}

}  // namespace
}  // namespace bpfnet::core
