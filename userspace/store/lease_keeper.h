// Keeps a lease alive from a thread of its own.
#pragma once

#include <chrono>
#include <functional>

#include "store/stoppable_thread.h"
#include "store/store.h"

namespace bpfnet::store {

class LeaseKeeper {
 public:
  // Refreshes `lease` every ttl/3. While the store is unavailable it retries
  // every `retry` (the lease outlives a short outage: etcd counts its TTL
  // from the last refresh the leader saw, and a new leader grants a full TTL
  // again). When the store answers that the lease is gone, calls `on_lost`
  // once, from the keeper's thread, and stops.
  LeaseKeeper(Store& store, LeaseId lease, std::chrono::seconds ttl, std::function<void()> on_lost,
              std::chrono::milliseconds retry = std::chrono::milliseconds(500));
  // Stops refreshing; does not revoke (a dead process must look the same to
  // the others as one that stops refreshing).
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  LeaseId lease() const { return lease_; }

 private:
  void run();

  Store& store_;
  const LeaseId lease_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds retry_;
  std::function<void()> on_lost_;
  StoppableThread thread_;
};

}  // namespace bpfnet::store
