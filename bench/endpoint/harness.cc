#include "endpoint/harness.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// The skeleton uses runner_cfg.h's struct, so that comes first (harness.h).
#include "bench_runner.skel.h"

namespace bpfnet::bench {

namespace {

// An IPv4 frame of protocol `proto` (TCP with `tcp_flags`), padded with 'x'.
Bytes l4_frame(uint8_t proto, const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp,
               uint16_t dp, uint8_t tcp_flags) {
  test::Ipv4Spec spec;
  spec.proto = proto;
  spec.saddr = s;
  spec.daddr = d;
  spec.sport = sp;
  spec.dport = dp;
  spec.tcp_flags = tcp_flags;
  spec.payload = std::string(RUNNER_FRAME_LEN - (proto == kTcp ? 54 : 42), 'x');
  return pad(test::ipv4_frame(dst, src, spec));
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Empty programs (return XDP_PASS / TC_ACT_OK at once).
int empty_prog(bpf_prog_type type, int32_t ret) {
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, ret},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  // Same expected attach type as libbpf gives SEC("xdp") / SEC("tc") (tail-call compatibility).
  LIBBPF_OPTS(bpf_prog_load_opts, opts,
              .expected_attach_type = type == BPF_PROG_TYPE_XDP ? BPF_XDP : bpf_attach_type{});
  int fd = bpf_prog_load(type, "bench_empty", "GPL", insns, 2, &opts);
  if (fd < 0) throw std::runtime_error(std::string("load empty program: ") + std::strerror(errno));
  return fd;
}

// Deletes the flows the last call created; how many there were.
uint32_t delete_flows(const Case& c, uint32_t runs) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < runs; ++i) {
    bpfnet_ct_key k = c.flow_key(static_cast<uint16_t>(c.base_sport + i));
    bpfnet_ct_value v{};
    if (bpf_map_lookup_elem(c.ct_fd, &k, &v) != 0) continue;
    if (bpf_map_delete_elem(c.ct_fd, &v.peer) == 0 && bpf_map_delete_elem(c.ct_fd, &k) == 0) ++n;
  }
  return n;
}

}  // namespace

Bytes pad(Bytes b) {
  if (b.size() > RUNNER_FRAME_LEN) throw std::logic_error("frame too long");
  b.resize(RUNNER_FRAME_LEN, 0);
  return b;
}

Bytes udp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp) {
  return l4_frame(kUdp, dst, src, s, d, sp, dp, test::Ipv4Spec{}.tcp_flags);
}

Bytes tcp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
          uint8_t flags) {
  return l4_frame(kTcp, dst, src, s, d, sp, dp, flags);
}

bpfnet_ct_key ct_key(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t proto) {
  bpfnet_ct_key k{};
  k.saddr = htonl(s);
  k.daddr = htonl(d);
  k.sport = htons(sp);
  k.dport = htons(dp);
  k.proto = proto;
  return k;
}

Call test_run(int fd, const Bytes& frame, uint32_t repeat, uint32_t ifindex) {
  struct __sk_buff ctx {};
  ctx.ifindex = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()),
              .ctx_in = ifindex ? &ctx : nullptr,
              .ctx_size_in = ifindex ? static_cast<uint32_t>(sizeof(ctx)) : 0u,
              .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(fd, &opts) != 0)
    throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno));
  return Call{opts.retval, opts.duration};
}

Harness::Harness() {
  skel_ = bench_runner__open_and_load();
  if (!skel_) throw std::runtime_error("load bpf/runner.bpf.c");
  empty_xdp_ = empty_prog(BPF_PROG_TYPE_XDP, XDP_PASS_);
  empty_tc_ = empty_prog(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK);
}

Harness::~Harness() { bench_runner__destroy(skel_); }

Call Harness::loop(bool xdp, int target, const Bytes& frame, bool vary, uint16_t base_sport,
                   uint32_t repeat, uint32_t ifindex) {
  if (frame.size() != RUNNER_FRAME_LEN) throw std::logic_error("frame size");
  auto& cfg = skel_->bss->cfg;
  std::memcpy(cfg.tpl, frame.data(), RUNNER_FRAME_LEN);
  cfg.vary = vary;
  cfg.base_sport = base_sport;
  skel_->bss->run_no = 0;
  uint32_t zero = 0;
  int slot = bpf_map__fd(xdp ? skel_->maps.target_xdp : skel_->maps.target_tc);
  if (bpf_map_update_elem(slot, &zero, &target, BPF_ANY) != 0)
    throw std::runtime_error(std::string("tail-call slot: ") + std::strerror(errno));
  int runner = bpf_program__fd(xdp ? skel_->progs.runner_xdp : skel_->progs.runner_tc);
  return test_run(runner, frame, repeat, ifindex);
}

double Harness::loop_base(bool xdp, bool vary, uint32_t repeat) {
  auto key = std::make_tuple(xdp, vary, repeat);
  auto it = loop_base_.find(key);
  if (it != loop_base_.end()) return it->second;
  Bytes f = udp(kUp0, kClientMac, kClient, kHost, 40000, 10000);
  std::vector<double> ns;
  for (uint32_t i = 0; i < runs(2000); ++i)
    ns.push_back(loop(xdp, xdp ? empty_xdp_ : empty_tc_, f, vary, 1000, repeat, 0).ns);
  return loop_base_[key] = median(ns);
}

double Harness::cold_base(bool xdp) {
  double& b = xdp ? cold_xdp_ : cold_tc_;
  if (b == 0) {
    Bytes f = udp(kUp0, kClientMac, kClient, kHost, 40000, 10000);
    std::vector<double> ns;
    for (uint32_t i = 0; i < runs(50000); ++i)
      ns.push_back(test_run(xdp ? empty_xdp_ : empty_tc_, f, 1, 0).ns);
    b = median(ns);
  }
  return b;
}

uint32_t runs(uint32_t full) {
  static const bool check = [] {
    const char* v = std::getenv("BENCH_ENDPOINT_CHECK");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return check ? std::max<uint32_t>(full / 100, 5) : full;
}

Harness& harness() {
  static Harness h;
  return h;
}

void measure(benchmark::State& state, const Case& c) {
  Harness& h = harness();
  const uint32_t repeat = c.new_flows ? kRepeatNew : kRepeatEst;
  if (c.new_flows) delete_flows(c, repeat);
  std::vector<double> ns;
  for (auto _ : state) {
    Call r = h.loop(c.xdp, c.prog, c.frame, c.new_flows, c.base_sport, repeat, c.ifindex);
    if (r.retval != c.want) {
      state.SkipWithError(
          ("verdict " + std::to_string(r.retval) + ", expected " + std::to_string(c.want)).c_str());
      return;
    }
    state.SetIterationTime(r.ns * 1e-9 * repeat);
    ns.push_back(r.ns);
    if (c.new_flows) {
      uint32_t made = delete_flows(c, repeat);  // not timed: manual time is the kernel's
      if (made != repeat) {
        state.SkipWithError(("a call of " + std::to_string(repeat) + " runs created " +
                             std::to_string(made) + " flows")
                                .c_str());
        return;
      }
    }
  }
  state.counters["ns_per_pkt"] = median(ns) - h.loop_base(c.xdp, c.new_flows, repeat);
  state.counters["harness_ns"] = h.loop_base(c.xdp, c.new_flows, repeat);

  // Cold: one run per call, fresh frame, kernel-timed; new flows deleted after each.
  std::vector<double> cold;
  Bytes f = c.frame;
  for (uint32_t i = 0; i < runs(kColdRuns); ++i) {
    Call r = test_run(c.prog, f, 1, c.ifindex);
    if (r.retval != c.want) {
      state.SkipWithError("cold run: wrong verdict");
      return;
    }
    cold.push_back(r.ns);
    // The cold runs use the frame's own source port, base_sport.
    if (c.new_flows && delete_flows(c, 1) != 1) {
      state.SkipWithError("cold run did not create a flow");
      return;
    }
  }
  state.counters["cold_ns_per_pkt"] = median(cold) - h.cold_base(c.xdp);
}

}  // namespace bpfnet::bench
