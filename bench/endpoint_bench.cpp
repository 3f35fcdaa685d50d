// ns per packet of the container-veth program through BPF_PROG_TEST_RUN
// (repeat mode: the kernel loops, so syscall cost is amortised away).
// Run: build/bench/bench_endpoint   (root)
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "packet.h"
#include "prog_runner.h"

namespace {

using namespace bpfnet;
using test::ip4;

const test::Mac kMacA{0x02, 0x42, 0x0a, 0x00, 0x00, 0x02};
const test::Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};

// Network 1 with the sender (ifindex 1, as test runs use loopback) and
// `extra` further endpoints, so lookups run against a filled table.
std::unique_ptr<datapath::Datapath> load(int extra) {
  auto dp = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
  datapath::MapContents want;
  want.networks[1] = {1, ip4("10.0.0.0"), 8, ip4("10.0.0.1"), BPFNET_NET_F_ICC, 1500};
  want.networks[2] = {2, ip4("172.30.0.0"), 16, ip4("172.30.0.1"), BPFNET_NET_F_ICC, 1500};
  want.add_endpoint({1, 1, ip4("10.0.0.2"), kMacA, kGwA});
  want.add_endpoint({2, 2, ip4("172.30.0.2"), kMacA, kGwA});
  for (int i = 0; i < extra; ++i) {
    uint32_t ip = ip4("10.1.0.0") + static_cast<uint32_t>(i);
    want.add_endpoint({static_cast<uint32_t>(100 + i), 1, ip, kMacA, kGwA});
  }
  dp->apply(datapath::diff(dp->read_maps(), want));
  return dp;
}

void run(benchmark::State& state, const char* dst, uint16_t proto_arp) {
  auto dp = load(static_cast<int>(state.range(0)));
  test::Bytes frame;
  if (proto_arp) {
    frame = test::arp_frame({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kMacA, 1, kMacA,
                            ip4("10.0.0.2"), {}, ip4(dst));
  } else {
    test::Ipv4Spec s;
    s.saddr = ip4("10.0.0.2");
    s.daddr = ip4(dst);
    s.proto = 17;
    frame = test::ipv4_frame(kGwA, kMacA, s);
  }
  constexpr uint32_t kRepeat = 100000;
  uint64_t ns = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    test::run_prog(dp->from_container_prog_fd(), frame, kRepeat);
    ns += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count());
  }
  state.counters["ns_per_pkt"] =
      static_cast<double>(ns) / static_cast<double>(state.iterations() * kRepeat);
}

void BM_ForwardSameNetwork(benchmark::State& s) { run(s, "10.1.0.5", 0); }
void BM_ToHost(benchmark::State& s) { run(s, "10.0.0.1", 0); }
void BM_DropIsolation(benchmark::State& s) { run(s, "172.30.0.2", 0); }
void BM_ArpReply(benchmark::State& s) { run(s, "10.0.0.1", 1); }

BENCHMARK(BM_ForwardSameNetwork)->Arg(10)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ToHost)->Arg(10)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DropIsolation)->Arg(10)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ArpReply)->Arg(10)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
