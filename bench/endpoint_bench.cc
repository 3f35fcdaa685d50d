// Per-packet cost of bpfnet's BPF paths through BPF_PROG_TEST_RUN (Google
// Benchmark). Run as root: build/bench/bench_endpoint [--benchmark_* flags]
//
// Method (bench/README.md has the details):
//  - ns_per_pkt ("warm"): the kernel's own repeat loop, each run timed
//    together by the kernel (the run's `duration`: ktime around the loop, so
//    no syscall, skb or copy cost is in it). The kernel does not reset the
//    packet between repeats, so a harness (bpf/runner.bpf.c) restores the
//    frame at the start of every run and tail-calls the program under test.
//    The same loop with an empty program in the tail-call slot is the
//    harness's own cost, subtracted: ns_per_pkt = loop(prog) - loop(empty).
//    New flows: the harness gives every run its own source port (a new
//    tuple), and between calls the flows the call created are deleted from
//    userspace (not timed) and counted: each run must have created one.
//  - cold_ns_per_pkt: one run per BPF_PROG_TEST_RUN call (repeat = 1) on a
//    fresh copy of the frame, kernel-timed, minus the same for an empty
//    program: the path with the caches a syscall leaves behind.
// Every call's verdict is checked; a benchmark whose path gives the wrong
// verdict stops with an error instead of timing the wrong thing.
//
// The binary moves itself into a private network namespace with the
// topology of tests/bpf/main.cc (the programs' FIB lookups need it).
//
// The benchmarks, by path family, are in endpoint/*_paths.cc, the harness
// and the measure in endpoint/harness.cc, the datapaths they run against in
// endpoint/worlds.cc.
#include <benchmark/benchmark.h>
#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

#include "endpoint/harness.h"
#include "endpoint/paths.h"
#include "endpoint/worlds.h"

namespace {

namespace b = bpfnet::bench;

benchmark::internal::Benchmark* reg(const b::Path& path) {
  return benchmark::RegisterBenchmark(path.name, path.run)
      ->UseManualTime()
      ->Iterations(b::runs(b::kCalls))
      ->Unit(benchmark::kNanosecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  b::setup_netns();
  libbpf_set_print([](enum libbpf_print_level lvl, const char* fmt, va_list ap) {
    return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
  });
  b::Harness& h = b::harness();
  std::fprintf(stderr,
               "harness with an empty program (subtracted), per run: XDP %.0f ns, tc %.0f ns "
               "(same tuple), %.0f / %.0f ns (new tuple each run); empty program alone, "
               "repeat = 1: XDP %.0f ns, tc %.0f ns\n",
               h.loop_base(true, false, b::kRepeatEst), h.loop_base(false, false, b::kRepeatEst),
               h.loop_base(true, true, b::kRepeatNew), h.loop_base(false, true, b::kRepeatNew),
               h.cold_base(true), h.cold_base(false));

  for (int fill : {10, 10000}) {
    for (const auto* paths : {&b::kContainerPaths, &b::kPublishedPaths, &b::kMasqueradePaths}) {
      for (const b::Path& path : *paths) reg(path)->ArgName("fill")->Arg(fill);
    }
  }
  for (int services : {1, 100, 10000}) {
    for (int backends : {2, 100}) {
      for (const b::Path& path : b::kLbPaths) {
        reg(path)->ArgNames({"services", "backends"})->Args({services, backends});
      }
    }
  }
  // The monitor's cost (issue 14): none, a drop monitor, drop + trace.
  for (int monitor : {0, 1, 2}) {
    for (const b::Path& path : b::kMonitorPaths)
      reg(path)->ArgNames({"fill", "monitor"})->Args({10, monitor});
  }
  // Tunnel map lookups, flat from 10 to 10,000 remote endpoints (issue 13).
  for (int remotes : {10, 100, 1000, 10000}) {
    for (const b::Path& path : b::kOverlayPaths) reg(path)->ArgName("remotes")->Arg(remotes);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
