// Overlay networks through the Controller: two hosts (each a Controller with
// its own state dir, plumbing and datapath fakes) sharing one FakeStore.
#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <string>

#include "bpfnet_abi.h"
#include "core/error.h"
#include "daemon/cluster.h"
#include "daemon/controller.h"
#include "daemon/state_store.h"
#include "fakes.h"
#include "store/fake_store.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

struct Host {
  Host(store::Store& shared, const std::string& name, const char* underlay, bool clustered = true)
      : store(dir.path()), ids(static_cast<uint32_t>(std::hash<std::string>{}(name))) {
    plumbing.namespaces = {"ns-a", "ns-b", "ns-c"};
    plumbing.uplinks["ul0"] = UplinkInfo{7, core::Ipv4::parse(underlay), {}, "ul0", "veth", 1500};
    ControllerOptions options;
    options.underlay = "ul0";
    ctl = std::make_unique<Controller>(
        store, plumbing, ids, [] { return std::string("2026-12-05T00:00:00Z"); }, options);
    if (clustered) {
      ClusterOptions copts;
      copts.host = store::HostRecord{name, core::Ipv4::parse(underlay), {}};
      copts.lease_file = dir.path() + "/cluster-lease";
      copts.keep_alive_thread = false;
      cluster = std::make_unique<Cluster>(shared, copts);
      ctl->set_cluster(cluster.get());
    }
    ctl->load(std::nullopt);
    ctl->set_datapath(datapath);
    ctl->reconcile_all();
    ctl->sync_cluster();
  }
  json create_overlay(const std::string& name, const std::string& subnet) {
    return ctl->handle("network.create",
                       json{{"name", name}, {"driver", "overlay"}, {"subnet", subnet}});
  }
  json connect(const std::string& network, const std::string& container) {
    return ctl->handle("network.connect", json{{"network", network},
                                               {"container", container},
                                               {"netns", "ns-" + container.substr(0, 1)}});
  }

  TempDir dir;
  StateStore store;
  bpfnet::fakes::FakeIds ids;
  FakePlumbing plumbing;
  FakeDatapath datapath;
  std::unique_ptr<Cluster> cluster;
  std::unique_ptr<Controller> ctl;
};

class ControllerClusterTest : public ::testing::Test {
 protected:
  store::FakeStore shared;
  Host a{shared, "a", "192.0.2.1"};
  Host b{shared, "b", "192.0.2.2"};
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(ControllerClusterNoStore, OverlayNeedsStore) {
  store::FakeStore unused;
  Host lonely(unused, "x", "192.0.2.9", /*clustered=*/false);
  std::string err = error_of([&] { lonely.create_overlay("ov", "10.50.0.0/24"); });
  EXPECT_NE(err.find("--store"), std::string::npos) << err;
  EXPECT_EQ(lonely.ctl->state().networks.size(), 2u);  // host and none only
}

TEST_F(ControllerClusterTest, NetworkCreatedOnOneHostIsMirroredOnTheOther) {
  json made = a.create_overlay("ov", "10.50.0.0/24");
  EXPECT_EQ(made["Driver"], "overlay");
  EXPECT_EQ(made["Scope"], "global");
  b.ctl->sync_cluster();
  const core::Network* there = b.ctl->state().network_by_name("ov");
  ASSERT_NE(there, nullptr);
  const core::Network& here = *a.ctl->state().network_by_name("ov");
  EXPECT_EQ(there->id, here.id);
  EXPECT_EQ(there->vni, here.vni);
  EXPECT_GE(here.vni, 4096u);
  // The datapath: an overlay network with its VNI and the underlay MTU - 50.
  const datapath::NetworkEntry& entry = b.datapath.maps.networks.at(there->index);
  EXPECT_EQ(entry.vni, here.vni);
  EXPECT_TRUE(entry.flags & BPFNET_NET_F_OVERLAY);
  EXPECT_EQ(entry.mtu, 1450u);
}

TEST_F(ControllerClusterTest, EndpointsOfOneHostAreTheOthersTunnels) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  json ea = a.connect("ov", "a1");
  json eb = b.connect("ov", "b1");
  EXPECT_NE(ea["ip"], eb["ip"]);
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  const core::Endpoint& a1 =
      *a.ctl->state().endpoint(a.ctl->state().network_by_name("ov")->id, "a1");
  const auto& tunnels = b.datapath.maps.tunnels;
  ASSERT_EQ(tunnels.size(), 1u);
  const datapath::TunnelEntry& t = tunnels.at(a1.ip.value);
  EXPECT_EQ(t.remote, ip("192.0.2.1"));
  EXPECT_EQ(t.vni, b.ctl->state().network_by_name("ov")->vni);
  EXPECT_EQ(t.network, b.ctl->state().network_by_name("ov")->index);
  EXPECT_EQ(t.mac, a1.mac.bytes);
  // A's own endpoint is local there, not a tunnel; B's is A's tunnel.
  EXPECT_EQ(a.datapath.maps.tunnels.size(), 1u);
  EXPECT_FALSE(a.datapath.maps.tunnels.contains(a1.ip.value));

  // In use on host A: host B cannot remove it.
  std::string err = error_of([&] { b.ctl->handle("network.rm", json{{"name", "ov"}}); });
  EXPECT_NE(err.find("has active endpoints"), std::string::npos) << err;

  // Disconnected on A: gone from B's tunnels.
  a.ctl->handle("network.disconnect", json{{"network", "ov"}, {"container", "a1"}});
  b.ctl->sync_cluster();
  EXPECT_TRUE(b.datapath.maps.tunnels.empty());
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// The daemon's loop polls the cluster's wake fd, so another host's endpoint
// reaches this host's tunnel map at once, not at the next periodic tick.
TEST_F(ControllerClusterTest, AnotherHostsChangeWakesTheSync) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  EXPECT_FALSE(readable(b.cluster->wake_fd())) << "the sync drains the wake fd";
  a.connect("ov", "a1");
  EXPECT_TRUE(readable(b.cluster->wake_fd())) << "a remote endpoint did not wake host b";
  b.ctl->sync_cluster();
  EXPECT_FALSE(readable(b.cluster->wake_fd()));
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 1u);
  // Nothing new: no wake-up.
  b.ctl->sync_cluster();
  EXPECT_FALSE(readable(b.cluster->wake_fd()));
}

TEST_F(ControllerClusterTest, AFailedDisconnectStaysInTheCluster) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  a.connect("ov", "a1");
  b.ctl->sync_cluster();
  const auto before = b.datapath.maps.tunnels;
  ASSERT_EQ(before.size(), 1u);
  a.plumbing.fail_on = "unplumb_endpoint";
  EXPECT_NE(error_of([&] {
              a.ctl->handle("network.disconnect", json{{"network", "ov"}, {"container", "a1"}});
            }),
            "");
  a.plumbing.fail_on.clear();
  b.ctl->sync_cluster();
  EXPECT_EQ(b.datapath.maps.tunnels, before);
  EXPECT_NE(a.ctl->state().endpoint(a.ctl->state().network_by_name("ov")->id, "a1"), nullptr);
  // Its address is still its own: no other host can take it.
  const std::string ip = core::Ipv4{before.begin()->first}.to_string();
  EXPECT_NE(error_of([&] {
              b.ctl->handle(
                  "network.connect",
                  json{{"network", "ov"}, {"container", "b9"}, {"netns", "ns-b"}, {"ip", ip}});
            }).find("Address already in use"),
            std::string::npos);
}

TEST_F(ControllerClusterTest, StoreAwayRefusesChangesAndKeepsTheDatapath) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  a.connect("ov", "a1");
  b.ctl->sync_cluster();
  const auto before_state = b.ctl->state();
  const auto before_tunnels = b.datapath.maps.tunnels;
  shared.set_available(false);
  std::string err = error_of([&] { b.connect("ov", "b1"); });
  EXPECT_EQ(err.rfind("store unavailable", 0), 0u) << err;
  b.ctl->sync_cluster();
  EXPECT_EQ(b.ctl->state(), before_state);
  EXPECT_EQ(b.datapath.maps.tunnels, before_tunnels);
  shared.set_available(true);
  b.connect("ov", "b1");
}

TEST_F(ControllerClusterTest, OverlappingSubnetIsRefusedEverywhere) {
  b.ctl->handle("network.create",
                json{{"name", "local"}, {"driver", "bridge"}, {"subnet", "10.60.0.0/24"}});
  b.ctl->sync_cluster();  // publishes B's local subnets
  std::string err = error_of([&] { a.create_overlay("ov", "10.60.0.0/16"); });
  EXPECT_NE(err.find("overlap"), std::string::npos) << err;
  EXPECT_EQ(a.ctl->state().network_by_name("ov"), nullptr);
}

}  // namespace
}  // namespace bpfnet::daemon

namespace bpfnet::daemon {
namespace {

// Docker's builtin networks: none gives loopback only, host has nothing to connect.
TEST(ControllerBuiltinNetworks, NoneIsLoopbackOnlyAndHostIsExplained) {
  store::FakeStore unused;
  Host h(unused, "x", "192.0.2.9", /*clustered=*/false);
  const core::State before = h.ctl->state();
  json out = h.connect("none", "a1");
  EXPECT_EQ(out["network"], "none");
  EXPECT_EQ(h.ctl->state(), before);
  EXPECT_TRUE(std::count(h.plumbing.calls.begin(), h.plumbing.calls.end(),
                         std::string("loopback_only ns-a")));
  std::string err = error_of([&] { h.connect("host", "a1"); });
  EXPECT_NE(err.find("shares the host's network namespace"), std::string::npos) << err;
  h.ctl->handle("network.create",
                json{{"name", "br"}, {"driver", "bridge"}, {"subnet", "10.80.0.0/24"}});
  h.connect("br", "b1");
  err = error_of([&] { h.connect("none", "b1"); });
  EXPECT_NE(err.find("container b1 is connected to network br"), std::string::npos) << err;
  err = error_of([&] {
    h.ctl->handle("network.connect",
                  json{{"network", "none"}, {"container", "c1"}, {"netns", "ns-gone"}});
  });
  EXPECT_NE(err, "");
}

}  // namespace
}  // namespace bpfnet::daemon
