// An in-memory Store with etcd's semantics (one revision per write or
// transaction, leases, watches from any retained revision, compaction), for
// unit tests and for simulating many hosts in one process.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace bpfnet::store {

// A clock tests move by hand, so lease expiry needs no sleeping.
class ManualClock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  time_point now() const;
  void advance(std::chrono::milliseconds by);

 private:
  mutable std::mutex mutex_;
  time_point now_{};
};

class FakeStore final : public Store {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // The real steady clock unless a test passes its own (see ManualClock).
  explicit FakeStore(Clock clock = {});
  ~FakeStore() override;

  // Watch events are delivered on the thread that made the change, after
  // the store's lock is released (callbacks may call the store), and for a
  // watch from the past before watch_prefix returns.
  BPFNET_STORE_OVERRIDES

  // Test controls.
  // Expires the leases whose time has come (every call does this first too).
  void tick();
  // While false, every call throws StoreUnavailable("fake store is down").
  void set_available(bool available);
  // Forgets the history before `revision`: watches that still need it get
  // kCompacted, as etcd's do.
  void compact(int64_t revision);
  // While held, no events are delivered (watchers fall behind, as a slow
  // etcd client would); releasing delivers what is pending.
  void hold_events(bool hold);
  int64_t revision() const;
  size_t lease_count() const;

 private:
  struct Lease {
    std::chrono::seconds ttl{};
    std::chrono::steady_clock::time_point expires;
    std::set<std::string> keys;
  };
  struct Watcher;
  class FakeWatch;

  void check_available_locked() const;
  void expire_leases_locked();
  void put_locked(const std::string& key, const std::string& value, LeaseId lease);
  void erase_locked(const std::string& key);
  bool holds_locked(const Compare& compare) const;
  // Hands every watcher the events it has not seen yet, outside mutex_.
  void deliver();
  std::chrono::steady_clock::time_point now() const;

  Clock clock_;
  mutable std::mutex mutex_;
  bool available_ = true;
  bool holding_events_ = false;
  int64_t revision_ = 1;  // etcd's first revision; the first write makes it 2
  int64_t compacted_ = 0;
  std::map<std::string, KeyValue> kvs_;
  std::map<LeaseId, Lease> leases_;
  LeaseId next_lease_ = 0x7e57000000000001;
  std::vector<WatchEvent> history_;  // by revision
  std::vector<std::shared_ptr<Watcher>> watchers_;
  // Serialises deliveries so each watcher sees events in order; recursive
  // because a callback may stop its own watch.
  std::recursive_mutex delivery_mutex_;
};

}  // namespace bpfnet::store
