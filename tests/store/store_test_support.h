// Helpers shared by the FakeStore and the real-etcd tests: an event
// collector for watches (EtcdStore delivers from its own thread) and the
// Store contract, run against both stores.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "store/cluster_view.h"
#include "store/store.h"

namespace bpfnet::store::testing {

using namespace std::chrono_literals;

class EventCollector {
 public:
  WatchCallback callback() {
    return [this](const std::vector<WatchEvent>& events) {
      std::lock_guard lock(mutex_);
      for (const auto& event : events) events_.push_back(event);
      changed_.notify_all();
    };
  }
  // Waits until at least `count` events arrived; returns them all.
  std::vector<WatchEvent> wait_for(size_t count, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return events_.size() >= count; });
    return events_;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<WatchEvent> events_;
};

// Collects a ClusterView's changes, for waiting on them.
class ViewChangeLog {
 public:
  ClusterView::Listener listener() {
    return [this](const ViewChanges& changes) {
      std::lock_guard lock(mutex_);
      log_.push_back(changes);
      changed_.notify_all();
    };
  }
  template <typename Predicate>
  bool wait_until(Predicate&& done, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(log_); });
  }
  std::vector<ViewChanges> log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ViewChanges> log_;
};

// The contract every Store keeps; `prefix` isolates a test's keys.
void check_get_put_range(Store& store, const std::string& prefix);
void check_transactions(Store& store, const std::string& prefix);
void check_lease_revoke(Store& store, const std::string& prefix);
void check_watch(Store& store, const std::string& prefix);

}  // namespace bpfnet::store::testing
