#include <gtest/gtest.h>

#include "store_test_support.h"

namespace bpfnet::store::testing {

void check_get_put_range(Store& store, const std::string& prefix) {
  EXPECT_FALSE(store.get(prefix + "a"));
  int64_t first = store.put(prefix + "b", "2");
  int64_t second = store.put(prefix + "a", "1");
  EXPECT_GT(second, first);
  store.put(prefix + "a/x", "3");
  store.put(prefix.substr(0, prefix.size() - 1) + "0", "outside");  // sorts after the prefix

  auto a = store.get(prefix + "a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, "1");
  EXPECT_EQ(a->create_revision, second);
  EXPECT_EQ(a->mod_revision, second);
  EXPECT_EQ(a->lease, 0);

  RangeResult all = store.range_prefix(prefix);
  ASSERT_EQ(all.kvs.size(), 3u);
  EXPECT_EQ(all.kvs[0].key, prefix + "a");
  EXPECT_EQ(all.kvs[1].key, prefix + "a/x");
  EXPECT_EQ(all.kvs[2].key, prefix + "b");
  EXPECT_GE(all.revision, second + 2);

  int64_t third = store.put(prefix + "a", "changed");
  a = store.get(prefix + "a");
  EXPECT_EQ(a->create_revision, second);
  EXPECT_EQ(a->mod_revision, third);

  EXPECT_TRUE(store.erase(prefix + "a"));
  EXPECT_FALSE(store.erase(prefix + "a"));
  EXPECT_FALSE(store.get(prefix + "a"));
  EXPECT_EQ(store.range_prefix(prefix).kvs.size(), 2u);
}

void check_transactions(Store& store, const std::string& prefix) {
  const std::string key = prefix + "claim";
  EXPECT_EQ(store.create_if_absent(key, "mine"), std::nullopt);
  auto holder = store.create_if_absent(key, "theirs");
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->value, "mine");
  EXPECT_EQ(store.get(key)->value, "mine");

  auto kv = *store.get(key);
  EXPECT_FALSE(store.compare_and_swap(key, kv.mod_revision - 1, "stale"));
  EXPECT_TRUE(store.compare_and_swap(key, kv.mod_revision, "swapped"));
  EXPECT_EQ(store.get(key)->value, "swapped");
  EXPECT_FALSE(store.compare_and_swap(key, 0, "only if absent"));

  // Ranged compares: an empty prefix, then "nothing changed since".
  const std::string folder = prefix + "folder/";
  EXPECT_TRUE(store.commit(Txn{{Compare::prefix_empty(folder)}, {}, {}}).succeeded);
  RangeResult before = store.range_prefix(folder);
  Txn first{{Compare::prefix_unchanged_since(folder, before.revision)},
            {Operation::put(folder + "x", "1"), Operation::put(folder + "y", "2")},
            {}};
  TxnResult done = store.commit(first);
  EXPECT_TRUE(done.succeeded);
  EXPECT_EQ(store.get(folder + "x")->mod_revision, store.get(folder + "y")->mod_revision);
  EXPECT_FALSE(store.commit(Txn{{Compare::prefix_empty(folder)}, {}, {}}).succeeded);
  // The same read revision is stale now.
  TxnResult stale = store.commit(Txn{{Compare::prefix_unchanged_since(folder, before.revision)},
                                     {Operation::put(folder + "z", "3")},
                                     {folder + "x", folder + "nothing"}});
  EXPECT_FALSE(stale.succeeded);
  ASSERT_EQ(stale.failure_reads.size(), 2u);
  ASSERT_TRUE(stale.failure_reads[0]);
  EXPECT_EQ(stale.failure_reads[0]->value, "1");
  EXPECT_FALSE(stale.failure_reads[1]);
  EXPECT_FALSE(store.get(folder + "z"));
  EXPECT_TRUE(store.commit(Txn{{Compare::prefix_unchanged_since(folder, done.revision)}, {}, {}})
                  .succeeded);
}

void check_lease_revoke(Store& store, const std::string& prefix) {
  LeaseId lease = store.grant_lease(std::chrono::seconds(30));
  EXPECT_NE(lease, 0);
  store.put(prefix + "leased/1", "a", lease);
  store.put(prefix + "leased/2", "b", lease);
  store.put(prefix + "kept", "c");
  EXPECT_EQ(store.get(prefix + "leased/1")->lease, lease);
  auto ttl = store.keep_alive(lease);
  ASSERT_TRUE(ttl);
  EXPECT_EQ(*ttl, std::chrono::seconds(30));
  store.revoke_lease(lease);
  EXPECT_TRUE(store.range_prefix(prefix + "leased/").kvs.empty());
  EXPECT_TRUE(store.get(prefix + "kept"));
  EXPECT_FALSE(store.keep_alive(lease));
  store.revoke_lease(lease);  // unknown: not an error
  EXPECT_THROW(store.put(prefix + "late", "x", lease), LeaseNotFound);
  EXPECT_THROW(store.create_if_absent(prefix + "late", "x", lease), LeaseNotFound);
}

void check_watch(Store& store, const std::string& prefix) {
  int64_t start = store.put(prefix + "before", "0");
  EventCollector live;
  auto watch = store.watch_prefix(prefix, 0, live.callback());
  LeaseId lease = store.grant_lease(std::chrono::seconds(30));
  store.put(prefix + "k1", "v1");
  store.put(prefix + "k2", "v2", lease);
  store.put("/elsewhere" + prefix, "not ours");
  store.erase(prefix + "k1");
  store.revoke_lease(lease);

  auto events = live.wait_for(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[0].key, prefix + "k1");
  EXPECT_EQ(events[0].value, "v1");
  EXPECT_EQ(events[1].lease, lease);
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[2].key, prefix + "k1");
  EXPECT_EQ(events[3].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[3].key, prefix + "k2");
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].revision, events[i - 1].revision);

  // From the past: replays from `start`, the same events plus the first put.
  EventCollector replay;
  auto replayed = store.watch_prefix(prefix, start, replay.callback());
  auto again = replay.wait_for(5);
  ASSERT_EQ(again.size(), 5u);
  EXPECT_EQ(again[0].key, prefix + "before");
  EXPECT_EQ(again[4].revision, events[3].revision);

  // A stopped watch hears nothing more.
  watch.reset();
  store.put(prefix + "k3", "v3");
  EXPECT_EQ(replay.wait_for(6).size(), 6u);
  EXPECT_EQ(live.events().size(), 4u);
}

}  // namespace bpfnet::store::testing
