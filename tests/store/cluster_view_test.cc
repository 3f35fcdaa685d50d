#include "store/cluster_view.h"

#include <gtest/gtest.h>

#include "cluster_test_support.h"
#include "store/cluster_keys.h"
#include "store_test_support.h"

namespace bpfnet::store {
namespace {

using namespace std::chrono_literals;
using core::Cidr;
using core::Ipv4;
using testing::connect;
using testing::make_host;
using testing::overlay;

class ViewTest : public ::testing::Test {
 protected:
  ManualClock clock;
  FakeStore store{[this] { return clock.now(); }};
  testing::ViewChangeLog log;
};

TEST_F(ViewTest, StartReportsWhatIsThereThenFollowsChanges) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  auto first = connect(*h2, network, "e1");

  ClusterView view(store, log.listener());
  view.start();
  ASSERT_EQ(log.log().size(), 1u);
  ViewChanges initial = log.log()[0];
  EXPECT_EQ(initial.hosts_added.size(), 2u);
  ASSERT_EQ(initial.networks_added.size(), 1u);
  ASSERT_EQ(initial.added.size(), 1u);
  EXPECT_EQ(initial.added[0].endpoint, first);
  EXPECT_EQ(initial.added[0].underlay, Ipv4::parse("192.0.2.2"));
  EXPECT_EQ(initial.added[0].vni, 4096u);

  auto second = connect(*h1, network, "e2");
  ASSERT_EQ(log.log().size(), 2u);
  ASSERT_EQ(log.log()[1].added.size(), 1u);
  EXPECT_EQ(log.log()[1].added[0].endpoint, second);
  EXPECT_EQ(log.log()[1].added[0].underlay, Ipv4::parse("192.0.2.1"));
  EXPECT_EQ(view.endpoints().size(), 2u);
  // The visitor sees what endpoints() copies, without the copy.
  std::vector<RemoteEndpoint> visited;
  view.for_each_endpoint([&](const RemoteEndpoint& e) { visited.push_back(e); });
  ASSERT_EQ(visited.size(), 2u);
  EXPECT_EQ(visited[0], view.endpoints().begin()->second);
  EXPECT_EQ(visited[1], std::next(view.endpoints().begin())->second);

  h2->withdraw_endpoint(network.id, "e1");
  ASSERT_EQ(log.log().size(), 3u);
  ASSERT_EQ(log.log()[2].removed.size(), 1u);
  EXPECT_EQ(log.log()[2].removed[0].endpoint, first);
  EXPECT_EQ(view.endpoints().size(), 1u);
  EXPECT_EQ(view.networks().size(), 1u);
  EXPECT_EQ(view.hosts().size(), 2u);
}

TEST_F(ViewTest, AReleasedAddressIsAChangeATakenOneIsNot) {
  // A host sharing a service's VIP takes it again when its holder lets it
  // go: the view has to say so, though it keeps no addresses.
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  ClusterView view(store, log.listener());
  view.start();
  const size_t started = log.log().size();
  EXPECT_FALSE(log.log().back().addresses_released) << "the first sync missed nothing";
  const Ipv4 vip = h1->allocate_address(network.id, "service web");
  EXPECT_EQ(log.log().size(), started);
  h1->release_address(network.id, vip);
  ASSERT_EQ(log.log().size(), started + 1);
  EXPECT_TRUE(log.log().back().addresses_released);
  EXPECT_FALSE(log.log().back().empty());
}

TEST_F(ViewTest, AHostWhoseLeaseExpiresTakesAllItsEndpointsInOneChange) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  for (int i = 0; i < 5; ++i) connect(*h2, network, fmt::format("e{}", i));
  ClusterView view(store, log.listener());
  view.start();
  EXPECT_EQ(view.endpoints().size(), 5u);
  clock.advance(6s);
  h1->refresh_lease();
  clock.advance(6s);
  store.tick();  // h2 silent for 12 s > 10 s
  ViewChanges last = log.log().back();
  EXPECT_EQ(last.removed.size(), 5u);
  ASSERT_EQ(last.hosts_removed.size(), 1u);
  EXPECT_EQ(last.hosts_removed[0].name, "h2");
  EXPECT_TRUE(view.endpoints().empty());
}

TEST_F(ViewTest, AnEndpointIsReachableOnlyOnceItsHostAndNetworkAreKnown) {
  // Raw records in an unusual order (a restore, or another writer).
  ClusterView view(store, log.listener());
  view.start();
  auto network = overlay("ov", "10.10.0.0/24");
  network.vni = 5000;
  network.gateway = Ipv4::parse("10.10.0.1");
  auto endpoint = testing::endpoint_record(network, "e1", Ipv4::parse("10.10.0.9"));
  endpoint.host = "h7";
  store.put(keys::endpoint(network.id, "e1"), to_json(endpoint));
  store.put(keys::network(network.id), to_json(network));
  EXPECT_TRUE(view.endpoints().empty());
  store.put(keys::host("h7"), to_json(HostRecord{"h7", Ipv4::parse("192.0.2.7"), {}}));
  ASSERT_EQ(view.endpoints().size(), 1u);
  EXPECT_EQ(view.endpoints().begin()->second.vni, 5000u);
  // The host moves: one change, removed then added.
  store.put(keys::host("h7"), to_json(HostRecord{"h7", Ipv4::parse("192.0.2.77"), {}}));
  ViewChanges moved = log.log().back();
  ASSERT_EQ(moved.removed.size(), 1u);
  ASSERT_EQ(moved.added.size(), 1u);
  EXPECT_EQ(moved.added[0].underlay, Ipv4::parse("192.0.2.77"));
  // Junk is skipped and counted, not fatal.
  store.put(keys::endpoint(network.id, "bad"), "{not json");
  store.put(keys::host("h8"), R"({"name":"h8","underlay":"300.1.1.1"})");
  EXPECT_EQ(view.bad_records(), 2u);
  EXPECT_EQ(view.endpoints().size(), 1u);
}

TEST_F(ViewTest, ACompactedWatchResyncsWithoutLosingOrRepeatingChanges) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  connect(*h1, network, "gone");
  ClusterView view(store, log.listener());
  view.start();
  store.hold_events(true);
  h1->withdraw_endpoint(network.id, "gone");
  connect(*h1, network, "new");
  store.compact(store.revision());
  store.hold_events(false);
  EXPECT_TRUE(view.resync_if_needed());
  auto endpoints = view.endpoints();
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints.begin()->second.endpoint.endpoint_id, "new");
  ViewChanges resynced = log.log().back();
  ASSERT_EQ(resynced.removed.size(), 1u);
  EXPECT_EQ(resynced.removed[0].endpoint.endpoint_id, "gone");
  ASSERT_EQ(resynced.added.size(), 1u);
  EXPECT_EQ(resynced.added[0].endpoint.endpoint_id, "new");
  // And the new watch follows on.
  connect(*h1, network, "after");
  EXPECT_EQ(view.endpoints().size(), 2u);
}

TEST_F(ViewTest, ItKnowsTheTakenAddressesWithoutReadingThePrefix) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  const Cidr pool = Cidr::parse("10.10.0.0/24");
  // What the registry skips: the network, gateway and broadcast addresses.
  auto reserved = [](Ipv4 ip) {
    return ip == Ipv4::parse("10.10.0.0") || ip == Ipv4::parse("10.10.0.1") ||
           ip == Ipv4::parse("10.10.0.255");
  };
  ClusterView view(store, log.listener());
  // Not read yet: it cannot say (the registry reads the store instead).
  EXPECT_FALSE(view.free_addresses(network.id, pool, reserved, 4).has_value());
  h1->allocate_address(network.id, "a", Ipv4::parse("10.10.0.4"));
  h1->allocate_address(network.id, "b", Ipv4::parse("10.10.0.2"));
  view.start();
  h2->allocate_address(network.id, "c", Ipv4::parse("10.10.0.3"));
  auto free = [&](size_t count, const std::function<bool(Ipv4)>& skip) {
    std::vector<std::string> out;
    const std::vector<Ipv4> found =
        view.free_addresses(network.id, pool, skip, count).value_or(std::vector<Ipv4>{});
    for (Ipv4 ip : found) out.push_back(ip.to_string());
    return out;
  };
  EXPECT_EQ(free(3, reserved), (std::vector<std::string>{"10.10.0.5", "10.10.0.6", "10.10.0.7"}));
  EXPECT_EQ(free(2, [&](Ipv4 ip) { return reserved(ip) || ip == Ipv4::parse("10.10.0.5"); }),
            (std::vector<std::string>{"10.10.0.6", "10.10.0.7"}));
  // A release is followed.
  h1->release_address(network.id, Ipv4::parse("10.10.0.2"));
  EXPECT_EQ(free(2, reserved), (std::vector<std::string>{"10.10.0.2", "10.10.0.5"}));
  // Released and taken while the watch was cut off: the resync notices.
  store.hold_events(true);
  h2->release_address(network.id, Ipv4::parse("10.10.0.3"));
  h2->allocate_address(network.id, "d", Ipv4::parse("10.10.0.5"));
  store.compact(store.revision());
  store.hold_events(false);
  EXPECT_TRUE(view.resync_if_needed());
  EXPECT_TRUE(log.log().back().resynced);
  EXPECT_EQ(free(2, reserved), (std::vector<std::string>{"10.10.0.2", "10.10.0.3"}));
  // The whole pool taken: nothing to offer.
  EXPECT_TRUE(view.free_addresses(network.id, Cidr::parse("10.10.0.4/32"), reserved, 1)->empty());
}

TEST_F(ViewTest, ChecksAndBackendHealthFollowTheirHostsLeasesAndResyncs) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  ClusterView view(store, log.listener());
  view.start();
  const CheckRecord check{"web", "h1", "n1", "e2", "h2", 80, core::HealthCheck{}};
  h1->publish_check("s1", check);
  ASSERT_EQ(view.checks().size(), 1u);
  EXPECT_EQ(view.checks().at({"s1", "e2"}), check);
  EXPECT_TRUE(log.log().back().backends_changed);
  h2->publish_backend_health("s1", "e2", BackendHealthRecord{"", false, "refused"});
  EXPECT_EQ(view.backend_health().at({"s1", "e2"}), (BackendHealthRecord{"h2", false, "refused"}));
  // Withdrawn across a compaction: the resync drops it.
  store.hold_events(true);
  h2->withdraw_backend_health("s1", "e2");
  store.compact(store.revision());
  store.hold_events(false);
  EXPECT_TRUE(view.resync_if_needed());
  EXPECT_TRUE(view.backend_health().empty());
  h2->publish_backend_health("s1", "e2", BackendHealthRecord{"", false, "refused"});
  // h1 stops keeping its lease alive: its check goes, h2's verdict stays.
  for (int i = 0; i < 4; ++i) {
    clock.advance(4s);
    h2->refresh_lease();
  }
  EXPECT_TRUE(view.checks().empty());
  EXPECT_EQ(view.backend_health().size(), 1u);
  // A record another bpfnetd cannot read is skipped and counted.
  const size_t bad = view.bad_records();
  store.put(keys::check("s2", "e9"), R"({"host":"h2"})");
  EXPECT_TRUE(view.checks().empty());
  EXPECT_EQ(view.bad_records(), bad + 1);
}

TEST_F(ViewTest, ResyncWaitsForAStoreThatIsAway) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  ClusterView view(store, log.listener());
  store.set_available(false);
  EXPECT_THROW(view.start(), StoreUnavailable);
  EXPECT_FALSE(view.resync_if_needed());
  store.set_available(true);
  EXPECT_TRUE(view.resync_if_needed());
  EXPECT_EQ(view.hosts().size(), 1u);
}

// Many hosts in one process, every host's view seeing every endpoint (the
// benchmark runs this shape at 50 x 200; a unit test keeps it quick).
TEST_F(ViewTest, FiftyHostsConvergeOnEveryEndpoint) {
  constexpr int kHosts = 50;
  constexpr int kEndpoints = 20;
  std::vector<std::unique_ptr<ClusterRegistry>> hosts;
  std::vector<std::unique_ptr<ClusterView>> views;
  for (int h = 0; h < kHosts; ++h) {
    hosts.push_back(make_host(store, fmt::format("h{}", h),
                              fmt::format("192.0.{}.{}", 2 + h / 250, 1 + h % 250)));
    views.push_back(std::make_unique<ClusterView>(store, nullptr));
    views.back()->start();
  }
  auto network = hosts[0]->create_network(overlay("big", "10.0.0.0/16"));
  for (int e = 0; e < kEndpoints; ++e) {
    for (int h = 0; h < kHosts; ++h) connect(*hosts[h], network, fmt::format("e{}-{}", h, e));
  }
  for (const auto& view : views) ASSERT_EQ(view->endpoints().size(), size_t{kHosts * kEndpoints});
}

}  // namespace
}  // namespace bpfnet::store
