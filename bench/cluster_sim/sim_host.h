// One simulated bpfnet host of bench/cluster_sim: the daemon's control plane
// as bpfnetd runs it (Controller, Cluster, ClusterRegistry, ClusterView and
// an EtcdStore of its own against the real etcd), with the kernel replaced
// by fakes: tests/daemon's FakePlumbing for links and namespaces, and a
// datapath that records when each tunnel-map entry was written. A thread of
// the host's own runs the daemon's loop (main.cc's ControlServer::run: the
// periodic tick every 200 ms, brought forward by the cluster's wake fd).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "daemon/cluster.h"
#include "daemon/controller.h"
#include "daemon/state_store.h"
#include "fakes.h"
#include "store/etcd_store.h"

namespace bpfnet::bench {

using SimClock = std::chrono::steady_clock;

// The kernel's maps in memory (FakeDatapath), plus the time each tunnel
// entry was last written. Deltas are not kept (a long run would pile them up).
class RecordingDatapath : public fakes::FakeDatapath {
 public:
  void apply(const datapath::MapDelta& delta) override;
  // When the tunnel entry for `ip` (host order) was written; none while absent.
  std::optional<SimClock::time_point> tunnel_written(uint32_t ip) const;
  size_t tunnel_count() const;
  std::unordered_map<uint32_t, SimClock::time_point> tunnel_times() const;
  void forget_tunnels();  // a fresh machine's empty tunnel map

 private:
  mutable std::mutex mutex_;  // the host's loop writes, the driver reads
  std::unordered_map<uint32_t, SimClock::time_point> written_;
};

struct SimHostOptions {
  std::string store;      // "127.0.0.1:2379"
  std::string dir;        // the host's state dir (created)
  int index = 0;          // h<index>, underlay 10.200.<index / 250>.<index % 250 + 1>
  bool wake = true;       // false: the periodic tick alone (before the wake fd)
  int tick_ms = 200;      // bpfnetd's
  size_t namespaces = 0;  // container namespaces ns-0.. the fake plumbing knows
  int lease_ttl_s = 10;   // bpfnetd's --store-lease-ttl default
};

class SimHost {
 public:
  explicit SimHost(SimHostOptions options);
  ~SimHost();
  SimHost(const SimHost&) = delete;
  SimHost& operator=(const SimHost&) = delete;

  // bpfnetd's start: load the state, reconcile, join the cluster (one sync),
  // then the loop. Again after stop(): a restart on the same state dir, with
  // the same (fake) kernel.
  void start();
  // bpfnetd's graceful stop: the loop ends, the host leaves the cluster.
  void stop();

  // `bpfnetctl network create -d overlay`, `network connect [--ip]`: the
  // control socket's requests, under the loop's lock as main.cc takes it.
  std::string create_overlay(const std::string& name, const std::string& subnet);
  // Returns the endpoint's address (host order).
  uint32_t connect(const std::string& network, const std::string& container, size_t netns,
                   const std::string& ip = "");

  // The host mirrors network `name` (the cluster's networks reach a host
  // through its sync).
  bool has_network(const std::string& name);
  const std::string& name() const { return name_; }
  RecordingDatapath& datapath() { return datapath_; }

 private:
  void loop();

  SimHostOptions options_;
  std::string name_;
  RecordingDatapath datapath_;  // the kernel: survives a restart
  daemon::fakes::FakePlumbing plumbing_;
  std::unique_ptr<store::EtcdStore> store_;
  std::unique_ptr<daemon::StateStore> state_;
  fakes::FakeIds ids_;
  std::unique_ptr<daemon::Controller> ctl_;
  std::unique_ptr<daemon::Cluster> cluster_;
  std::mutex lock_;  // main.cc's controller_lock
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace bpfnet::bench
