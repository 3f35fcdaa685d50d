#include "store/fake_store.h"

#include <gtest/gtest.h>

#include "store_test_support.h"

namespace bpfnet::store {
namespace {

using namespace std::chrono_literals;
using testing::EventCollector;

TEST(FakeStoreContract, GetPutRange) {
  FakeStore store;
  testing::check_get_put_range(store, "/t/");
}

TEST(FakeStoreContract, Transactions) {
  FakeStore store;
  testing::check_transactions(store, "/t/");
}

TEST(FakeStoreContract, LeaseRevoke) {
  FakeStore store;
  testing::check_lease_revoke(store, "/t/");
}

TEST(FakeStoreContract, Watch) {
  FakeStore store;
  testing::check_watch(store, "/t/");
}

TEST(PrefixRangeEnd, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefix_range_end("/a/"), "/a0");
  EXPECT_EQ(prefix_range_end("ab\xff"), "ac");
  EXPECT_EQ(prefix_range_end("\xff\xff"), std::string(1, '\0'));
}

TEST(FakeStore, LeaseExpiresOnTheInjectedClock) {
  ManualClock clock;
  FakeStore store([&] { return clock.now(); });
  EventCollector events;
  auto watch = store.watch_prefix("/l/", 0, events.callback());
  LeaseId lease = store.grant_lease(10s);
  store.put("/l/a", "1", lease);
  store.put("/l/b", "2", lease);
  clock.advance(9s);
  ASSERT_TRUE(store.keep_alive(lease));  // ten more seconds from now
  clock.advance(9s);
  store.tick();
  EXPECT_TRUE(store.get("/l/a"));
  clock.advance(1s);
  store.tick();
  EXPECT_FALSE(store.get("/l/a"));
  EXPECT_FALSE(store.get("/l/b"));
  EXPECT_FALSE(store.keep_alive(lease));
  EXPECT_EQ(store.lease_count(), 0u);
  auto seen = events.events();
  ASSERT_EQ(seen.size(), 4u);
  // Both keys of the lease go in one revision, as etcd revokes them.
  EXPECT_EQ(seen[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(seen[2].revision, seen[3].revision);
}

TEST(FakeStore, UnavailableStoreThrowsWithTheAgreedWording) {
  FakeStore store;
  store.set_available(false);
  try {
    store.put("/k", "v");
    FAIL() << "no exception";
  } catch (const StoreUnavailable& e) {
    EXPECT_STREQ(e.what(), "store unavailable: fake store is down");
  }
  EXPECT_THROW(store.range_prefix("/"), StoreUnavailable);
  EXPECT_THROW(store.grant_lease(5s), StoreUnavailable);
  store.set_available(true);
  EXPECT_NO_THROW(store.put("/k", "v"));
}

TEST(FakeStore, WatchBehindACompactionGetsCompactedOnce) {
  FakeStore store;
  EventCollector events;
  auto watch = store.watch_prefix("/c/", 0, events.callback());
  store.hold_events(true);
  store.put("/c/1", "a");
  int64_t revision = store.put("/c/2", "b");
  store.compact(revision);
  store.hold_events(false);
  auto seen = events.events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, WatchEvent::Type::kCompacted);
  EXPECT_EQ(seen[0].revision, revision);
  store.put("/c/3", "c");
  EXPECT_EQ(events.events().size(), 1u);
  // A watch from the compaction point on is fine.
  EventCollector later;
  auto again = store.watch_prefix("/c/", revision, later.callback());
  EXPECT_EQ(later.events().size(), 2u);
}

TEST(FakeStore, CallbacksMayWriteAndStopTheirOwnWatch) {
  FakeStore store;
  std::unique_ptr<Watch> watch;
  int calls = 0;
  watch = store.watch_prefix("/w/", 0, [&](const std::vector<WatchEvent>& events) {
    ++calls;
    if (events.front().key == "/w/1") store.put("/w/2", "from the callback");
    if (events.front().key == "/w/2") watch.reset();
  });
  store.put("/w/1", "x");
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(watch);
  store.put("/w/3", "y");
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace bpfnet::store
