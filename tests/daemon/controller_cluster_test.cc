// Overlay networks through the Controller: two hosts (each a Controller with
// its own state dir, plumbing and datapath fakes) sharing one FakeStore.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bpfnet_abi.h"
#include "core/config.h"
#include "core/error.h"
#include "core/service.h"
#include "daemon/cluster.h"
#include "daemon/controller.h"
#include "daemon/docker_driver.h"
#include "daemon/state_store.h"
#include "fakes.h"
#include "store/cluster_keys.h"
#include "store/fake_store.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

struct Host {
  Host(store::Store& shared, const std::string& name, const char* underlay, bool clustered = true,
       const std::optional<core::Config>& config = std::nullopt)
      : store(dir.path()), ids(static_cast<uint32_t>(std::hash<std::string>{}(name))) {
    plumbing.namespaces = {"ns-a", "ns-b", "ns-c"};
    plumbing.uplinks["ul0"] = UplinkInfo{7, core::Ipv4::parse(underlay), {}, "ul0", "veth", 1500};
    start(shared, name, underlay, clustered, config);
  }
  // The daemon's start sequence on this host's state dir: called again, a
  // restart of bpfnetd (without a graceful stop: the lease is not revoked).
  void start(store::Store& shared, const std::string& name, const char* underlay,
             bool clustered = true, const std::optional<core::Config>& config = std::nullopt) {
    ctl.reset();
    cluster.reset();
    ControllerOptions options = without_default_bridge();
    options.underlay = "ul0";
    options.vxlan_in_bpf = vxlan_in_bpf;
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
    ctl->load(config);
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

  bool vxlan_in_bpf = true;  // bpfnetd --overlay-encap bpf (the default) or device
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

TEST(ControllerClusterUnderlay, TheUnderlayAddressesInterfaceCarriesVxlanInBpf) {
  store::FakeStore shared;
  // No interface has the address: through the VXLAN device only.
  Host a(shared, "a", "192.0.2.1");
  EXPECT_EQ(a.datapath.overlay_ifindex, FakePlumbing::kVxlanIfindex);
  EXPECT_EQ(a.datapath.underlay_ifindex, 0u);
  // Found at a restart: VXLAN in BPF on it, with its subnet.
  a.plumbing.underlay_link = daemon::AddressLink{7, 24};
  a.start(shared, "a", "192.0.2.1");
  EXPECT_EQ(a.datapath.underlay_ifindex, 7u);
  EXPECT_EQ(a.datapath.underlay_prefix, 24u);
  // Moved to another interface while running: the tick follows.
  a.plumbing.underlay_link = daemon::AddressLink{9, 16};
  a.ctl->tick(1'000'000'000'000ull);
  EXPECT_EQ(a.datapath.underlay_ifindex, 9u);
  EXPECT_EQ(a.datapath.underlay_prefix, 16u);
  // --overlay-encap device: never.
  a.vxlan_in_bpf = false;
  a.start(shared, "a", "192.0.2.1");
  EXPECT_EQ(a.datapath.underlay_ifindex, 0u);
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

// At scale every host syncs every other host's every change: a sync takes
// the view's changes, not a rebuild of every remote endpoint diffed against
// a read of every map (bench/RESULTS.md, 50 hosts x 200 endpoints).
TEST_F(ControllerClusterTest, AnotherHostsEndpointIsOneTunnelWriteWithoutReadingTheMaps) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  a.connect("ov", "a1");
  a.connect("ov", "b2");
  b.ctl->sync_cluster();
  ASSERT_EQ(b.datapath.maps.tunnels.size(), 2u);
  b.datapath.deltas.clear();
  b.datapath.read_maps_calls = 0;

  json made = a.connect("ov", "c3");
  const uint32_t ip = core::Ipv4::parse(made["ip"].get<std::string>()).value;
  b.ctl->sync_cluster();
  EXPECT_EQ(b.datapath.read_maps_calls, 0u) << "a remote endpoint read every map";
  ASSERT_EQ(b.datapath.deltas.size(), 1u);
  EXPECT_EQ(b.datapath.deltas[0].size(), 1u);
  ASSERT_EQ(b.datapath.deltas[0].tunnels.upserts.size(), 1u);
  EXPECT_EQ(b.datapath.deltas[0].tunnels.upserts[0].first, ip);
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 3u);
  const datapath::TunnelEntry written = b.datapath.maps.tunnels.at(ip);
  EXPECT_EQ(written.remote, core::Ipv4::parse("192.0.2.1").value);
  EXPECT_EQ(written.network, b.ctl->state().network_by_name("ov")->index);

  // Nothing new: nothing written.
  b.ctl->sync_cluster();
  EXPECT_EQ(b.datapath.deltas.size(), 1u);
  // One goes: one delete, of its entry.
  a.ctl->handle("network.disconnect", json{{"network", "ov"}, {"container", "c3"}});
  b.ctl->sync_cluster();
  EXPECT_EQ(b.datapath.read_maps_calls, 0u);
  ASSERT_EQ(b.datapath.deltas.size(), 2u);
  EXPECT_EQ(b.datapath.deltas[1].size(), 1u);
  ASSERT_EQ(b.datapath.deltas[1].tunnels.deletes.size(), 1u);
  EXPECT_EQ(b.datapath.deltas[1].tunnels.deletes[0], std::make_pair(ip, written));
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 2u);
  // The periodic tick's host facts leave the remote endpoints as they are.
  b.ctl->tick(1);
  b.ctl->tick(1 + b.ctl->gc_interval_ns);
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 2u);
  EXPECT_EQ(b.datapath.deltas.size(), 2u);
}

// Applying changes one by one must not drift: when the view re-reads the
// store (its watch was cut off), the host reconciles all of its maps.
TEST_F(ControllerClusterTest, AResyncOfTheViewRewritesEveryTunnel) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  a.connect("ov", "a1");
  b.ctl->sync_cluster();
  ASSERT_EQ(b.datapath.maps.tunnels.size(), 1u);
  b.datapath.maps.tunnels.clear();  // lost behind the daemon's back
  shared.hold_events(true);
  a.connect("ov", "b2");
  shared.compact(shared.revision());
  shared.hold_events(false);  // b's watch finds its history gone: the view re-reads
  b.datapath.read_maps_calls = 0;
  b.ctl->sync_cluster();
  EXPECT_GT(b.datapath.read_maps_calls, 0u);
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 2u);
}

// Syncs apply changes alone; a tunnel entry lost behind the daemon's back
// comes back at the periodic full reconcile (cluster_full_interval_ns).
TEST_F(ControllerClusterTest, ALostTunnelComesBackAtThePeriodicFullReconcile) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  a.connect("ov", "a1");
  b.ctl->sync_cluster();
  ASSERT_EQ(b.datapath.maps.tunnels.size(), 1u);
  b.datapath.maps.tunnels.clear();  // deleted by hand
  const uint64_t t0 = 1'000'000'000'000ull;
  b.ctl->tick(t0);
  b.ctl->tick(t0 + b.ctl->cluster_full_interval_ns - 1);
  EXPECT_TRUE(b.datapath.maps.tunnels.empty()) << "only changes between full reconciles";
  b.ctl->tick(t0 + b.ctl->cluster_full_interval_ns);
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 1u);
}

// A refused write leaves the maps behind the view: the next sync, though
// nothing new came, reconciles them all.
TEST_F(ControllerClusterTest, ARefusedTunnelWriteIsMadeGoodAtTheNextSync) {
  a.create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  b.datapath.refuse_apply = true;
  a.connect("ov", "a1");
  EXPECT_NE(error_of([&] { b.ctl->sync_cluster(); }).find("map write refused"), std::string::npos);
  EXPECT_TRUE(b.datapath.maps.tunnels.empty());
  b.datapath.refuse_apply = false;
  b.ctl->sync_cluster();
  EXPECT_EQ(b.datapath.maps.tunnels.size(), 1u);
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

// --- Services across hosts (daemon/controller_lb.cc) ------------------------

// The distinct backend IDs of a service's Maglev table.
std::set<uint32_t> table_ids(Host& h, uint32_t index) {
  std::vector<uint32_t> t = h.datapath.read_maglev(index);
  std::set<uint32_t> ids(t.begin(), t.end());
  ids.erase(BPFNET_NO_BACKEND);
  return ids;
}

class ControllerServicesAcrossHostsTest : public ControllerClusterTest {
 protected:
  ControllerServicesAcrossHostsTest() {
    a.create_overlay("ov", "10.50.0.0/24");
    b.ctl->sync_cluster();
    a.connect("ov", "a1");
    b.connect("ov", "b1");
    a.ctl->sync_cluster();
    b.ctl->sync_cluster();
  }
  const core::Network& ov(Host& h) { return *h.ctl->state().network_by_name("ov"); }
  core::Ipv4 ip_on_b(const std::string& container) {
    return b.ctl->state().endpoint(ov(b).id, container)->ip;
  }
  json add_backend(const std::string& container, const std::string& service = "web") {
    return a.ctl->handle("service.add-backend", json{{"name", service}, {"container", container}});
  }
};

TEST_F(ControllerServicesAcrossHostsTest, RemoteBackendsLbAddressAndClusterVip) {
  json svc = a.ctl->handle(
      "service.create",
      json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}, {"publish", {"8080:80"}}});
  // The VIP is no container's address on any host (a local pick would take
  // b1's, the lowest address host a does not hold itself).
  EXPECT_NE(svc["VIP"], ip_on_b("b1").to_string());
  // This host's lb address on ov: taken in the cluster, in its datapath,
  // and a tunnel on the other host.
  a.ctl->sync_cluster();
  const uint32_t lb = a.datapath.maps.networks.at(ov(a).index).lb_addr;
  ASSERT_NE(lb, 0u);
  EXPECT_NE(core::Ipv4{lb}.to_string(), svc["VIP"]);
  b.ctl->sync_cluster();
  ASSERT_TRUE(b.datapath.maps.tunnels.contains(lb));
  EXPECT_EQ(b.datapath.maps.tunnels.at(lb).remote, ip("192.0.2.1"));
  // web is the cluster's: b has it too, and balances from its own lb address.
  EXPECT_NE(b.datapath.maps.networks.at(ov(b).index).lb_addr, 0u) << "web is not on b";

  add_backend("a1");
  json after = add_backend("b1@b");
  ASSERT_EQ(after["Backends"].size(), 2u);
  EXPECT_EQ(after["Backends"][1]["Container"], "b1@b");
  EXPECT_EQ(after["Backends"][1]["IP"], ip_on_b("b1").to_string());
  EXPECT_EQ(after["Backends"][1]["State"], "healthy");
  const core::Service& web = a.ctl->state().get_service("web");
  const uint32_t remote_id = web.backends[1].id;
  EXPECT_EQ(a.datapath.maps.backends.at(remote_id), ip_on_b("b1").value);
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{web.backends[0].id, remote_id}));

  // b1 leaves the cluster: out of the table and the backends map, shown why.
  b.ctl->handle("network.disconnect", json{{"network", "ov"}, {"container", "b1"}});
  a.ctl->sync_cluster();
  EXPECT_FALSE(a.datapath.maps.backends.contains(remote_id));
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{web.backends[0].id}));
  json gone = a.ctl->handle("service.inspect", json{{"name", "web"}});
  EXPECT_EQ(gone["Backends"][1]["State"], "unhealthy");
  EXPECT_EQ(gone["Backends"][1]["IP"], "");
  EXPECT_NE(gone["Backends"][1]["LastError"].get<std::string>().find("not in the cluster"),
            std::string::npos);
  // Back: in the table again, at its new address.
  b.connect("ov", "b1");
  a.ctl->sync_cluster();
  EXPECT_EQ(a.datapath.maps.backends.at(remote_id), ip_on_b("b1").value);
  EXPECT_EQ(table_ids(a, web.index).size(), 2u);

  // service rm: the lb address and the VIP leave the cluster.
  a.ctl->handle("service.rm", json{{"name", "web"}});
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  EXPECT_EQ(a.datapath.maps.networks.at(ov(a).index).lb_addr, 0u);
  EXPECT_FALSE(b.datapath.maps.tunnels.contains(lb));
  json c = b.ctl->handle("network.connect", json{{"network", "ov"},
                                                 {"container", "b2"},
                                                 {"netns", "ns-b"},
                                                 {"ip", svc["VIP"].get<std::string>()}});
  EXPECT_EQ(c["ip"], svc["VIP"]) << "the VIP was released";
}

// What host h probes at `ip` (none: not probed there).
std::optional<HealthTarget> probe_of(Host& h, core::Ipv4 ip) {
  for (const auto& t : h.ctl->health_targets())
    if (t.ip == ip.value) return t;
  return std::nullopt;
}

// A flow host a balanced to `backend` (a published port's, in conntrack).
datapath::CtEntry lb_flow_to(core::Ipv4 backend, uint8_t tag) {
  datapath::CtEntry e;
  e.key[0] = tag;
  e.flags = BPFNET_CT_F_LB | BPFNET_CT_F_DNAT;
  e.tuple = {ip("198.51.100.7"), ip("192.0.2.1"), uint16_t(40000 + tag), 8080, 6};
  e.rewrite = {ip("198.51.100.7"), backend.value, uint16_t(40000 + tag), 80, 6};
  return e;
}

// A service with UDP ports only has nothing a probe could connect to: its
// backends, local or on another host, are not probed (a TCP connect to the
// UDP port was refused, and took every backend out of the table within
// interval x fall); they stay in the table while their containers are there.
TEST_F(ControllerServicesAcrossHostsTest, AServiceWithUdpPortsOnlyIsProbedNowhere) {
  a.ctl->handle(
      "service.create",
      json{
          {"name", "dns"}, {"network", "ov"}, {"ports", {"53/udp"}}, {"publish", {"5353:53/udp"}}});
  add_backend("a1", "dns");
  add_backend("b1@b", "dns");
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  a.ctl->sync_cluster();
  const core::Service dns = a.ctl->state().get_service("dns");
  EXPECT_FALSE(probe_of(b, ip_on_b("b1"))) << "host b probes b1's UDP port by TCP";
  EXPECT_FALSE(probe_of(a, a.ctl->state().endpoint(ov(a).id, "a1")->ip))
      << "host a probes a1's UDP port by TCP";
  EXPECT_TRUE(a.ctl->health_targets().empty());
  EXPECT_TRUE(b.ctl->health_targets().empty());
  EXPECT_EQ(table_ids(a, dns.index), (std::set<uint32_t>{dns.backends[0].id, dns.backends[1].id}));
  EXPECT_EQ(core::health_check_port(dns), 0);
}

// A service of one host's config file (not the cluster's: made on host a
// only) with a backend on host b: a asks b to probe it (a check record).
TEST_F(ControllerServicesAcrossHostsTest, ARemoteBackendIsProbedByItsHostWhichSharesItsHealth) {
  const json web_config = {{"name", "web"},
                           {"network", "ov"},
                           {"ports", {"80/tcp"}},
                           {"publish", {"8080:80"}},
                           {"health",
                            {{"type", "http"},
                             {"path", "/ready"},
                             {"interval_ms", 500},
                             {"timeout_ms", 200},
                             {"rise", 2},
                             {"fall", 2}}}};
  a.start(shared, "a", "192.0.2.1", true, core::parse_config(json{{"services", {web_config}}}));
  ASSERT_FALSE(a.ctl->state().get_service("web").global);
  add_backend("a1");
  add_backend("b1@b");
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  const core::Service web = a.ctl->state().get_service("web");
  const uint32_t local_id = web.backends[0].id;
  const uint32_t remote_id = web.backends[1].id;
  const core::Ipv4 b1 = ip_on_b("b1");

  // b probes b1 with web's check; a does not probe it across the overlay.
  std::optional<HealthTarget> probe = probe_of(b, b1);
  ASSERT_TRUE(probe) << "host b does not probe b1 for a's service";
  EXPECT_GE(probe->backend_id, Controller::kFirstRemoteProbeId);
  EXPECT_EQ(probe->port, 80);
  EXPECT_TRUE(probe->http);
  EXPECT_EQ(probe->path, "/ready");
  EXPECT_EQ(probe->interval_ms, 500u);
  EXPECT_EQ(probe->timeout_ms, 200u);
  EXPECT_FALSE(probe_of(a, b1)) << "host a probes b's container itself";
  EXPECT_TRUE(probe_of(a, a.ctl->state().endpoint(ov(a).id, "a1")->ip));

  // b's probes fail: one failure (fall 2) changes nothing, two take b1 out
  // of a's table, and a's flows to b1 are purged.
  a.datapath.conntrack = {lb_flow_to(b1, 1), lb_flow_to(core::Ipv4::parse("10.50.0.250"), 2)};
  const std::string refused = fmt::format("GET {}:80/ready: status 503 (want 200)", b1.to_string());
  EXPECT_FALSE(b.ctl->record_health(HealthResult{probe->backend_id, false, refused}));
  a.ctl->sync_cluster();
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{local_id, remote_id}));
  EXPECT_TRUE(a.datapath.ct_deleted.empty());
  EXPECT_TRUE(b.ctl->record_health(HealthResult{probe->backend_id, false, refused}));
  a.ctl->sync_cluster();
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{local_id}));
  auto purged = [&](const datapath::CtEntry& e) {
    return std::count(a.datapath.ct_deleted.begin(), a.datapath.ct_deleted.end(), e.key) > 0;
  };
  EXPECT_TRUE(purged(a.datapath.conntrack[0])) << "a's flow to b1 was not purged";
  EXPECT_FALSE(purged(a.datapath.conntrack[1])) << "a flow to another backend was purged";
  const size_t deleted = a.datapath.ct_deleted.size();
  json out = a.ctl->handle("service.inspect", json{{"name", "web"}});
  EXPECT_EQ(out["Backends"][1]["State"], "unhealthy");
  EXPECT_EQ(out["Backends"][1]["IP"], b1.to_string());
  EXPECT_EQ(out["Backends"][1]["LastError"], "unhealthy on host b: " + refused);
  // Another sync purges nothing more.
  a.ctl->sync_cluster();
  EXPECT_EQ(a.datapath.ct_deleted.size(), deleted);

  // Two successes (rise 2) bring it back.
  b.ctl->record_health(HealthResult{probe->backend_id, true, ""});
  a.ctl->sync_cluster();
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{local_id}));
  EXPECT_TRUE(b.ctl->record_health(HealthResult{probe->backend_id, true, ""}));
  a.ctl->sync_cluster();
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{local_id, remote_id}));
  EXPECT_EQ(a.ctl->handle("service.inspect", json{{"name", "web"}})["Backends"][1]["State"],
            "healthy");

  // Unhealthy again, then b1 leaves its service: b stops probing it and its
  // verdict leaves the cluster with the check.
  b.ctl->record_health(HealthResult{probe->backend_id, false, refused});
  b.ctl->record_health(HealthResult{probe->backend_id, false, refused});
  a.ctl->sync_cluster();
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{local_id}));
  a.ctl->handle("service.rm-backend", json{{"name", "web"}, {"container", "b1@b"}});
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  EXPECT_FALSE(probe_of(b, b1)) << "b still probes b1 for a service that no longer has it";
  EXPECT_TRUE(shared.range_prefix(store::keys::backends_prefix(web.id)).kvs.empty());
  // Back in the service: healthy until b's probes say otherwise.
  add_backend("b1@b");
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  a.ctl->sync_cluster();
  ASSERT_TRUE(probe_of(b, b1));
  EXPECT_EQ(table_ids(a, web.index).size(), 2u);
}

TEST_F(ControllerServicesAcrossHostsTest, AnUnhealthyVerdictGoesWithItsHostsLease) {
  store::ManualClock clock;
  store::FakeStore timed([&] { return clock.now(); });
  Host c{timed, "c", "192.0.2.1"};
  Host d{timed, "d", "192.0.2.2"};
  c.create_overlay("ov", "10.50.0.0/24");
  d.ctl->sync_cluster();
  c.connect("ov", "a1");
  d.connect("ov", "b1");
  c.ctl->sync_cluster();
  d.ctl->sync_cluster();
  c.ctl->handle("service.create", json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}});
  c.ctl->handle("service.add-backend", json{{"name", "web"}, {"container", "a1"}});
  c.ctl->handle("service.add-backend", json{{"name", "web"}, {"container", "b1@d"}});
  c.ctl->sync_cluster();
  d.ctl->sync_cluster();
  const core::Service web = c.ctl->state().get_service("web");
  const core::Ipv4 b1 = d.ctl->state().endpoint(ov(d).id, "b1")->ip;
  std::optional<HealthTarget> probe = probe_of(d, b1);
  ASSERT_TRUE(probe);
  for (int i = 0; i < 3; ++i)  // fall 3 (the default)
    d.ctl->record_health(HealthResult{probe->backend_id, false, "connect: Connection refused"});
  c.ctl->sync_cluster();
  EXPECT_EQ(table_ids(c, web.index), (std::set<uint32_t>{web.backends[0].id}));
  ASSERT_EQ(timed.range_prefix(store::keys::backends_prefix(web.id)).kvs.size(), 1u);

  // d dies (no more keep-alives): its lease expires, and with it b1 and its
  // verdict; c keeps b1 out, now as gone.
  clock.advance(std::chrono::seconds(5));
  c.cluster->registry().refresh_lease();
  clock.advance(std::chrono::seconds(6));
  c.cluster->registry().refresh_lease();
  c.ctl->sync_cluster();
  EXPECT_TRUE(timed.range_prefix(store::keys::backends_prefix(web.id)).kvs.empty());
  EXPECT_EQ(table_ids(c, web.index), (std::set<uint32_t>{web.backends[0].id}));
  json out = c.ctl->handle("service.inspect", json{{"name", "web"}});
  EXPECT_NE(out["Backends"][1]["LastError"].get<std::string>().find("not in the cluster"),
            std::string::npos)
      << out.dump();
  // c's check for b1 went with b1, and comes back with it.
  EXPECT_TRUE(timed.range_prefix(std::string(store::keys::kRoot) + "checks/").kvs.empty());
}

TEST_F(ControllerServicesAcrossHostsTest, AConfigFileServiceOnAnOverlayTakesItsVipFromTheCluster) {
  // The address host a would pick on its own (the lowest it does not hold)
  // is a container's on host b.
  const core::Ipv4 a1 = a.ctl->state().endpoint(ov(a).id, "a1")->ip;
  const core::Ipv4 lowest =
      core::Ipv4::parse(a1.value == ip("10.50.0.2") ? "10.50.0.3" : "10.50.0.2");
  if (ip_on_b("b1") != lowest)
    b.ctl->handle(
        "network.connect",
        json{
            {"network", "ov"}, {"container", "b2"}, {"netns", "ns-b"}, {"ip", lowest.to_string()}});
  a.ctl->sync_cluster();
  // bpfnetd restarts on a with a config file defining web on ov: its VIP is
  // picked before the cluster answers, and taken in the cluster on joining.
  const core::Config config = core::parse_config(
      json{{"services", {{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}}}}});
  a.start(shared, "a", "192.0.2.1", true, config);
  const core::Ipv4 vip = a.ctl->state().get_service("web").vip;
  EXPECT_NE(vip, lowest) << "web's VIP is a container's address on host b";
  auto held = shared.get(store::keys::address(ov(a).id, vip));
  ASSERT_TRUE(held) << "web's VIP " << vip.to_string() << " is not taken in the cluster";
  EXPECT_EQ(store::address_from_json("k", held->value), (store::AddressRecord{"a", "service web"}));
  EXPECT_EQ(a.datapath.maps.services.size(), 1u);
  // Host b defines the same service in its config: the same VIP.
  b.start(shared, "b", "192.0.2.2", true, config);
  EXPECT_EQ(b.ctl->state().get_service("web").vip, vip);
  // And no host hands it out.
  std::string err = error_of([&] {
    b.ctl->handle(
        "network.connect",
        json{{"network", "ov"}, {"container", "c1"}, {"netns", "ns-c"}, {"ip", vip.to_string()}});
  });
  EXPECT_NE(err.find("Address already in use"), std::string::npos) << err;
  // A restart keeps it (the lease resumed, the VIP held).
  a.start(shared, "a", "192.0.2.1", true, config);
  EXPECT_EQ(a.ctl->state().get_service("web").vip, vip);
  // `service create` of the same name on a third host would make a service
  // of the cluster, on a and b too: refused (names are the cluster's).
  Host c{shared, "c", "192.0.2.3"};
  EXPECT_NE(error_of([&] {
              c.ctl->handle("service.create",
                            json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}});
            }).find("service with name web already exists on host "),
            std::string::npos);
  EXPECT_EQ(c.ctl->state().find_service("web"), nullptr);
  // Host a removes its web: the VIP stays taken, by a host still using it.
  a.ctl->handle("service.rm", json{{"name", "web"}});
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  held = shared.get(store::keys::address(ov(a).id, vip));
  ASSERT_TRUE(held) << "web's VIP is free while b balances on it";
  EXPECT_NE(store::address_from_json("k", held->value).host, "a");
  EXPECT_EQ(store::address_from_json("k", held->value).owner, "service web");
}

TEST_F(ControllerServicesAcrossHostsTest, AConfigFileServiceOnAnOverlayWorksOnAHostsFirstStart) {
  json made = a.ctl->handle("service.create",
                            json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}});
  const core::Ipv4 vip = core::Ipv4::parse(made["VIP"].get<std::string>());
  // Host c has never joined: its state has no ov when the config is read.
  // Its config names ov (with a remote backend on b) and a network that is
  // nowhere.
  const core::Config config = core::parse_config(
      json{{"services",
            {{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}, {"backends", {"b1@b"}}},
             {{"name", "api"}, {"network", "nowhere"}, {"ports", {"80/tcp"}}}}}});
  std::string err;
  std::unique_ptr<Host> c;
  ::testing::internal::CaptureStderr();
  err = error_of([&] { c = std::make_unique<Host>(shared, "c", "192.0.2.3", true, config); });
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(err, "") << "a config naming an overlay of the cluster stops a new host";
  // web with the cluster's VIP (a's), its backend, in the datapath.
  const core::Service* web = c->ctl->state().find_service("web");
  ASSERT_NE(web, nullptr) << log;
  EXPECT_EQ(web->vip, vip);
  EXPECT_EQ(web->network_id, ov(a).id);
  ASSERT_EQ(web->backends.size(), 1u);
  EXPECT_EQ(web->backends[0].container, "b1@b");
  EXPECT_EQ(c->datapath.maps.services.size(), 1u);
  // api's network is nowhere: an error naming both, and the rest runs on.
  EXPECT_EQ(c->ctl->state().find_service("api"), nullptr);
  EXPECT_NE(log.find("error: --config: service api: network nowhere not found"), std::string::npos)
      << log;
  c->connect("ov", "c1");
  // The same restart of c (ov now in its state): web as it was.
  c->start(shared, "c", "192.0.2.3", true, config);
  EXPECT_EQ(c->ctl->state().get_service("web").vip, vip);
  // An overlay named later makes the waiting service.
  c->create_overlay("nowhere", "10.60.0.0/24");
  c->ctl->sync_cluster();
  ASSERT_NE(c->ctl->state().find_service("api"), nullptr);
}

// A config service whose backend on another host is not in the cluster is
// not made half (a service without its backends would balance to the wrong
// set): refused with the reason, said once, and made once the backend comes.
TEST_F(ControllerServicesAcrossHostsTest, AConfigFileServiceIsNotHalfMadeWhenItsBackendIsMissing) {
  const core::Config config = core::parse_config(
      json{{"services",
            {{{"name", "db"}, {"network", "ov"}, {"ports", {"81/tcp"}}, {"backends", {"b2@b"}}}}}});
  std::unique_ptr<Host> c;
  ::testing::internal::CaptureStderr();
  const std::string err =
      error_of([&] { c = std::make_unique<Host>(shared, "c", "192.0.2.3", true, config); });
  c->ctl->sync_cluster();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(err, "");
  EXPECT_EQ(c->ctl->state().find_service("db"), nullptr) << "made without its backend";
  EXPECT_TRUE(c->datapath.maps.services.empty());
  const std::string said = "error: --config: service db on network ov: ";
  ASSERT_NE(log.find(said), std::string::npos) << log;
  EXPECT_EQ(log.find(said), log.rfind(said)) << "said more than once: " << log;
  // b2 comes on b: the next change of the cluster makes db, with it.
  b.connect("ov", "b2");
  b.ctl->sync_cluster();
  c->ctl->sync_cluster();
  const core::Service* db = c->ctl->state().find_service("db");
  ASSERT_NE(db, nullptr);
  ASSERT_EQ(db->backends.size(), 1u);
  EXPECT_EQ(db->backends[0].container, "b2@b");
}

TEST_F(ControllerServicesAcrossHostsTest, ASharedVipFreedByItsHolderIsTakenAtOnce) {
  // a and b both define web in their config files (a first: a holds the
  // VIP); a keeps another service on ov, so its lb address (an endpoint
  // record) stays.
  const json web = {{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}};
  const json api = {{"name", "api"}, {"network", "ov"}, {"ports", {"81/tcp"}}};
  a.start(shared, "a", "192.0.2.1", true, core::parse_config(json{{"services", {web, api}}}));
  const core::Ipv4 vip = a.ctl->state().get_service("web").vip;
  b.start(shared, "b", "192.0.2.2", true, core::parse_config(json{{"services", {web}}}));
  EXPECT_EQ(b.ctl->state().get_service("web").vip, vip);
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  // a drops web: nothing else changes in the cluster but the VIP's record.
  a.ctl->handle("service.rm", json{{"name", "web"}});
  a.ctl->sync_cluster();
  b.ctl->sync_cluster();
  auto held = shared.get(store::keys::address(ov(a).id, vip));
  ASSERT_TRUE(held) << "web's VIP is free while b balances on it";
  EXPECT_EQ(store::address_from_json("k", held->value), (store::AddressRecord{"b", "service web"}));
  // And no host hands it out.
  std::string err = error_of([&] {
    a.ctl->handle(
        "network.connect",
        json{{"network", "ov"}, {"container", "a9"}, {"netns", "ns-a"}, {"ip", vip.to_string()}});
  });
  EXPECT_NE(err.find("Address already in use"), std::string::npos) << err;
}

TEST_F(ControllerServicesAcrossHostsTest, BadRemoteBackendsAreRefusedNamingWhy) {
  a.ctl->handle("service.create", json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}});
  const core::State before = a.ctl->state();
  EXPECT_NE(error_of([&] {
              add_backend("nobody@b");
            }).find("container nobody is not connected to network ov on host b"),
            std::string::npos);
  EXPECT_NE(error_of([&] { add_backend("a1@a"); }).find("is this host"), std::string::npos);
  EXPECT_NE(error_of([&] { add_backend("@b"); }).find("expected CONTAINER or CONTAINER@HOST"),
            std::string::npos);
  EXPECT_NE(error_of([&] { add_backend("b1@b@c"); }).find("expected CONTAINER"), std::string::npos);
  EXPECT_EQ(a.ctl->state(), before);
  // Only overlay networks span hosts.
  a.ctl->handle("network.create", json{{"name", "br"}, {"subnet", "10.70.0.0/24"}});
  a.ctl->handle("service.create", json{{"name", "local"}, {"network", "br"}, {"ports", {"80"}}});
  EXPECT_NE(error_of([&] {
              a.ctl->handle("service.add-backend", json{{"name", "local"}, {"container", "b1@b"}});
            }).find("not an overlay network"),
            std::string::npos);
}

// --- Services of the cluster: Swarm's routing mesh (daemon/controller_mesh.cc)

// The published port `port`/tcp of host h's datapath, to the VIP (none: not
// published there).
std::optional<datapath::PortMapEntry> published_port(Host& h, uint16_t port) {
  for (const auto& [key, entry] : h.datapath.maps.portmaps)
    if (entry.host_port == port && entry.proto == 6) return entry;
  return std::nullopt;
}

class ControllerMeshTest : public ControllerServicesAcrossHostsTest {
 protected:
  json create_web(Host& h) {
    return h.ctl->handle(
        "service.create",
        json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}, {"publish", {"8080:80"}}});
  }
  void sync_all() {
    for (int i = 0; i < 2; ++i) {
      a.ctl->sync_cluster();
      b.ctl->sync_cluster();
    }
  }
};

TEST_F(ControllerMeshTest, AServiceOnAnOverlayIsOnEveryHostWithItsVipPortAndAllBackends) {
  json made = create_web(a);
  EXPECT_EQ(made["Scope"], "global");
  add_backend("a1");
  add_backend("b1@b");
  sync_all();
  // b has web: the same ID and VIP, its published port on b's uplinks, and
  // the same two backends in b's names (b1 is b's own, a1 is a's).
  const core::Service* there = b.ctl->state().find_service("web");
  ASSERT_NE(there, nullptr) << "web is not on host b";
  EXPECT_TRUE(there->global);
  EXPECT_EQ(there->id, made["Id"]);
  EXPECT_EQ(there->vip.to_string(), made["VIP"]);
  ASSERT_EQ(there->backends.size(), 2u);
  EXPECT_EQ(there->backends[0].container, "a1@a");
  EXPECT_EQ(there->backends[1].container, "b1");
  std::optional<datapath::PortMapEntry> port = published_port(b, 8080);
  ASSERT_TRUE(port) << "web's port 8080 is not published on host b";
  EXPECT_EQ(port->backend_ip, there->vip.value);
  EXPECT_EQ(table_ids(b, there->index),
            (std::set<uint32_t>{there->backends[0].id, there->backends[1].id}));
  EXPECT_NE(b.datapath.maps.networks.at(ov(b).index).lb_addr, 0u) << "b balances from no address";
  // ls and inspect on b show it, with a1's address from the cluster.
  json listed = b.ctl->handle("service.ls", json::object());
  ASSERT_EQ(listed.size(), 1u);
  json inspected = b.ctl->handle("service.inspect", json{{"name", "web"}});
  EXPECT_EQ(inspected["Scope"], "global");
  EXPECT_EQ(inspected["Backends"][0]["IP"],
            a.ctl->state().endpoint(ov(a).id, "a1")->ip.to_string());
  EXPECT_EQ(inspected["Problems"], json::array());

  // A backend change on b reaches a: drain a1 there, remove b1.
  b.ctl->handle("service.drain", json{{"name", "web"}, {"container", "a1@a"}});
  b.ctl->handle("service.rm-backend", json{{"name", "web"}, {"container", "b1"}});
  sync_all();
  const core::Service& here = a.ctl->state().get_service("web");
  ASSERT_EQ(here.backends.size(), 1u);
  EXPECT_EQ(here.backends[0].container, "a1");
  EXPECT_TRUE(here.backends[0].drained());

  // service rm on b: gone everywhere, the port closed on a, the VIP free.
  b.ctl->handle("service.rm", json{{"name", "web"}});
  sync_all();
  EXPECT_EQ(a.ctl->state().find_service("web"), nullptr);
  EXPECT_FALSE(published_port(a, 8080)) << "web's port stays published on host a";
  EXPECT_TRUE(a.datapath.maps.services.empty());
  EXPECT_TRUE(shared.range_prefix(store::keys::services_prefix()).kvs.empty());
  json c = a.ctl->handle("network.connect", json{{"network", "ov"},
                                                 {"container", "a2"},
                                                 {"netns", "ns-a"},
                                                 {"ip", made["VIP"].get<std::string>()}});
  EXPECT_EQ(c["ip"], made["VIP"]) << "the VIP was not released";
}

TEST_F(ControllerMeshTest, ANameTakenInTheClusterAndBadInputChangeNothingAnywhere) {
  json made = create_web(a);
  // b has not synced: its own state has no web, the cluster refuses.
  const core::State before = b.ctl->state();
  const auto records = shared.range_prefix(store::keys::kRoot).kvs;
  EXPECT_EQ(error_of([&] { create_web(b); }),
            "service with name web already exists in the cluster (created on host a)");
  EXPECT_EQ(b.ctl->state(), before);
  // Bad input: refused before the store, which is left as it was.
  for (const json& bad :
       {json{{"name", "api"}, {"network", "ov"}, {"ports", {"80-90"}}},
        json{{"name", "api"}, {"network", "ov"}, {"ports", {"80"}}, {"publish", {"99999:80"}}},
        json{{"name", "bad name!"}, {"network", "ov"}, {"ports", {"80"}}}}) {
    EXPECT_NE(error_of([&] { b.ctl->handle("service.create", bad); }), "") << bad.dump();
    EXPECT_EQ(b.ctl->state(), before);
    EXPECT_EQ(shared.range_prefix(store::keys::kRoot).kvs, records) << bad.dump();
  }
  // A backend the cluster does not have: refused, the record unchanged.
  EXPECT_NE(error_of([&] { add_backend("nobody@b"); }), "");
  EXPECT_EQ(shared.range_prefix(store::keys::kRoot).kvs, records);
  EXPECT_EQ(made["VIP"], a.ctl->state().get_service("web").vip.to_string());
}

TEST_F(ControllerMeshTest, APortTakenOnOneHostIsReportedThereWhileTheOthersPublish) {
  // b publishes 8080 for a local service of its own.
  b.ctl->handle("network.create", json{{"name", "br"}, {"subnet", "10.70.0.0/24"}});
  b.ctl->handle(
      "service.create",
      json{{"name", "local"}, {"network", "br"}, {"ports", {"80"}}, {"publish", {"8080:80"}}});
  create_web(a);
  add_backend("a1");
  sync_all();
  ASSERT_TRUE(published_port(a, 8080));
  // b makes web without its published port, keeps its own, and says why.
  const core::Service* there = b.ctl->state().find_service("web");
  ASSERT_NE(there, nullptr);
  EXPECT_TRUE(there->published.empty());
  EXPECT_EQ(published_port(b, 8080)->backend_ip, b.ctl->state().get_service("local").vip.value);
  EXPECT_EQ(there->backends.size(), 1u);
  json problems = b.ctl->handle("service.inspect", json{{"name", "web"}})["Problems"];
  ASSERT_EQ(problems.size(), 1u) << problems.dump();
  EXPECT_NE(problems[0].get<std::string>().find("published ports are not bound on this host"),
            std::string::npos)
      << problems.dump();
  // Later changes keep saying it.
  add_backend("b1@b");
  sync_all();
  EXPECT_EQ(b.ctl->handle("service.inspect", json{{"name", "web"}})["Problems"], problems);
  EXPECT_EQ(b.ctl->state().get_service("web").backends.size(), 2u);
  // b's own service goes: at b's next sync, web takes the port there.
  b.ctl->handle("service.rm", json{{"name", "local"}});
  b.ctl->sync_cluster();
  EXPECT_EQ(published_port(b, 8080)->backend_ip, b.ctl->state().get_service("web").vip.value);
  EXPECT_EQ(b.ctl->handle("service.inspect", json{{"name", "web"}})["Problems"], json::array());
}

TEST_F(ControllerMeshTest, ABackendDownOnItsHostLeavesEveryHostsTable) {
  a.ctl->handle("service.create", json{{"name", "web"},
                                       {"network", "ov"},
                                       {"ports", {"80/tcp"}},
                                       {"health", {{"rise", 1}, {"fall", 1}}}});
  add_backend("a1");
  add_backend("b1@b");
  sync_all();
  const core::Service web = a.ctl->state().get_service("web");
  const core::Service on_b = b.ctl->state().get_service("web");
  // Each host probes its own backend only.
  std::optional<HealthTarget> probe = probe_of(b, ip_on_b("b1"));
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->backend_id, on_b.backends[1].id);
  EXPECT_FALSE(probe_of(a, ip_on_b("b1")));
  EXPECT_TRUE(shared.range_prefix(std::string(store::keys::kRoot) + "checks/").kvs.empty());
  // b1 fails on b: out of b's table and, through the cluster, of a's.
  EXPECT_TRUE(b.ctl->record_health(HealthResult{probe->backend_id, false, "connect: refused"}));
  EXPECT_EQ(table_ids(b, on_b.index), (std::set<uint32_t>{on_b.backends[0].id}));
  sync_all();
  EXPECT_EQ(table_ids(a, web.index), (std::set<uint32_t>{web.backends[0].id}));
  EXPECT_EQ(a.ctl->handle("service.inspect", json{{"name", "web"}})["Backends"][1]["LastError"],
            "unhealthy on host b: connect: refused");
  // Back up: back in a's table, its record gone.
  EXPECT_TRUE(b.ctl->record_health(HealthResult{probe->backend_id, true, ""}));
  sync_all();
  EXPECT_EQ(table_ids(a, web.index).size(), 2u);
  EXPECT_TRUE(shared.range_prefix(store::keys::backends_prefix(web.id)).kvs.empty());
}

TEST_F(ControllerMeshTest, TheServiceOutlivesItsCreatorAndARestartFollowsTheCluster) {
  store::ManualClock clock;
  store::FakeStore timed([&] { return clock.now(); });
  Host c{timed, "c", "192.0.2.1"};
  Host d{timed, "d", "192.0.2.2"};
  c.create_overlay("ov", "10.50.0.0/24");
  d.ctl->sync_cluster();
  c.connect("ov", "a1");
  d.connect("ov", "b1");
  c.ctl->sync_cluster();
  d.ctl->sync_cluster();
  json made = c.ctl->handle("service.create",
                            json{{"name", "web"}, {"network", "ov"}, {"ports", {"80/tcp"}}});
  c.ctl->handle("service.add-backend", json{{"name", "web"}, {"container", "a1"}});
  c.ctl->handle("service.add-backend", json{{"name", "web"}, {"container", "b1@d"}});
  d.ctl->sync_cluster();
  // c dies: its lease expires; web stays on d (and in the cluster, VIP
  // included), balancing to d's backend only.
  clock.advance(std::chrono::seconds(5));
  d.cluster->registry().refresh_lease();
  clock.advance(std::chrono::seconds(6));
  d.cluster->registry().refresh_lease();
  d.ctl->sync_cluster();
  const core::Service& web = d.ctl->state().get_service("web");
  EXPECT_EQ(table_ids(d, web.index), (std::set<uint32_t>{web.backends[1].id}));
  EXPECT_TRUE(timed.get(store::keys::service("web")));
  EXPECT_TRUE(timed.get(store::keys::address(ov(d).id, web.vip)));
  // d is down while web is removed on a third host: back up, d removes it.
  Host e{timed, "e", "192.0.2.3"};
  ASSERT_NE(e.ctl->state().find_service("web"), nullptr) << "a new host does not make web";
  e.ctl->handle("service.rm", json{{"name", "web"}});
  d.start(timed, "d", "192.0.2.2");
  EXPECT_EQ(d.ctl->state().find_service("web"), nullptr);
  EXPECT_TRUE(d.datapath.maps.services.empty());
  EXPECT_FALSE(
      timed.get(store::keys::address(ov(d).id, core::Ipv4::parse(made["VIP"].get<std::string>()))));
}

}  // namespace
}  // namespace bpfnet::daemon

// --- Docker's IPAM driver: global pools (daemon/docker_ipam.cc) -------------

namespace bpfnet::daemon {
namespace {

// An overlay network's subnet as a pool of Docker's IPAM driver: its
// addresses come from the cluster store, so two hosts' Dockers never hand
// out the same one.
class DockerGlobalPoolTest : public ControllerClusterTest {
 protected:
  DockerGlobalPoolTest() {
    a.create_overlay("ov", "10.50.0.0/24");
    b.ctl->sync_cluster();
  }
  // A call that must succeed (err == nullptr) or be refused (its Err in *err).
  static json call(DockerDriver& driver, const std::string& method, const json& body,
                   std::string* err = nullptr) {
    PluginReply reply = driver.handle("/IpamDriver." + method, body.dump() + "\n");
    json answer = json::parse(reply.body);
    if (err != nullptr) {
      EXPECT_EQ(reply.status, 500u) << reply.body;
      *err = answer.value("Err", "");
    } else {
      EXPECT_EQ(reply.status, 200u) << method << ": " << reply.body;
    }
    return answer;
  }
  static std::string address(DockerDriver& driver, const std::string& pool,
                             const std::string& wanted = "") {
    json body = {{"PoolID", pool}, {"Address", wanted}, {"Options", json::object()}};
    return call(driver, "RequestAddress", body)["Address"];
  }
  static std::string bare(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

  DockerDriver da{*a.ctl};
  DockerDriver db{*b.ctl};
};

TEST_F(DockerGlobalPoolTest, TwoHostsNeverHandOutTheSameAddress) {
  // Host a by the global address space and the overlay's subnet, host b by
  // naming the overlay (--ipam-opt bpfnet.network=ov).
  json pa = call(da, "RequestPool",
                 json{{"AddressSpace", "GlobalDefault"},
                      {"Pool", "10.50.0.0/24"},
                      {"SubPool", ""},
                      {"Options", json::object()},
                      {"V6", false}});
  json pb = call(db, "RequestPool",
                 json{{"AddressSpace", "LocalDefault"},
                      {"Pool", "10.50.0.0/24"},
                      {"SubPool", ""},
                      {"Options", {{"bpfnet.network", "ov"}}},
                      {"V6", false}});
  EXPECT_EQ(pa["PoolID"], "GlobalDefault/10.50.0.0/24");
  EXPECT_EQ(pb["PoolID"], "GlobalDefault/10.50.0.0/24");
  EXPECT_EQ(pb["Pool"], "10.50.0.0/24");
  const std::string pool = pa["PoolID"];
  // The gateway is the overlay's, on every host.
  json gateway = {{"PoolID", pool},
                  {"Address", ""},
                  {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}};
  EXPECT_EQ(call(da, "RequestAddress", gateway)["Address"], "10.50.0.1/24");
  EXPECT_EQ(call(db, "RequestAddress", gateway)["Address"], "10.50.0.1/24");

  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(seen.insert(address(da, pool)).second);
    EXPECT_TRUE(seen.insert(address(db, pool)).second);
  }
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_FALSE(seen.contains("10.50.0.1/24"));

  // Host a's address is refused to host b, naming the holder, and b's
  // state stays as it was.
  const core::IpamPool& on_a = *a.ctl->state().ipam_pool_by_id(pool);
  auto held_by_a = std::find_if(seen.begin(), seen.end(), [&](const std::string& cidr) {
    return on_a.addresses.contains(core::Ipv4::parse(bare(cidr)));
  });
  ASSERT_NE(held_by_a, seen.end());
  const std::string ip = bare(*held_by_a);
  const core::State before = b.ctl->state();
  std::string err;
  call(db, "RequestAddress", json{{"PoolID", pool}, {"Address", ip}, {"Options", json::object()}},
       &err);
  EXPECT_EQ(err, fmt::format("Address already in use: {} is used by host a", ip));
  EXPECT_EQ(b.ctl->state(), before) << "the refusal changed host b's state";
  // Released by host a, host b may take it.
  call(da, "ReleaseAddress", json{{"PoolID", pool}, {"Address", ip}});
  EXPECT_EQ(address(db, pool, ip), *held_by_a);
  // A bpfnetctl container on the overlay gets none of them either.
  json connected = a.connect("ov", "a9");
  EXPECT_FALSE(seen.contains(connected["ip"].get<std::string>() + "/24")) << connected.dump();
}

TEST_F(DockerGlobalPoolTest, GlobalPoolsAreOverlayNetworksSubnets) {
  std::string err;
  call(da, "RequestPool",
       json{{"AddressSpace", "GlobalDefault"}, {"Pool", "10.51.0.0/24"}, {"Options", nullptr}},
       &err);
  EXPECT_EQ(err,
            "the GlobalDefault address space holds bpfnet overlay networks' subnets: give the "
            "subnet of one (--subnet) or name it with --ipam-opt bpfnet.network=NAME");
  call(da, "RequestPool",
       json{{"AddressSpace", "GlobalDefault"},
            {"Pool", "10.50.0.0/25"},
            {"Options", {{"bpfnet.network", "ov"}}}},
       &err);
  EXPECT_EQ(err, "pool 10.50.0.0/25 is not the subnet 10.50.0.0/24 of overlay network ov");
  // Without the subnet Docker (a local network) would drop the pool, as
  // the host routes it, and ask again for ever.
  call(
      da, "RequestPool",
      json{{"AddressSpace", "LocalDefault"}, {"Pool", ""}, {"Options", {{"bpfnet.network", "ov"}}}},
      &err);
  EXPECT_EQ(err,
            "--ipam-opt bpfnet.network=ov: give the overlay's subnet too (--subnet "
            "10.50.0.0/24): Docker drops a pool it did not ask for when the host routes it, and "
            "every host routes its overlays");
  // A local pool cannot take the overlay's addresses.
  call(da, "RequestPool", json{{"AddressSpace", "LocalDefault"}, {"Pool", "10.50.0.0/24"}}, &err);
  EXPECT_EQ(err,
            "Pool overlaps with other one on this address space: 10.50.0.0/24 overlaps network ov "
            "(10.50.0.0/24) (for Docker containers on overlay ov: --ipam-opt bpfnet.network=ov)");
  EXPECT_TRUE(a.ctl->state().ipam_pools.empty());
}

TEST_F(DockerGlobalPoolTest, ARestartKeepsTheAddressInTheCluster) {
  const json request = {{"AddressSpace", "GlobalDefault"}, {"Pool", "10.50.0.0/24"}};
  const std::string pool = call(da, "RequestPool", request)["PoolID"];
  const std::string first = address(da, pool);
  // bpfnetd restarts on host a (its lease resumed from its state dir): the
  // pool and its address stay, and the cluster holds the address for a.
  a.start(shared, "a", "192.0.2.1");
  DockerDriver restarted{*a.ctl};
  EXPECT_EQ(a.ctl->state().ipam_pool_by_id(pool)->addresses.size(), 1u);
  std::string err;
  call(db, "RequestPool", request);
  call(db, "RequestAddress",
       json{{"PoolID", pool}, {"Address", bare(first)}, {"Options", json::object()}}, &err);
  EXPECT_EQ(err, fmt::format("Address already in use: {} is used by host a", bare(first)));
  // Released, it is free cluster-wide; and the pool goes.
  call(restarted, "ReleaseAddress", json{{"PoolID", pool}, {"Address", bare(first)}});
  call(restarted, "ReleasePool", json{{"PoolID", pool}});
  EXPECT_TRUE(a.ctl->state().ipam_pools.empty());
  EXPECT_EQ(address(db, pool, bare(first)), first);
}

}  // namespace
}  // namespace bpfnet::daemon

namespace bpfnet::daemon {
namespace {

// A host gone longer than its lease: the cluster dropped its addresses, and
// the restarted bpfnetd takes its Docker global pool's addresses again.
TEST(DockerGlobalPoolLeaseTest, AnExpiredLeaseGetsThePoolsAddressesBack) {
  store::ManualClock clock;
  store::FakeStore shared([&] { return clock.now(); });
  auto a = std::make_unique<Host>(shared, "a", "192.0.2.1");
  Host b(shared, "b", "192.0.2.2");
  a->create_overlay("ov", "10.50.0.0/24");
  b.ctl->sync_cluster();
  std::string pool;
  std::string held;
  {
    DockerDriver da{*a->ctl};
    PluginReply made = da.handle(
        "/IpamDriver.RequestPool",
        R"({"AddressSpace":"GlobalDefault","Pool":"10.50.0.0/24","SubPool":"","Options":{},"V6":false})"
        "\n");
    ASSERT_EQ(made.status, 200u) << made.body;
    pool = json::parse(made.body)["PoolID"];
    PluginReply address = da.handle("/IpamDriver.RequestAddress",
                                    json{{"PoolID", pool}, {"Address", ""}}.dump() + "\n");
    ASSERT_EQ(address.status, 200u) << address.body;
    held = json::parse(address.body)["Address"];
    held = held.substr(0, held.find('/'));
  }
  // Host a crashes (no graceful stop) and stays away past its lease: the
  // cluster drops its address.
  a->ctl.reset();
  a->cluster.reset();
  for (int i = 0; i < 4; ++i) {  // host b stays alive meanwhile
    clock.advance(std::chrono::seconds(8));
    ASSERT_TRUE(b.cluster->registry().refresh_lease());
    shared.tick();
  }
  const std::string ov = b.ctl->state().network_by_name("ov")->id;
  b.ctl->take_cluster_address(ov, "probe", core::Ipv4::parse(held));
  b.ctl->release_cluster_address(ov, core::Ipv4::parse(held));
  // Back with its state (a new lease): its pool's address is its own again.
  a->start(shared, "a", "192.0.2.1");
  EXPECT_EQ(a->ctl->state().ipam_pool_by_id(pool)->addresses.size(), 1u);
  EXPECT_EQ(error_of([&] { b.ctl->take_cluster_address(ov, "probe", core::Ipv4::parse(held)); }),
            fmt::format("Address already in use: {} is used by host a", held));
}

}  // namespace
}  // namespace bpfnet::daemon

// --- Docker networks on overlay networks (core/docker_overlay.h) ------------

namespace bpfnet::daemon {
namespace {

// `docker network create -d bpfnet --ipam-driver bpfnet --ipam-opt
// bpfnet.network=ov` on two Docker hosts, then `docker run` and `docker rm`
// on each, as Docker's calls (libnetwork's order) to each host's bpfnetd.
class DockerOverlayFaceTest : public ControllerClusterTest {
 protected:
  DockerOverlayFaceTest() {
    a.create_overlay("ov", "10.50.0.0/24");
    b.ctl->sync_cluster();
  }
  static json plugin(DockerDriver& driver, const std::string& method, const json& body,
                     std::string* err = nullptr) {
    PluginReply reply = driver.handle("/" + method, body.dump() + "\n");
    json answer = json::parse(reply.body);
    if (err != nullptr) {
      EXPECT_EQ(reply.status, 500u) << reply.body;
      *err = answer.value("Err", "");
    } else {
      EXPECT_EQ(reply.status, 200u) << method << ": " << reply.body;
    }
    return answer;
  }
  static json create_network_body(const std::string& network, const std::string& gateway,
                                  const json& generic = json::object()) {
    return json{
        {"NetworkID", network},
        {"Options",
         {{"com.docker.network.enable_ipv6", false}, {"com.docker.network.generic", generic}}},
        {"IPv4Data",
         json::array(
             {{{"AddressSpace", "LocalDefault"}, {"Gateway", gateway}, {"Pool", "10.50.0.0/24"}}})},
        {"IPv6Data", json::array()}};
  }
  // Returns the pool's ID.
  static std::string create(DockerDriver& driver, const std::string& network) {
    const std::string pool = plugin(driver, "IpamDriver.RequestPool",
                                    json{{"AddressSpace", "LocalDefault"},
                                         {"Pool", "10.50.0.0/24"},
                                         {"SubPool", ""},
                                         {"Options", {{"bpfnet.network", "ov"}}},
                                         {"V6", false}})["PoolID"];
    const std::string gateway = plugin(
        driver, "IpamDriver.RequestAddress",
        json{{"PoolID", pool},
             {"Address", ""},
             {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}})["Address"];
    plugin(driver, "NetworkDriver.CreateNetwork", create_network_body(network, gateway));
    return pool;
  }
  // Returns the container's address (without the mask).
  static std::string run(DockerDriver& driver, const std::string& pool, const std::string& network,
                         const std::string& endpoint) {
    const std::string address =
        plugin(driver, "IpamDriver.RequestAddress",
               json{{"PoolID", pool}, {"Address", ""}, {"Options", {}}})["Address"];
    plugin(driver, "NetworkDriver.CreateEndpoint",
           json{{"NetworkID", network},
                {"EndpointID", endpoint},
                {"Interface", {{"Address", address}, {"AddressIPv6", ""}, {"MacAddress", ""}}},
                {"Options", json::object()}});
    json joined = plugin(driver, "NetworkDriver.Join",
                         json{{"NetworkID", network},
                              {"EndpointID", endpoint},
                              {"SandboxKey", "/var/run/docker/netns/" + endpoint.substr(0, 12)},
                              {"Options", json::object()}});
    EXPECT_EQ(joined["Gateway"], "10.50.0.1");  // the overlay's, on every host
    return address.substr(0, address.find('/'));
  }
  static void rm(DockerDriver& driver, const std::string& pool, const std::string& network,
                 const std::string& endpoint, const std::string& address) {
    const json ids = {{"NetworkID", network}, {"EndpointID", endpoint}};
    plugin(driver, "NetworkDriver.Leave", ids);
    plugin(driver, "NetworkDriver.DeleteEndpoint", ids);
    plugin(driver, "IpamDriver.ReleaseAddress", json{{"PoolID", pool}, {"Address", address}});
  }
  static std::string ep_id(char host, int n) {
    return std::string(1, host == 'a' ? 'a' : 'b') + std::to_string(n) + std::string(62, 'e');
  }
  // Host `to`'s tunnel to `address`: the underlay address of its host.
  static std::optional<std::string> tunnel(Host& to, const std::string& address) {
    to.ctl->sync_cluster();
    auto it = to.datapath.maps.tunnels.find(core::Ipv4::parse(address).value);
    if (it == to.datapath.maps.tunnels.end()) return std::nullopt;
    return core::Ipv4{it->second.remote}.to_string();
  }

  const std::string kNetA = std::string(64, 'a');  // each dockerd's own NetworkID
  const std::string kNetB = std::string(64, 'b');
  DockerDriver da{*a.ctl};
  DockerDriver db{*b.ctl};
};

TEST_F(DockerOverlayFaceTest, TwoDockerHostsContainersAreOneOverlay) {
  const std::string pool_a = create(da, kNetA);
  const std::string pool_b = create(db, kNetB);
  const std::string ov = a.ctl->state().network_by_name("ov")->id;
  EXPECT_EQ(a.ctl->state().network_by_name("ov")->docker_network_id, kNetA);
  EXPECT_EQ(b.ctl->state().network_by_name("ov")->docker_network_id, kNetB);
  std::set<std::string> addresses;
  std::vector<std::string> on_a, on_b;
  for (int i = 0; i < 3; ++i) {
    on_a.push_back(run(da, pool_a, kNetA, ep_id('a', i)));
    on_b.push_back(run(db, pool_b, kNetB, ep_id('b', i)));
    addresses.insert(on_a.back());
    addresses.insert(on_b.back());
  }
  EXPECT_EQ(addresses.size(), 6u);
  // Real overlay endpoints: each host tunnels to the other's containers.
  for (const auto& ip : on_a) EXPECT_EQ(tunnel(b, ip), "192.0.2.1") << ip;
  for (const auto& ip : on_b) EXPECT_EQ(tunnel(a, ip), "192.0.2.2") << ip;
  ASSERT_NE(a.ctl->state().endpoint_by_id(ep_id('a', 0)), nullptr);
  const core::Endpoint& first = *a.ctl->state().endpoint_by_id(ep_id('a', 0));
  EXPECT_EQ(first.network_id, ov);
  EXPECT_TRUE(first.docker);
  // bpfnetctl sees them on ov, with their hosts, and cannot disconnect them.
  json inspect = b.ctl->handle("network.inspect", json{{"name", "ov"}});
  EXPECT_EQ(inspect["Containers"].size(), 6u) << inspect.dump();
  const core::State before = a.ctl->state();
  EXPECT_EQ(error_of([&] {
              a.ctl->handle("network.disconnect",
                            json{{"network", "ov"}, {"container", first.container}});
            }),
            "container " + first.container +
                " on network ov is Docker's: use `docker network disconnect`");
  EXPECT_EQ(a.ctl->state(), before);
  EXPECT_EQ(tunnel(b, on_a[0]), "192.0.2.1");
  // -p on an overlay container: published on its own host, as bpfnetctl's.
  plugin(da, "NetworkDriver.ProgramExternalConnectivity",
         json{{"NetworkID", kNetA},
              {"EndpointID", ep_id('a', 0)},
              {"Options",
               {{"com.docker.network.portmap", json::array({{{"Proto", 6},
                                                             {"IP", ""},
                                                             {"Port", 80},
                                                             {"HostIP", ""},
                                                             {"HostPort", 8080},
                                                             {"HostPortEnd", 8080}}})}}}});
  EXPECT_EQ(a.ctl->state().endpoint_by_id(ep_id('a', 0))->ports.size(), 1u);

  // docker rm -f on host a: gone from host b's tunnels, its address free
  // for host b's Docker.
  rm(da, pool_a, kNetA, ep_id('a', 1), on_a[1]);
  EXPECT_EQ(tunnel(b, on_a[1]), std::nullopt);
  EXPECT_EQ(plugin(db, "IpamDriver.RequestAddress",
                   json{{"PoolID", pool_b}, {"Address", on_a[1]}, {"Options", {}}})["Address"],
            on_a[1] + "/24");

  // docker network rm on host a (its containers gone first): only the face
  // goes; the overlay and host b's containers stay.
  rm(da, pool_a, kNetA, ep_id('a', 0), on_a[0]);
  rm(da, pool_a, kNetA, ep_id('a', 2), on_a[2]);
  plugin(da, "IpamDriver.ReleaseAddress", json{{"PoolID", pool_a}, {"Address", "10.50.0.1"}});
  plugin(da, "IpamDriver.ReleasePool", json{{"PoolID", pool_a}});
  plugin(da, "NetworkDriver.DeleteNetwork", json{{"NetworkID", kNetA}});
  const core::Network* kept = a.ctl->state().network_by_name("ov");
  ASSERT_NE(kept, nullptr);
  EXPECT_TRUE(kept->docker_network_id.empty());
  for (const auto& ip : on_b) EXPECT_EQ(tunnel(a, ip), "192.0.2.2") << ip;
}

TEST_F(DockerOverlayFaceTest, RefusalsNameWhatIsWrongAndChangeNothing) {
  // Host b has no bpfnet pool on ov (Docker's own IPAM gave the subnet),
  // and a bridge network.
  b.ctl->handle("network.create", json{{"name", "br"}, {"subnet", "10.70.0.0/24"}});
  const core::State before = b.ctl->state();
  std::string err;
  plugin(db, "NetworkDriver.CreateNetwork",
         create_network_body(kNetB, "10.50.0.1/24", {{"bpfnet.network", "nope"}}), &err);
  EXPECT_EQ(err,
            "-o bpfnet.network=nope: network nope not found (create it first, on any host: "
            "bpfnetctl network create -d overlay nope)");
  plugin(db, "NetworkDriver.CreateNetwork",
         create_network_body(kNetB, "10.50.0.1/24", {{"bpfnet.network", "br"}}), &err);
  EXPECT_EQ(err, "-o bpfnet.network=br: network br is a bridge network, not an overlay network");
  plugin(db, "NetworkDriver.CreateNetwork",
         create_network_body(kNetB, "10.50.0.1/24", {{"bpfnet.network", "ov"}}), &err);
  EXPECT_EQ(err,
            "overlay network ov takes its addresses from the cluster: create the Docker network "
            "with --ipam-driver bpfnet --ipam-opt bpfnet.network=ov");
  EXPECT_EQ(b.ctl->state(), before);
}

TEST_F(DockerOverlayFaceTest, RestartsKeepDockersContainersInTheCluster) {
  const std::string pool = create(da, kNetA);
  const std::string kept = run(da, pool, kNetA, ep_id('a', 0));
  const std::string dies = run(da, pool, kNetA, ep_id('a', 1));
  EXPECT_EQ(tunnel(b, kept), "192.0.2.1");
  EXPECT_EQ(tunnel(b, dies), "192.0.2.1");
  // bpfnetd of host a restarts (its lease resumed), and one container died
  // meanwhile (its veth went with its sandbox).
  ASSERT_NE(a.ctl->state().endpoint_by_id(ep_id('a', 1)), nullptr);
  a.plumbing.links.erase(a.ctl->state().endpoint_by_id(ep_id('a', 1))->host_ifname);
  a.start(shared, "a", "192.0.2.1");
  EXPECT_NE(a.ctl->state().endpoint_by_id(ep_id('a', 0)), nullptr);
  EXPECT_EQ(tunnel(b, kept), "192.0.2.1");
  EXPECT_EQ(tunnel(b, dies), std::nullopt) << "the dead container's record stayed";
  // A graceful stop and start (a new lease): the pool's addresses and the
  // container are this host's in the cluster again.
  a.ctl->leave_cluster();
  EXPECT_EQ(tunnel(b, kept), std::nullopt);
  a.start(shared, "a", "192.0.2.1");
  EXPECT_EQ(tunnel(b, kept), "192.0.2.1");
  EXPECT_NE(a.ctl->state().endpoint_by_id(ep_id('a', 0)), nullptr);
  std::string err;
  DockerDriver db2{*b.ctl};
  create(db2, kNetB);
  plugin(db2, "IpamDriver.RequestAddress",
         json{{"PoolID", pool}, {"Address", kept}, {"Options", {}}}, &err);
  EXPECT_EQ(err, fmt::format("Address already in use: {} is used by host a", kept));
}

}  // namespace
}  // namespace bpfnet::daemon
