// The real-etcd tests' fixture: the cluster started by etcd_tests.sh
// (ETCD_ENDPOINTS, ETCD_CLUSTER_DIR) and its controls (scripts/etcd_cluster.sh,
// path in ETCD_CLUSTER).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "store/etcd_store.h"
#include "store/store_url.h"

namespace bpfnet::store::testing {

inline std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("ETCD_ENDPOINTS").empty()) GTEST_SKIP() << "run through etcd_tests.sh";
    // Every test starts on a healthy, empty cluster, whatever the last one did.
    cluster("start-all");
    cluster("wipe");
  }

  // Runs `etcd_cluster.sh DIR ARGS`; fails the test on a non-zero exit.
  static void cluster(const std::string& args) {
    std::string command =
        "bash '" + env("ETCD_CLUSTER") + "' '" + env("ETCD_CLUSTER_DIR") + "' " + args + " >&2";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  static EtcdOptions options() {
    EtcdOptions options;
    options.endpoints = parse_store_url(env("ETCD_ENDPOINTS"));
    return options;
  }
};

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// "p50 1.2 ms, p99 3.4 ms, max 5.6 ms over N" for the report.
inline std::string percentiles(std::vector<double> samples) {
  if (samples.empty()) return "no samples";
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<size_t>(q * (samples.size() - 1))]; };
  char text[160];
  std::snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, max %.1f ms over %zu", at(0.5),
                at(0.99), samples.back(), samples.size());
  return text;
}

}  // namespace bpfnet::store::testing
