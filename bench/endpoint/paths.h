// The benchmarks of bench/bench_endpoint, one function per BPF path, named
// as scripts/bench.sh, bench/report.py and tests/bench read them, by family:
// a container's own traffic (container_paths.cc), published ports
// (published_paths.cc), services (lb_paths.cc), overlay networks
// (overlay_paths.cc). endpoint_bench.cc registers
// the tables in the order below.
#pragma once

#include <benchmark/benchmark.h>

#include <vector>

namespace bpfnet::bench {

struct Path {
  const char* name;
  void (*run)(benchmark::State&);
};

// state.range(0) ("fill"): entries in the endpoint, published-port and
// conntrack maps. Registered in this order: the container's paths within
// its network, the published-port paths, masquerade.
extern const std::vector<Path> kContainerPaths;
extern const std::vector<Path> kPublishedPaths;
extern const std::vector<Path> kMasqueradePaths;

// state.range(0): services, state.range(1): backends.
extern const std::vector<Path> kLbPaths;

// state.range(0) ("remotes"): entries in the tunnel map.
extern const std::vector<Path> kOverlayPaths;

// state.range(0): fill, as above; state.range(1) ("monitor"): 0 none, 1 a
// drop monitor, 2 drop + trace (monitor_paths.cc).
extern const std::vector<Path> kMonitorPaths;

}  // namespace bpfnet::bench
