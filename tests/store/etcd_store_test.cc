// EtcdStore against the real 3-member cluster: the Store contract, lease
// expiry, compaction, failover and a full outage.
#include "store/etcd_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "etcd_test_env.h"
#include "store_test_support.h"

namespace bpfnet::store {
namespace {

using namespace std::chrono_literals;
using testing::EtcdTest;
using testing::EventCollector;
using testing::ms_since;

TEST_F(EtcdTest, ContractGetPutRange) {
  EtcdStore store(options());
  testing::check_get_put_range(store, "/contract/");
}

TEST_F(EtcdTest, ContractTransactions) {
  EtcdStore store(options());
  testing::check_transactions(store, "/contract/");
}

TEST_F(EtcdTest, ContractLeaseRevoke) {
  EtcdStore store(options());
  testing::check_lease_revoke(store, "/contract/");
}

TEST_F(EtcdTest, ContractWatch) {
  EtcdStore store(options());
  testing::check_watch(store, "/contract/");
}

TEST_F(EtcdTest, KeysOfAnExpiredLeaseVanishWithinTtlPlusOneSecond) {
  EtcdStore store(options());
  EventCollector events;
  auto watch = store.watch_prefix("/lease/", 0, events.callback());
  LeaseId lease = store.grant_lease(2s);
  store.put("/lease/a", "1", lease);
  auto start = testing::Clock::now();
  auto seen = events.wait_for(2, 4000ms);
  double waited = ms_since(start);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].type, WatchEvent::Type::kDelete);
  EXPECT_LE(waited, 3000.0);
  EXPECT_GE(waited, 1500.0);
  std::printf("[timing] lease of 2 s expired after %.0f ms\n", waited);
}

TEST_F(EtcdTest, AWatchFromACompactedRevisionSaysSo) {
  EtcdStore store(options());
  int64_t first = store.put("/compact/a", "1");
  int64_t second = store.put("/compact/a", "2");
  store.compact(second);
  EventCollector events;
  auto watch = store.watch_prefix("/compact/", first, events.callback());
  auto seen = events.wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, WatchEvent::Type::kCompacted);
  EXPECT_EQ(seen[0].revision, second);
}

TEST_F(EtcdTest, OneMemberDownChangesNothing) {
  EtcdStore store(options());
  EventCollector events;
  auto watch = store.watch_prefix("/failover/", 0, events.callback());
  store.put("/failover/1", "a");
  ASSERT_EQ(events.wait_for(1).size(), 1u);
  // Member 1 is the one tried first, and the one the watch streams from.
  cluster("kill 1");
  auto start = testing::Clock::now();
  store.put("/failover/2", "b");
  std::printf("[timing] first write after killing member 1: %.0f ms\n", ms_since(start));
  EXPECT_EQ(store.get("/failover/2")->value, "b");
  LeaseId lease = store.grant_lease(10s);
  EXPECT_TRUE(store.keep_alive(lease));
  auto seen = events.wait_for(2);
  ASSERT_EQ(seen.size(), 2u) << "the watch moved to another member without losing an event";
  EXPECT_EQ(seen[1].key, "/failover/2");
  cluster("start 1");
}

TEST_F(EtcdTest, AllMembersDownFailsFastThenRecovers) {
  EtcdStore store(options());
  EventCollector events;
  auto watch = store.watch_prefix("/outage/", 0, events.callback());
  store.put("/outage/before", "x");
  ASSERT_EQ(events.wait_for(1).size(), 1u);
  cluster("stop-all");
  auto start = testing::Clock::now();
  try {
    store.put("/outage/during", "y");
    FAIL() << "a write with every member down succeeded";
  } catch (const StoreUnavailable& e) {
    double waited = ms_since(start);
    std::printf("[timing] all members down: refused after %.0f ms: %s\n", waited, e.what());
    EXPECT_EQ(std::string(e.what()).rfind("store unavailable: ", 0), 0u);
    EXPECT_LE(waited, 5000.0);
  }
  EXPECT_THROW(store.range_prefix("/outage/"), StoreUnavailable);
  cluster("start-all");
  start = testing::Clock::now();
  // The client finds the members again on its own (reconnect backoff <= 1 s).
  bool written = false;
  while (!written && ms_since(start) < 10000) {
    try {
      store.put("/outage/after", "z");
      written = true;
    } catch (const StoreUnavailable&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(written);
  std::printf("[timing] first write after the cluster came back: %.0f ms\n", ms_since(start));
  auto seen = events.wait_for(2, 10000ms);
  ASSERT_EQ(seen.size(), 2u) << "the watch resumed after the outage";
  EXPECT_EQ(seen[1].key, "/outage/after");
}

}  // namespace
}  // namespace bpfnet::store
