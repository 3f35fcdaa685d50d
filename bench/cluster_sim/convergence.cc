#include "cluster_sim/convergence.h"

#include <algorithm>
#include <thread>

#include "store/cluster_keys.h"
#include "store/etcd_store.h"

namespace bpfnet::bench {

namespace {

double ms_between(SimClock::time_point a, SimClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The q-quantile (nearest rank) of `v`, sorted here.
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(q * double(v.size()) + 0.999999);
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

nlohmann::json distribution(const std::vector<double>& v) {
  return {{"n", v.size()},
          {"p50", quantile(v, 0.5)},
          {"p90", quantile(v, 0.9)},
          {"p99", quantile(v, 0.99)},
          {"max", quantile(v, 1.0)}};
}

}  // namespace

double secs(SimClock::time_point since) {
  return std::chrono::duration<double>(SimClock::now() - since).count();
}

Convergence::Convergence(const std::vector<std::unique_ptr<SimHost>>& hosts, int joiner)
    : hosts_(hosts), joiner_(joiner) {}

void Convergence::connected(uint32_t ip, int owner, SimClock::time_point t0,
                            SimClock::time_point returned) {
  std::lock_guard lock(mutex_);
  probes_.push_back(Probe{ip, owner, t0, returned});
  ++per_host_[owner];
}

std::optional<SimClock::time_point> Convergence::everywhere(const Probe& p) const {
  SimClock::time_point last = p.t0;
  for (size_t h = 0; h < hosts_.size(); ++h) {
    if (int(h) == p.owner || int(h) == joiner_) continue;
    auto when = hosts_[h]->datapath().tunnel_written(p.ip);
    if (!when) return std::nullopt;
    last = std::max(last, *when);
  }
  return last;
}

bool Convergence::wait_all(int timeout_s) {
  const auto deadline = SimClock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    while (swept_ < probes_.size() && everywhere(probes_[swept_])) ++swept_;
    if (swept_ == probes_.size()) return true;
    if (SimClock::now() > deadline) {
      log("not converged after {} s: {} of {} endpoints everywhere", timeout_s, swept_,
          probes_.size());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool Convergence::wait_count(SimHost& host, size_t n, int timeout_s) {
  const auto deadline = SimClock::now() + std::chrono::seconds(timeout_s);
  while (host.datapath().tunnel_count() < n) {
    if (SimClock::now() > deadline) {
      log("{} has {} of {} tunnels after {} s", host.name(), host.datapath().tunnel_count(), n,
          timeout_s);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

nlohmann::json Convergence::summary(SimClock::time_point start) const {
  std::vector<double> latency, call;
  SimClock::time_point last = start;
  for (const Probe& p : probes_) {
    const SimClock::time_point when = *everywhere(p);
    latency.push_back(ms_between(p.t0, when));
    call.push_back(ms_between(p.t0, p.returned));
    last = std::max(last, when);
  }
  return {{"connect_to_everywhere_ms", distribution(latency)},
          {"connect_call_ms", distribution(call)},
          {"all_everywhere_s", ms_between(start, last) / 1000}};
}

nlohmann::json Convergence::join_summary(SimClock::time_point start, SimHost& joiner,
                                         size_t others) const {
  SimClock::time_point theirs = start, mine = start;
  for (const Probe& p : probes_) theirs = std::max(theirs, *everywhere(p));
  for (const auto& [ip, time] : joiner.datapath().tunnel_times()) mine = std::max(mine, time);
  return {{"endpoints", probes_.size()},
          {"others_have_its_s", ms_between(start, theirs) / 1000},
          {"it_has_others_s", ms_between(start, mine) / 1000},
          {"its_tunnels", others},
          {"converged_s", ms_between(start, std::max(theirs, mine)) / 1000}};
}

size_t Convergence::expected_remote(int host) const {
  size_t n = 0;
  for (const auto& [owner, count] : per_host_)
    if (owner != host) n += count;
  return n;
}

EventCounter::EventCounter(const std::string& store)
    : store_(std::make_unique<store::EtcdStore>(store::EtcdOptions{.endpoints = {store}})) {
  // From the revision after a read (not "from now on", which would start
  // whenever the stream is up): no event of the join is missed.
  const int64_t revision = store_->range_prefix(store::keys::hosts_prefix()).revision;
  watch_ = store_->watch_prefix(
      store::keys::kRoot, revision + 1,
      [this](const std::vector<store::WatchEvent>& events) { count_ += events.size(); });
}

KeyStats key_stats(const std::string& address) {
  store::EtcdStore store(store::EtcdOptions{.endpoints = {address}});
  KeyStats out;
  static const char* kKinds[] = {"hosts", "networks", "vnis", "addresses", "endpoints", "other"};
  for (const auto& kv : store.range_prefix(store::keys::kRoot).kvs) {
    ++out.count;
    out.bytes += kv.key.size() + kv.value.size();
    ++out.by_kind[kKinds[static_cast<int>(store::keys::parse(kv.key).kind)]];
  }
  return out;
}

}  // namespace bpfnet::bench
