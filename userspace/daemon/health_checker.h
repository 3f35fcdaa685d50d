// Health checks of service backends, run from the daemon's namespace into
// the containers' addresses: TCP connect, or HTTP GET with an expected
// status. Checks run on a thread of their own so a slow backend never
// stalls the control socket; results are collected by the main loop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/health.h"

namespace bpfnet::daemon {

struct HealthTarget {
  uint32_t backend_id = 0;
  uint32_t ip = 0;  // host order
  uint16_t port = 0;
  bool http = false;
  std::string path = "/";
  int expect = 200;
  uint32_t interval_ms = 2000;
  uint32_t timeout_ms = 1000;
  bool operator==(const HealthTarget&) const = default;
};

// The target of a backend at `ip` (host order) probed as `check` says.
HealthTarget health_target(uint32_t id, uint32_t ip, uint16_t port, const core::HealthCheck& check);

struct HealthResult {
  uint32_t backend_id = 0;
  bool ok = false;
  std::string error;  // why it failed, for `service inspect`
};

// One probe, blocking up to target.timeout_ms. Exposed for tests.
HealthResult probe(const HealthTarget& target);

class HealthChecker {
 public:
  HealthChecker();
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the set of targets; a target keeps its schedule if unchanged.
  void set_targets(std::vector<HealthTarget> targets);
  // Results since the last call.
  std::vector<HealthResult> take_results();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<uint32_t, HealthTarget> targets_;
  std::map<uint32_t, int64_t> due_ms_;  // steady clock
  std::vector<HealthResult> results_;
  std::thread thread_;
};

}  // namespace bpfnet::daemon
