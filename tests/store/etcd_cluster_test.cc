// ClusterRegistry and ClusterView against the real 3-member cluster: three
// "hosts" in this process, each with an EtcdStore (a connection) of its own.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "cluster_test_support.h"
#include "etcd_test_env.h"
#include "store/cluster_view.h"
#include "store/etcd_store.h"
#include "store_test_support.h"

namespace bpfnet::store {
namespace {

using namespace std::chrono_literals;
using core::Ipv4;
using testing::Clock;
using testing::ms_since;

class EtcdClusterTest : public testing::EtcdTest {
 protected:
  struct Host {
    std::unique_ptr<EtcdStore> store;
    std::unique_ptr<ClusterRegistry> registry;
  };
  Host host(const std::string& name, const std::string& underlay, std::chrono::seconds ttl = 10s) {
    Host h;
    h.store = std::make_unique<EtcdStore>(options());
    h.registry = testing::make_host(*h.store, name, underlay, ttl, /*keep_alive_thread=*/true);
    return h;
  }
  // True once `endpoint_id` is reachable in the view (or gone, if !present).
  static bool wait_endpoint(ClusterView& view, const std::string& endpoint_id, bool present,
                            std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      bool found = false;
      for (const auto& [key, remote] : view.endpoints()) {
        found |= remote.endpoint.endpoint_id == endpoint_id;
      }
      if (found == present) return true;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }
};

TEST_F(EtcdClusterTest, ThreeHostsThirtyConcurrentConnectsEachGetNinetyDistinctAddresses) {
  std::vector<Host> hosts;
  for (int h = 0; h < 3; ++h)
    hosts.push_back(host(fmt::format("h{}", h), fmt::format("192.0.2.{}", h + 1)));
  auto network = hosts[0].registry->create_network(testing::overlay("ov", "10.10.0.0/24"));
  std::mutex mutex;
  std::vector<Ipv4> addresses;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int h = 0; h < 3; ++h) {
    for (int c = 0; c < 30; ++c) {
      threads.emplace_back([&, h, c] {
        auto begin = Clock::now();
        auto endpoint = testing::connect(*hosts[h].registry, network, fmt::format("e{}-{}", h, c));
        double took = ms_since(begin);
        std::lock_guard lock(mutex);
        addresses.push_back(endpoint.ip);
        latencies.push_back(took);
      });
    }
  }
  for (auto& thread : threads) thread.join();
  double total = ms_since(start);
  std::set<Ipv4> distinct(addresses.begin(), addresses.end());
  EXPECT_EQ(addresses.size(), 90u);
  EXPECT_EQ(distinct.size(), 90u);
  EXPECT_EQ(hosts[2].registry->endpoints(network.id).size(), 90u);
  std::printf("[timing] 90 concurrent connects (allocate + publish): %.0f ms in all; each %s\n",
              total, testing::percentiles(latencies).c_str());
  // Uncontended, one after another.
  std::vector<double> sequential;
  for (int i = 0; i < 50; ++i) {
    auto begin = Clock::now();
    hosts[0].registry->allocate_address(network.id, fmt::format("s{}", i));
    sequential.push_back(ms_since(begin));
    if (distinct.size() + i + 1 >= 253) break;
  }
  std::printf("[timing] allocation, uncontended: %s\n", testing::percentiles(sequential).c_str());
}

TEST_F(EtcdClusterTest, WatchLatencyFromPublishToAnotherHostsView) {
  auto a = host("a", "192.0.2.1");
  auto b = host("b", "192.0.2.2");
  auto network = a.registry->create_network(testing::overlay("ov", "10.20.0.0/16"));
  std::mutex mutex;
  std::condition_variable seen_cv;
  std::map<std::string, Clock::time_point> seen;
  ClusterView view(*a.store, [&](const ViewChanges& changes) {
    std::lock_guard lock(mutex);
    for (const auto& added : changes.added) seen[added.endpoint.endpoint_id] = Clock::now();
    seen_cv.notify_all();
  });
  view.start();
  std::vector<double> latencies;
  for (int i = 0; i < 100; ++i) {
    std::string id = fmt::format("w{}", i);
    Ipv4 ip = b.registry->allocate_address(network.id, id);
    auto published = Clock::now();
    b.registry->publish_endpoint(testing::endpoint_record(network, id, ip));
    std::unique_lock lock(mutex);
    ASSERT_TRUE(seen_cv.wait_for(lock, 5s, [&] { return seen.contains(id); }));
    latencies.push_back(std::chrono::duration<double, std::milli>(seen[id] - published).count());
  }
  std::printf("[timing] publish on b -> in a's view: %s\n",
              testing::percentiles(latencies).c_str());
  EXPECT_EQ(view.endpoints().size(), 100u);
}

TEST_F(EtcdClusterTest, KillingOneMemberChangesNothing) {
  auto a = host("a", "192.0.2.1");
  auto b = host("b", "192.0.2.2");
  auto network = a.registry->create_network(testing::overlay("ov", "10.30.0.0/24"));
  ClusterView view(*a.store, nullptr);
  view.start();
  testing::connect(*b.registry, network, "before");
  ASSERT_TRUE(wait_endpoint(view, "before", true));
  for (int member : {1, 2}) {
    cluster(fmt::format("kill {}", member));
    std::string id = fmt::format("member{}-down", member);
    auto start = Clock::now();
    testing::connect(*b.registry, network, id);
    EXPECT_TRUE(wait_endpoint(view, id, true)) << id;
    std::printf("[timing] connect + seen with member %d killed: %.0f ms\n", member,
                ms_since(start));
    cluster(fmt::format("start {}", member));
    cluster("wait-healthy");
  }
  EXPECT_EQ(view.endpoints().size(), 3u);
}

TEST_F(EtcdClusterTest, WholeClusterDownRefusesChangesThenEverythingConverges) {
  auto a = host("a", "192.0.2.1");
  auto b = host("b", "192.0.2.2");
  auto network = a.registry->create_network(testing::overlay("ov", "10.40.0.0/24"));
  ClusterView view(*a.store, nullptr);
  view.start();
  testing::connect(*b.registry, network, "before");
  ASSERT_TRUE(wait_endpoint(view, "before", true));
  cluster("stop-all");
  auto start = Clock::now();
  try {
    b.registry->allocate_address(network.id, "during");
    FAIL() << "allocation with the store away succeeded";
  } catch (const StoreUnavailable& e) {
    std::printf("[timing] connect refused after %.0f ms: %s\n", ms_since(start), e.what());
    EXPECT_LE(ms_since(start), 5000.0);
    EXPECT_EQ(std::string(e.what()).rfind("store unavailable: ", 0), 0u);
  }
  EXPECT_EQ(view.endpoints().size(), 1u) << "the local view keeps serving";
  cluster("start-all");
  // The hosts' leases survived (a new leader grants full TTLs again).
  start = Clock::now();
  EndpointRecord after;
  bool connected = false;
  while (!connected && ms_since(start) < 10000) {
    try {
      after = testing::connect(*b.registry, network, "after");
      connected = true;
    } catch (const StoreUnavailable&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(connected);
  EXPECT_TRUE(wait_endpoint(view, "after", true, 10000ms)) << "the view's watch resumed";
  std::printf("[timing] store back: connect + seen in %.0f ms\n", ms_since(start));
  EXPECT_FALSE(a.registry->lease_lost());
  EXPECT_FALSE(b.registry->lease_lost());
  EXPECT_EQ(view.hosts().size(), 2u);
  EXPECT_EQ(view.endpoints().size(), 2u);
}

TEST_F(EtcdClusterTest, AHostWhoseProcessDiesDisappearsWithinTtlPlusOneSecond) {
  auto a = host("a", "192.0.2.1");
  auto network = a.registry->create_network(testing::overlay("ov", "10.50.0.0/24"));
  std::mutex mutex;
  std::condition_variable gone_cv;
  std::optional<Clock::time_point> gone;
  ClusterView view(*a.store, [&](const ViewChanges& changes) {
    std::lock_guard lock(mutex);
    for (const auto& host : changes.hosts_removed) {
      if (host.name == "dying") gone = Clock::now();
    }
    gone_cv.notify_all();
  });
  view.start();
  Ipv4 address;
  {
    auto dying = host("dying", "192.0.2.9", 2s);
    auto endpoint = testing::connect(*dying.registry, network, "doomed");
    address = endpoint.ip;
    ASSERT_TRUE(wait_endpoint(view, "doomed", true));
    std::this_thread::sleep_for(1500ms);  // a few keep-alives went out
  }  // the process "dies": no more keep-alives, nothing revoked
  auto died = Clock::now();
  std::unique_lock lock(mutex);
  ASSERT_TRUE(gone_cv.wait_for(lock, 5s, [&] { return gone.has_value(); }));
  double after = std::chrono::duration<double, std::milli>(*gone - died).count();
  std::printf("[timing] dead host (TTL 2 s) gone from the view after %.0f ms\n", after);
  EXPECT_LE(after, 3000.0);
  lock.unlock();
  EXPECT_TRUE(wait_endpoint(view, "doomed", false, 100ms));
  EXPECT_EQ(a.registry->allocate_address(network.id, "reuse", address), address)
      << "its addresses are free again";
}

}  // namespace
}  // namespace bpfnet::store
