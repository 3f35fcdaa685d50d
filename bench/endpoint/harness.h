// The measuring side of bench/bench_endpoint: the frames, the harness
// (bpf/runner.bpf.c) and its baselines, and `measure`, which times one Case
// (see endpoint_bench.cc for the method).
#pragma once

#include <benchmark/benchmark.h>
#include <linux/pkt_cls.h>

#include <cstdint>
#include <functional>
#include <map>
#include <tuple>

#include "bpf/runner_cfg.h"
#include "bpfnet_abi.h"
#include "packet.h"

struct bench_runner;  // bench_runner.skel.h

namespace bpfnet::bench {

using test::Bytes;
using test::ip4;
using test::Mac;

constexpr uint32_t kCalls = 200;       // timed calls per benchmark (Google Benchmark iterations)
constexpr uint32_t kRepeatEst = 1000;  // runs per call, same tuple every run
constexpr uint32_t kRepeatNew = 256;   // runs per call, a new tuple every run
constexpr uint32_t kColdRuns = 10000;  // repeat = 1 calls for the cold figure
// BENCH_ENDPOINT_CHECK=1 (the test of this tool) scales every run count above
// and the baselines' down: each path still runs its calls and checks every
// verdict, in seconds instead of minutes (each XDP call waits for an RCU
// grace period), and the timings mean nothing.
uint32_t runs(uint32_t full);
constexpr uint8_t kTcp = 6, kUdp = 17;
constexpr uint32_t XDP_PASS_ = 2, XDP_REDIRECT_ = 4;
constexpr uint32_t kRedirect = TC_ACT_REDIRECT, kShot = TC_ACT_SHOT, kOk = TC_ACT_OK;

inline const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
inline const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
inline const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
inline const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
inline const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
inline const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

inline const uint32_t kHost = ip4("192.0.2.1");
inline const uint32_t kClient = ip4("198.51.100.7");
inline const uint32_t kRemote = ip4("198.51.100.9");
inline const uint32_t kIpA = ip4("172.18.0.2");  // the sender of tc runs: ifindex 1 (loopback)
inline const uint32_t kIpB = ip4("172.18.0.3");
inline const uint32_t kGw = ip4("172.18.0.1");
inline const uint32_t kOtherNet = ip4("172.30.0.2");  // a container of another network
constexpr uint32_t kLo = 1, kIfB = 42, kIfOther = 43;

// ---------------------------------------------------------------- frames
// Every frame is RUNNER_FRAME_LEN (64) bytes: headers plus zero padding.
Bytes pad(Bytes b);
Bytes udp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp);
Bytes tcp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
          uint8_t flags);
bpfnet_ct_key ct_key(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t proto);

// ---------------------------------------------------------------- running
struct Call {
  uint32_t retval = 0;
  uint32_t ns = 0;  // kernel-measured, per run
};

// One BPF_PROG_TEST_RUN of `fd` on `frame`, `repeat` runs, arriving on
// `ifindex` (0: no context).
Call test_run(int fd, const Bytes& frame, uint32_t repeat, uint32_t ifindex);

// The harness (bpf/runner.bpf.c) and the empty programs, with the baselines.
class Harness {
 public:
  Harness();
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // One call: `repeat` runs of `target` through the harness. Per-run ns.
  Call loop(bool xdp, int target, const Bytes& frame, bool vary, uint16_t base_sport,
            uint32_t repeat, uint32_t ifindex);
  // The harness with the empty program: median per-run ns over many calls.
  double loop_base(bool xdp, bool vary, uint32_t repeat);
  // An empty program alone, repeat = 1: median kernel-timed ns.
  double cold_base(bool xdp);

 private:
  bench_runner* skel_ = nullptr;
  int empty_xdp_ = -1, empty_tc_ = -1;
  std::map<std::tuple<bool, bool, uint32_t>, double> loop_base_;
  double cold_xdp_ = 0, cold_tc_ = 0;
};
// The one harness, loaded at the first call (after the namespace setup).
Harness& harness();

// ------------------------------------------------------------ the measure
// What a benchmark runs: `prog` (XDP or tc) on `frame`, arriving on
// `ifindex` (tc; 0 = loopback). New flows: the source port varies from
// `base_sport`, and `flow_key(sport)` is the conntrack key of the flow a run
// with that source port creates (deleted after each call).
struct Case {
  int prog = -1;
  bool xdp = false;
  Bytes frame;
  uint32_t ifindex = 0;
  uint32_t want = 0;  // verdict
  bool new_flows = false;
  uint16_t base_sport = 0;
  int ct_fd = -1;
  std::function<bpfnet_ct_key(uint16_t)> flow_key;
};

// Times `c` (warm, then cold) into the state's counters: ns_per_pkt,
// harness_ns, cold_ns_per_pkt; a wrong verdict or a missing flow skips the
// benchmark with an error.
void measure(benchmark::State& state, const Case& c);

}  // namespace bpfnet::bench
