#include "store/cluster_registry.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "cluster_test_support.h"
#include "core/error.h"
#include "store/cluster_keys.h"

namespace bpfnet::store {
namespace {

using namespace std::chrono_literals;
using core::Cidr;
using core::Ipv4;
using testing::connect;
using testing::make_host;
using testing::overlay;

#define EXPECT_USER_ERROR(statement, text)                                      \
  try {                                                                         \
    statement;                                                                  \
    ADD_FAILURE() << "no error, expected: " << (text);                          \
  } catch (const core::UserError& e) {                                          \
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what(); \
  }

class RegistryTest : public ::testing::Test {
 protected:
  ManualClock clock;
  FakeStore store{[this] { return clock.now(); }};
};

TEST_F(RegistryTest, HostNameIsTakenWhileItsHostLives) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  EXPECT_TRUE(store.get(keys::host("h1")));
  EXPECT_USER_ERROR(make_host(store, "h1", "192.0.2.9"),
                    "host name h1 is taken by a live host at 192.0.2.1");
  // The refused attempt leaves no lease behind.
  EXPECT_EQ(store.lease_count(), 1u);
  h1->stop();
  EXPECT_FALSE(store.get(keys::host("h1")));
  EXPECT_NO_THROW(make_host(store, "h1", "192.0.2.9"));
}

TEST_F(RegistryTest, GracefulStopRemovesEverythingAtOnce) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  connect(*h1, network, "e1");
  connect(*h1, network, "e2");
  h1->stop();
  EXPECT_TRUE(store.range_prefix(keys::endpoints_prefix(network.id)).kvs.empty());
  EXPECT_TRUE(store.range_prefix(keys::addresses_prefix(network.id)).kvs.empty());
  EXPECT_TRUE(store.get(keys::network(network.id))) << "global networks outlive their creator";
}

TEST_F(RegistryTest, DeadHostGoesWhenItsLeaseExpiresAndItsAddressesAreFreed) {
  auto h1 = make_host(store, "h1", "192.0.2.1", 10s);
  auto h2 = make_host(store, "h2", "192.0.2.2", 10s);
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  auto dead = connect(*h2, network, "e-dead");
  EXPECT_EQ(dead.ip, Ipv4::parse("10.10.0.2"));
  for (int i = 0; i < 4; ++i) {  // h1 keeps refreshing, h2 has died
    clock.advance(3s);
    ASSERT_TRUE(h1->refresh_lease());
  }
  store.tick();
  EXPECT_FALSE(store.get(keys::host("h2")));
  EXPECT_TRUE(store.get(keys::host("h1")));
  EXPECT_TRUE(h1->endpoints(network.id).empty());
  EXPECT_EQ(h1->allocate_address(network.id, "e-new"), Ipv4::parse("10.10.0.2"));
  EXPECT_FALSE(h2->refresh_lease());
  EXPECT_TRUE(h2->lease_lost());
}

TEST_F(RegistryTest, ResumingALiveLeaseKeepsTheHostsRecords) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  connect(*h1, network, "e1");
  LeaseId previous = h1->lease();
  h1.reset();  // SIGKILL: nothing revoked
  RegistryOptions options{HostRecord{"h1", Ipv4::parse("192.0.2.1"), {}}, 10s, false};
  ClusterRegistry restarted(store, options);
  restarted.register_host(previous);
  EXPECT_EQ(restarted.lease(), previous);
  EXPECT_EQ(restarted.endpoints(network.id).size(), 1u);
  // A stale lease (expired meanwhile) means a fresh registration.
  ClusterRegistry other(store, RegistryOptions{HostRecord{"h9", Ipv4::parse("192.0.2.9"), {}}});
  other.register_host(LeaseId{12345});
  EXPECT_NE(other.lease(), 12345);
}

TEST_F(RegistryTest, NetworksGetTheLowestFreeVniFrom4096OrTheRequestedOne) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  EXPECT_EQ(h1->create_network(overlay("a", "10.1.0.0/24")).vni, 4096u);
  auto b =
      h2->create_network(overlay("b", "10.2.0.0/24", {{std::string(kVxlanIdListOption), "4097"}}));
  EXPECT_EQ(b.vni, 4097u);
  EXPECT_EQ(b.created_by, "h2");
  EXPECT_EQ(b.gateway, Ipv4::parse("10.2.0.1"));
  EXPECT_EQ(h1->create_network(overlay("c", "10.3.0.0/24")).vni, 4098u);
  EXPECT_USER_ERROR(
      h1->create_network(overlay("d", "10.4.0.0/24", {{std::string(kVxlanIdListOption), "4097"}})),
      "VXLAN ID 4097 is already in use by network b");
  EXPECT_USER_ERROR(h1->create_network(overlay("d", "10.4.0.0/24",
                                               {{std::string(kVxlanIdListOption), "4097,4098"}})),
                    "expected one VXLAN ID");
  EXPECT_USER_ERROR(h1->create_network(overlay("d", "10.4.0.0/24",
                                               {{std::string(kVxlanIdListOption), "16777216"}})),
                    "expected one VXLAN ID 1..16777215");
  EXPECT_EQ(h2->networks().size(), 3u);
  EXPECT_EQ(h2->find_network("b")->id, b.id);
  EXPECT_EQ(h2->find_network(b.id)->name, "b");
}

TEST_F(RegistryTest, NamesAndSubnetsAreCheckedAcrossTheCluster) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  h1->create_network(overlay("ov", "10.10.0.0/16"));
  EXPECT_USER_ERROR(h2->create_network(overlay("ov", "10.11.0.0/16")),
                    "network with name ov already exists");
  EXPECT_USER_ERROR(h2->create_network(overlay("ov2", "10.10.5.0/24")),
                    "Pool overlaps with other one on this address space: 10.10.5.0/24 overlaps "
                    "overlay network ov (10.10.0.0/16)");
  EXPECT_USER_ERROR(
      h2->create_network(overlay("ov2", "172.17.0.0/16"), {Cidr::parse("172.17.0.0/16")}),
      "overlaps a local network of host h2 (172.17.0.0/16)");
  h1->set_local_subnets({Cidr::parse("172.18.0.0/16")});
  EXPECT_USER_ERROR(h2->create_network(overlay("ov2", "172.18.1.0/24")),
                    "overlaps a local network of host h1 (172.18.0.0/16)");
  EXPECT_USER_ERROR(h2->create_network(overlay("ov2", "10.20.0.1/24")), "invalid");
  auto bad_gateway = overlay("ov2", "10.20.0.0/24");
  bad_gateway.gateway = Ipv4::parse("10.21.0.1");
  EXPECT_USER_ERROR(h2->create_network(bad_gateway), "invalid gateway 10.21.0.1");
  EXPECT_EQ(h2->networks().size(), 1u) << "refused creates change nothing";
}

TEST_F(RegistryTest, RemoveIsRefusedWhileAnyHostHasEndpoints) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  auto e = connect(*h2, network, "e1");
  EXPECT_USER_ERROR(h1->remove_network(network.id), "error while removing network: network ov id " +
                                                        network.id +
                                                        " has active endpoints (on hosts h2)");
  h2->withdraw_endpoint(network.id, "e1");
  EXPECT_USER_ERROR(h1->remove_network(network.id), "has active endpoints");  // address held
  h2->release_address(network.id, e.ip);
  h1->remove_network(network.id);
  EXPECT_FALSE(store.get(keys::network(network.id)));
  EXPECT_FALSE(store.get(keys::vni(network.vni)));
  EXPECT_USER_ERROR(h1->remove_network(network.id), "not found");
  // Its VNI is free again.
  EXPECT_EQ(h1->create_network(overlay("again", "10.10.0.0/24")).vni, network.vni);
}

TEST_F(RegistryTest, AddressesSkipGatewayAndHonourRangeAndWanted) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto request = overlay("ov", "10.10.0.0/24");
  request.ip_range = Cidr::parse("10.10.0.0/30");
  auto network = h1->create_network(request);
  EXPECT_EQ(h1->allocate_address(network.id, "a"), Ipv4::parse("10.10.0.2"));
  EXPECT_EQ(h2->allocate_address(network.id, "b"), Ipv4::parse("10.10.0.3"));
  EXPECT_USER_ERROR(h2->allocate_address(network.id, "c"),
                    "no available IPv4 addresses on this network's address pools: ov");
  EXPECT_EQ(h2->allocate_address(network.id, "w", Ipv4::parse("10.10.0.77")),
            Ipv4::parse("10.10.0.77"));
  EXPECT_USER_ERROR(h1->allocate_address(network.id, "x", Ipv4::parse("10.10.0.77")),
                    "Address already in use: 10.10.0.77 is used by host h2");
  EXPECT_USER_ERROR(h1->allocate_address(network.id, "x", Ipv4::parse("10.10.0.1")),
                    "Invalid address 10.10.0.1");
  EXPECT_USER_ERROR(h1->allocate_address(network.id, "x", Ipv4::parse("10.99.0.5")),
                    "does not belong");
  // Releasing someone else's address does nothing; one's own frees it.
  h1->release_address(network.id, Ipv4::parse("10.10.0.3"));
  EXPECT_USER_ERROR(h1->allocate_address(network.id, "c"), "no available");
  h2->release_address(network.id, Ipv4::parse("10.10.0.3"));
  EXPECT_EQ(h1->allocate_address(network.id, "c"), Ipv4::parse("10.10.0.3"));
  EXPECT_USER_ERROR(h1->allocate_address("f00", "x"), "network f00 not found");
}

TEST_F(RegistryTest, AutomaticAddressesComeFromTheViewAndTheTransactionArbitrates) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  // Candidates as a view has them, here one that lags: it offers 10.10.0.2
  // though h2 took it meanwhile.
  auto offering = [&](std::vector<const char*> offer, std::vector<std::vector<Ipv4>>* asked) {
    return [&network, offer, asked](const std::string& network_id, const Cidr&,
                                    const std::function<bool(Ipv4)>& skip,
                                    size_t count) -> std::optional<std::vector<Ipv4>> {
      EXPECT_EQ(network_id, network.id);
      std::vector<Ipv4> out;
      for (const char* ip : offer)
        if (out.size() < count && !skip(Ipv4::parse(ip))) out.push_back(Ipv4::parse(ip));
      if (asked) asked->push_back(out);
      return out;
    };
  };
  std::vector<std::vector<Ipv4>> asked;
  h1->set_free_addresses(offering({"10.10.0.2", "10.10.0.3"}, &asked));
  EXPECT_EQ(h2->allocate_address(network.id, "b"), Ipv4::parse("10.10.0.2"));
  // The lost race teaches it .2 is held: the next candidates skip it.
  EXPECT_EQ(h1->allocate_address(network.id, "a"), Ipv4::parse("10.10.0.3"));
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0], std::vector<Ipv4>{Ipv4::parse("10.10.0.2")});
  EXPECT_EQ(asked[1], std::vector<Ipv4>{Ipv4::parse("10.10.0.3")});
  // The view's pick is taken (no read of the store's addresses, whose
  // lowest free one is .4), and the host's own (.3) are never offered.
  asked.clear();
  h1->set_free_addresses(offering({"10.10.0.3", "10.10.0.9"}, &asked));
  EXPECT_EQ(h1->allocate_address(network.id, "c"), Ipv4::parse("10.10.0.9"));
  ASSERT_EQ(asked.size(), 1u);
  // A view that cannot say: the store is read.
  h1->set_free_addresses([](const std::string&, const Cidr&, const std::function<bool(Ipv4)>&,
                            size_t) { return std::optional<std::vector<Ipv4>>{}; });
  EXPECT_EQ(h1->allocate_address(network.id, "d"), Ipv4::parse("10.10.0.4"));
}

TEST_F(RegistryTest, EndpointsNeedAnAddressOfTheirOwnHost) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  Ipv4 ip = h1->allocate_address(network.id, "e1");
  EXPECT_USER_ERROR(h2->publish_endpoint(testing::endpoint_record(network, "e1", ip)),
                    "is not allocated to host h2");
  h1->publish_endpoint(testing::endpoint_record(network, "e1", ip));
  auto published = h2->endpoints(network.id);
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].host, "h1");
  EXPECT_EQ(published[0].mac, core::mac_for_ip(ip));
  h2->withdraw_endpoint(network.id, "e1");  // not h2's: left alone
  EXPECT_EQ(h1->endpoints(network.id).size(), 1u);
  h1->withdraw_endpoint(network.id, "e1");
  EXPECT_TRUE(h1->endpoints(network.id).empty());
}

// A host joining with its endpoints (bpfnetd restarted on its state)
// publishes them 64 to a transaction, not two round trips each; an address
// another host took meanwhile is refused alone, the rest of its batch goes
// one by one.
TEST_F(RegistryTest, RepublishIsBatchedAndRefusesOnlyTakenAddresses) {
  auto h1 = make_host(store, "h1", "192.0.2.1");
  auto h2 = make_host(store, "h2", "192.0.2.2");
  auto network = h1->create_network(overlay("ov", "10.10.0.0/16"));
  std::vector<EndpointRecord> records;
  for (uint32_t i = 0; i < 150; ++i)
    records.push_back(testing::endpoint_record(network, fmt::format("e{}", i),
                                               Ipv4{Ipv4::parse("10.10.1.0").value + i}));
  const int64_t before = store.range_prefix(keys::kRoot).revision;
  EXPECT_TRUE(h1->republish(records).empty());
  EXPECT_EQ(store.range_prefix(keys::kRoot).revision - before, 3)
      << "150 endpoints: 3 transactions";
  EXPECT_EQ(h2->endpoints(network.id).size(), 150u);
  EXPECT_EQ(store.range_prefix(keys::addresses_prefix(network.id)).kvs.size(), 150u);
  for (const auto& e : h2->endpoints(network.id)) EXPECT_EQ(e.host, "h1");

  // h1 stops (its records go); h2 takes one of its addresses meanwhile.
  h1->stop();
  auto h1b = make_host(store, "h1", "192.0.2.1");
  h2->allocate_address(network.id, "thief", records[70].ip);
  auto refused = h1b->republish(records);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].first.endpoint_id, "e70");
  EXPECT_NE(refused[0].second.find("already in use"), std::string::npos) << refused[0].second;
  EXPECT_EQ(h2->endpoints(network.id).size(), 149u);
}

TEST_F(RegistryTest, ConcurrentConnectsFromThreeHostsGetDistinctAddresses) {
  std::vector<std::unique_ptr<ClusterRegistry>> hosts;
  for (int h = 0; h < 3; ++h) {
    hosts.push_back(make_host(store, fmt::format("h{}", h), fmt::format("192.0.2.{}", h + 1)));
  }
  auto network = hosts[0]->create_network(overlay("ov", "10.10.0.0/24"));
  std::mutex mutex;
  std::vector<Ipv4> addresses;
  std::vector<std::thread> threads;
  for (int h = 0; h < 3; ++h) {
    for (int c = 0; c < 30; ++c) {
      threads.emplace_back([&, h, c] {
        auto endpoint = connect(*hosts[h], network, fmt::format("e{}-{}", h, c));
        std::lock_guard lock(mutex);
        addresses.push_back(endpoint.ip);
      });
    }
  }
  for (auto& thread : threads) thread.join();
  std::set<Ipv4> distinct(addresses.begin(), addresses.end());
  EXPECT_EQ(addresses.size(), 90u);
  EXPECT_EQ(distinct.size(), 90u);
  EXPECT_EQ(*distinct.begin(), Ipv4::parse("10.10.0.2"));
  EXPECT_LE(*distinct.rbegin(), Ipv4::parse("10.10.0.254"));
  EXPECT_EQ(hosts[1]->endpoints(network.id).size(), 90u);
}

TEST_F(RegistryTest, RenewAfterALostLeaseRepublishesWhatIsStillFree) {
  auto h1 = make_host(store, "h1", "192.0.2.1", 10s);
  auto h2 = make_host(store, "h2", "192.0.2.2", 10s);
  auto network = h1->create_network(overlay("ov", "10.10.0.0/24"));
  auto kept = connect(*h1, network, "kept");  // 10.10.0.2
  auto lost = connect(*h1, network, "lost");  // 10.10.0.3
  clock.advance(11s);  // cut off from the store longer than the TTL: both leases go
  store.tick();
  EXPECT_FALSE(h1->refresh_lease());
  h2 = make_host(store, "h2", "192.0.2.2", 10s);  // h2's lease went too
  connect(*h2, network, "x");                     // takes 10.10.0.2
  auto gone = h1->renew();
  EXPECT_FALSE(h1->lease_lost());
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].endpoint_id, "kept") << "10.10.0.2 was taken meanwhile";
  auto endpoints = h1->endpoints(network.id);
  EXPECT_EQ(endpoints.size(), 2u);  // h2's x and h1's lost
  EXPECT_TRUE(store.get(keys::host("h1")));
  (void)kept;
  (void)lost;
}

TEST_F(RegistryTest, ChecksAndBackendHealthAreTheHostsOwnAndComeBackWithARenewedLease) {
  auto h1 = make_host(store, "h1", "192.0.2.1", 10s);
  auto h2 = make_host(store, "h2", "192.0.2.2", 10s);
  const CheckRecord check{"web", "", "n1", "e2", "h2", 80, core::HealthCheck{}};
  h1->publish_check("s1", check);
  h2->publish_backend_health("s1", "e2", BackendHealthRecord{"", false, "refused"});
  auto stored = store.get(keys::check("s1", "e2"));
  ASSERT_TRUE(stored);
  EXPECT_EQ(check_from_json("k", stored->value).service_host, "h1") << "written as h1's";
  EXPECT_EQ(backend_health_from_json("k", store.get(keys::backend("s1", "e2"))->value).host, "h2");
  // Only the writer withdraws its record.
  h2->withdraw_check("s1", "e2");
  EXPECT_TRUE(store.get(keys::check("s1", "e2")));
  // Both cut off longer than the TTL: the records go with the leases, and
  // come back when each host renews.
  clock.advance(11s);
  store.tick();
  EXPECT_FALSE(store.get(keys::check("s1", "e2")));
  EXPECT_FALSE(store.get(keys::backend("s1", "e2")));
  EXPECT_FALSE(h1->refresh_lease());
  EXPECT_FALSE(h2->refresh_lease());
  h1->renew();
  h2->renew();
  EXPECT_TRUE(store.get(keys::check("s1", "e2")));
  EXPECT_TRUE(store.get(keys::backend("s1", "e2")));
  h2->withdraw_backend_health("s1", "e2");
  EXPECT_FALSE(store.get(keys::backend("s1", "e2")));
  // Withdrawn, it is not renewed again.
  clock.advance(11s);
  store.tick();
  EXPECT_FALSE(h2->refresh_lease());
  h2->renew();
  EXPECT_FALSE(store.get(keys::backend("s1", "e2")));
}

// Services of the cluster (routing mesh): one name in the cluster, taken
// with its VIP in one transaction, under no lease (they outlive their host);
// backend changes from two hosts both land.
TEST_F(RegistryTest, ServicesAreTheClustersOutliveTheirHostAndMergeChanges) {
  auto h1 = make_host(store, "h1", "192.0.2.1", 10s);
  auto h2 = make_host(store, "h2", "192.0.2.2", 10s);
  const NetworkRecord ov = h1->create_network(overlay("ov", "10.10.0.0/24"));
  ServiceRecord web{"h1", core::Service{}};
  web.service.id = std::string(64, 'a');
  web.service.name = "web";
  web.service.network_id = ov.id;
  web.service.vip = Ipv4::parse("10.10.0.9");
  web.service.ports = {{core::Proto::kTcp, 80}};
  web.service.global = true;
  h1->create_service(web);
  EXPECT_EQ(service_from_json("k", store.get(keys::service("web"))->value), web);
  EXPECT_EQ(address_from_json("k", store.get(keys::address(ov.id, web.service.vip))->value),
            (AddressRecord{"h1", "service web"}));
  ServiceRecord again = web;
  again.created_by = "h2";
  again.service.vip = Ipv4::parse("10.10.0.10");
  EXPECT_USER_ERROR(h2->create_service(again),
                    "service with name web already exists in the cluster (created on host h1)");
  ServiceRecord api = web;
  api.service.name = "api";
  EXPECT_USER_ERROR(h2->create_service(api),
                    "Address already in use: 10.10.0.9 is used by host h1");
  EXPECT_FALSE(store.get(keys::service("api"))) << "a refused create wrote its record";
  // Two hosts' backend changes: both land.
  h1->update_service("web", web.service.id, [](ServiceRecord& r) {
    r.service.backends.push_back(core::ServiceBackend{"b1@h1", 1, 1});
  });
  h2->update_service("web", web.service.id, [](ServiceRecord& r) {
    r.service.backends.push_back(core::ServiceBackend{"b2@h2", 7, 1});
  });
  EXPECT_EQ(service_from_json("k", store.get(keys::service("web"))->value).service.backends.size(),
            2u);
  // h1 dies: web and its VIP stay.
  clock.advance(11s);
  store.tick();
  EXPECT_TRUE(store.get(keys::service("web")));
  EXPECT_TRUE(store.get(keys::address(ov.id, web.service.vip)));
  // Removed from another host: record and VIP go together; a stale ID is
  // not removed, and a gone service is no longer updated.
  EXPECT_FALSE(h2->remove_service("web", std::string(64, 'b')));
  EXPECT_TRUE(h2->remove_service("web", web.service.id));
  EXPECT_FALSE(store.get(keys::service("web")));
  EXPECT_FALSE(store.get(keys::address(ov.id, web.service.vip)));
  EXPECT_USER_ERROR(h2->update_service("web", web.service.id, [](ServiceRecord&) {}),
                    "service web is no longer in the cluster");
}

}  // namespace
}  // namespace bpfnet::store
