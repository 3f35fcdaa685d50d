// What bench/cluster_sim measures: when each connected endpoint reached
// every other host's tunnel map, the watch events one host receives, and
// what the cluster keeps in etcd.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster_sim/sim_host.h"

namespace bpfnet::bench {

double secs(SimClock::time_point since);

template <typename... A>
void log(fmt::format_string<A...> f, A&&... args) {
  fmt::print(stderr, "[cluster_sim] {}\n", fmt::format(f, std::forward<A>(args)...));
}

class Convergence {
 public:
  // Every host but `joiner` is followed until include_joiner().
  Convergence(const std::vector<std::unique_ptr<SimHost>>& hosts, int joiner);

  // An endpoint of host `owner` at `ip`: its connect started at `t0` and
  // returned at `returned`. Thread-safe (the rest is the driver's only).
  void connected(uint32_t ip, int owner, SimClock::time_point t0, SimClock::time_point returned);
  // Until every followed host but its owner has every endpoint since the
  // last clear() in its tunnel map; false (logged) after `timeout_s`.
  bool wait_all(int timeout_s);
  // Until `host` has `n` tunnel entries.
  bool wait_count(SimHost& host, size_t n, int timeout_s);
  // Latencies (connect start -> the last other host's tunnel write), ms:
  // p50, p90, p99, max; the connect calls' own time; and from `start` until
  // the last write.
  nlohmann::json summary(SimClock::time_point start) const;
  // The joiner's endpoints everywhere (others_s) and everyone's on it
  // (self_s), from `start`.
  nlohmann::json join_summary(SimClock::time_point start, SimHost& joiner, size_t others) const;
  void clear() { probes_.clear(), swept_ = 0; }
  void include_joiner() { joiner_ = -1; }
  // Endpoints connected so far on hosts other than `host`.
  size_t expected_remote(int host) const;

 private:
  struct Probe {
    uint32_t ip;
    int owner;
    SimClock::time_point t0, returned;
  };
  // The last other host's write of `p`, or none while one lacks it.
  std::optional<SimClock::time_point> everywhere(const Probe& p) const;

  const std::vector<std::unique_ptr<SimHost>>& hosts_;
  int joiner_;
  std::mutex mutex_;  // connected() comes from the fill's threads
  std::vector<Probe> probes_;
  size_t swept_ = 0;
  std::map<int, size_t> per_host_;  // endpoints ever connected, by owner
};

// A watch on the whole cluster prefix from now on (a store client of its
// own), counting the events a host's view receives.
class EventCounter {
 public:
  explicit EventCounter(const std::string& store);
  size_t count() const { return count_; }

 private:
  std::unique_ptr<store::Store> store_;
  std::atomic<size_t> count_{0};
  std::unique_ptr<store::Watch> watch_;
};

struct KeyStats {
  size_t count = 0;
  size_t bytes = 0;  // keys and values
  std::map<std::string, size_t> by_kind;
};
KeyStats key_stats(const std::string& store);

}  // namespace bpfnet::bench
