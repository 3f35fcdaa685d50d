// bench/cluster_sim: the overlay control plane at scale, by simulation
// (issue 13). H hosts (SimHost: bpfnetd's Controller, Cluster, registry and
// view, each with its own EtcdStore, over fake plumbing and a datapath that
// timestamps tunnel-map writes) × E endpoints against one real etcd.
//
//   cluster_sim --store 127.0.0.1:2379 [--hosts 50] [--endpoints 200]
//               [--probes 200] [--probe-gap-ms 100] [--no-wake] [--dir DIR]
//
// Phases: (1) every host joins; h0 creates overlay `ov`; the last host (the
// joiner) connects its E endpoints and leaves gracefully. (2) Fill: the other
// H-1 hosts connect E endpoints each, --fill-parallel hosts at a time
// (`connect --ip`, as in the earlier runs: the fill measures the spread, not
// hosts racing for the lowest free address), until every host's tunnel map
// holds every other host's endpoints.
// (3) Probes: P connects with automatic addresses, round robin over the
// hosts, one every probe-gap-ms; each one's time from the start of its
// connect until the last other host wrote it into its tunnel map. (4) Join:
// the joiner starts again on its state (bpfnetd restarted with E endpoints,
// on a machine whose tunnel map is empty): time until every other host has
// its E endpoints and it has everyone else's, and the watch events one host
// receives meanwhile. Prints one JSON object; exits 1 if something does not
// converge within --timeout-s (never on a slow figure).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cluster_sim/convergence.h"
#include "cluster_sim/sim_host.h"
#include "store/cluster_keys.h"

namespace po = boost::program_options;
namespace b = bpfnet::bench;
using nlohmann::json;

namespace {

struct Args {
  std::string store, dir;
  int hosts = 50, endpoints = 200, probes = 200, probe_gap_ms = 100, timeout_s = 300;
  int fill_parallel = 8, lease_ttl_s = 10;
  bool wake = true;
};

Args parse(int argc, char** argv) {
  Args a;
  po::options_description desc("cluster_sim");
  desc.add_options()("help,h", "this help")("store", po::value(&a.store)->required(),
                                            "etcd client address HOST:PORT")(
      "hosts", po::value(&a.hosts), "simulated hosts (50)")(
      "endpoints", po::value(&a.endpoints), "endpoints per host (200, at most 250)")(
      "probes", po::value(&a.probes), "timed connects in steady state (200)")(
      "probe-gap-ms", po::value(&a.probe_gap_ms), "between probe connects (100)")(
      "timeout-s", po::value(&a.timeout_s), "for each phase to converge (300)")(
      "fill-parallel", po::value(&a.fill_parallel),
      "hosts connecting at once during the fill (8: more starve etcd of the 2 cores)")(
      "no-wake", "sync on the 200 ms tick only (bpfnetd before the cluster's wake fd)")(
      "lease-ttl-s", po::value(&a.lease_ttl_s),
      "hosts' lease TTL (10, bpfnetd's default; longer where the keep-alive threads of many "
      "simulated hosts starve on a loaded machine)")("dir", po::value(&a.dir),
                                                     "state dirs (default: a temp dir, removed)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  if (vm.count("help")) {
    std::cout << desc;
    std::exit(0);
  }
  po::notify(vm);
  a.wake = !vm.count("no-wake");
  if (a.hosts < 2 || a.endpoints < 1 || a.endpoints > 250 || a.probes < 0)
    throw std::invalid_argument("--hosts >= 2, --endpoints 1..250, --probes >= 0");
  return a;
}

std::string fill_ip(int host, int j) { return fmt::format("10.64.{}.{}", host + 1, j + 2); }

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  std::string dir = a.dir;
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/cluster_sim.XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir = tmpl;
  }
  const int joiner = a.hosts - 1;
  const size_t netns_per_host = size_t(a.endpoints) + size_t(a.probes);
  std::vector<std::unique_ptr<b::SimHost>> hosts;
  for (int i = 0; i < a.hosts; ++i) {
    hosts.push_back(std::make_unique<b::SimHost>(b::SimHostOptions{
        a.store, fmt::format("{}/h{}", dir, i), i, a.wake, 200, netns_per_host, a.lease_ttl_s}));
    hosts.back()->start();
  }
  b::log("{} hosts joined ({})", a.hosts, a.wake ? "wake fd" : "200 ms tick only");
  hosts[0]->create_overlay("ov", "10.64.0.0/16");
  for (auto& h : hosts)
    while (!h->has_network("ov")) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  // (1) The joiner's endpoints, then it leaves: the others drop them.
  std::vector<uint32_t> joiner_ips;
  for (int j = 0; j < a.endpoints; ++j)
    joiner_ips.push_back(
        hosts[joiner]->connect("ov", fmt::format("j{}", j), size_t(j), fill_ip(joiner, j)));
  hosts[joiner]->stop();

  // (2) Fill: H-1 hosts connect E endpoints each, fill-parallel at a time.
  b::Convergence conv(hosts, joiner);
  const auto fill_start = b::SimClock::now();
  std::atomic<int> retries{0}, failed{0};
  {
    std::vector<std::thread> threads;
    std::atomic<int> next_host{0};
    for (int t = 0; t < std::min(a.fill_parallel, joiner); ++t)
      threads.emplace_back([&] {
        for (int i = next_host++; i < joiner; i = next_host++) {
          for (int j = 0; j < a.endpoints; ++j) {
            auto t0 = b::SimClock::now();
            // A connect refused with "store unavailable" (etcd past its deadline
            // under the herd) is tried again, as a user would; counted.
            for (int attempt = 0;; ++attempt) {
              try {
                uint32_t ip =
                    hosts[i]->connect("ov", fmt::format("c{}", j), size_t(j), fill_ip(i, j));
                conv.connected(ip, i, t0, b::SimClock::now());
                break;
              } catch (const std::exception& e) {
                if (attempt == 4) {
                  b::log("{}: connect c{} failed: {}", hosts[i]->name(), j, e.what());
                  ++failed;
                  return;
                }
                ++retries;
              }
            }
          }
        }
      });
    for (auto& t : threads) t.join();
  }
  b::log("fill: {} connects in {:.2f} s ({} retried)", joiner * a.endpoints, b::secs(fill_start),
         retries.load());
  if (failed) return 1;
  if (!conv.wait_all(a.timeout_s)) return 1;
  json fill = conv.summary(fill_start);
  fill["retried_connects"] = retries.load();
  conv.clear();

  // (3) Probes in steady state: automatic addresses, round robin.
  const auto probe_start = b::SimClock::now();
  for (int k = 0; k < a.probes; ++k) {
    const int i = k % joiner;
    auto t0 = b::SimClock::now();
    uint32_t ip = hosts[i]->connect("ov", fmt::format("p{}", k), size_t(a.endpoints + k));
    conv.connected(ip, i, t0, b::SimClock::now());
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(a.probe_gap_ms));
  }
  if (!conv.wait_all(a.timeout_s)) return 1;
  json probes = conv.summary(probe_start);
  conv.clear();

  // (4) The joiner comes back with its endpoints, to an empty tunnel map.
  b::EventCounter events(a.store);
  hosts[joiner]->datapath().forget_tunnels();
  const auto join_start = b::SimClock::now();
  hosts[joiner]->start();
  const double join_call_s = b::secs(join_start);
  conv.include_joiner();
  for (uint32_t ip : joiner_ips) conv.connected(ip, joiner, join_start, join_start);
  if (!conv.wait_all(a.timeout_s)) return 1;
  const size_t others = conv.expected_remote(joiner);
  if (!conv.wait_count(*hosts[joiner], others, a.timeout_s)) return 1;
  json join = conv.join_summary(join_start, *hosts[joiner], others);
  join["start_call_s"] = join_call_s;
  join["watch_events_per_host"] = events.count();

  const b::KeyStats keys = b::key_stats(a.store);
  json out{{"hosts", a.hosts},
           {"endpoints_per_host", a.endpoints},
           {"wake", a.wake},
           {"fill", fill},
           {"probes", probes},
           {"join", join},
           {"etcd_keys", keys.count},
           {"etcd_bytes", keys.bytes},
           {"etcd_keys_by_kind", keys.by_kind}};
  std::cout << out.dump() << std::endl;
  for (auto& h : hosts) h->stop();
  hosts.clear();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "cluster_sim: " << e.what() << std::endl;
  return 2;
}
