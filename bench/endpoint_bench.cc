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
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

// The skeleton uses runner_cfg.h's struct, so that comes first.
#include "bpf/runner_cfg.h"
//
#include "bench_runner.skel.h"
#include "bpfnet_abi.h"
#include "datapath/datapath.h"
#include "packet.h"

namespace {

using namespace bpfnet;
using test::Bytes;
using test::ip4;
using test::Mac;

constexpr uint32_t kCalls = 200;       // timed calls per benchmark (Google Benchmark iterations)
constexpr uint32_t kRepeatEst = 1000;  // runs per call, same tuple every run
constexpr uint32_t kRepeatNew = 256;   // runs per call, a new tuple every run
constexpr uint32_t kColdRuns = 10000;  // repeat = 1 calls for the cold figure
constexpr uint32_t kMaglevSize = 251;  // prime; every service's table
constexpr uint8_t kTcp = 6, kUdp = 17;
constexpr uint32_t XDP_PASS_ = 2, XDP_REDIRECT_ = 4;
constexpr uint32_t kRedirect = TC_ACT_REDIRECT, kShot = TC_ACT_SHOT, kOk = TC_ACT_OK;

const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kClient = ip4("198.51.100.7");
const uint32_t kRemote = ip4("198.51.100.9");
const uint32_t kIpA = ip4("172.18.0.2");  // the sender of tc runs: ifindex 1 (loopback)
const uint32_t kIpB = ip4("172.18.0.3");
const uint32_t kGw = ip4("172.18.0.1");
const uint32_t kOtherNet = ip4("172.30.0.2");  // a container of another network
constexpr uint32_t kLo = 1, kIfB = 42, kIfOther = 43;

// ---------------------------------------------------------------- frames
// Every frame is RUNNER_FRAME_LEN (64) bytes: headers plus zero padding.

Bytes pad(Bytes b) {
  if (b.size() > RUNNER_FRAME_LEN) throw std::logic_error("frame too long");
  b.resize(RUNNER_FRAME_LEN, 0);
  return b;
}

Bytes udp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp) {
  test::Ipv4Spec spec;
  spec.proto = kUdp;
  spec.saddr = s;
  spec.daddr = d;
  spec.sport = sp;
  spec.dport = dp;
  spec.payload = std::string(RUNNER_FRAME_LEN - 42, 'x');
  return pad(test::ipv4_frame(dst, src, spec));
}

Bytes tcp(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
          uint8_t flags) {
  test::Ipv4Spec spec;
  spec.saddr = s;
  spec.daddr = d;
  spec.sport = sp;
  spec.dport = dp;
  spec.tcp_flags = flags;
  spec.payload = std::string(RUNNER_FRAME_LEN - 54, 'x');
  return pad(test::ipv4_frame(dst, src, spec));
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

// ---------------------------------------------------------------- running

struct Call {
  uint32_t retval = 0;
  uint32_t ns = 0;  // kernel-measured, per run
};

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

// The harness (bpf/runner.bpf.c) and the empty programs, with the baselines.
class Harness {
 public:
  Harness() {
    skel_ = bench_runner__open_and_load();
    if (!skel_) throw std::runtime_error("load bpf/runner.bpf.c");
    empty_xdp_ = empty_prog(BPF_PROG_TYPE_XDP, XDP_PASS_);
    empty_tc_ = empty_prog(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK);
  }
  ~Harness() { bench_runner__destroy(skel_); }

  // One call: `repeat` runs of `target` through the harness. Per-run ns.
  Call loop(bool xdp, int target, const Bytes& frame, bool vary, uint16_t base_sport,
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

  // The harness with the empty program: median per-run ns over many calls.
  double loop_base(bool xdp, bool vary, uint32_t repeat) {
    auto key = std::make_tuple(xdp, vary, repeat);
    auto it = loop_base_.find(key);
    if (it != loop_base_.end()) return it->second;
    Bytes f = udp(kUp0, kClientMac, kClient, kHost, 40000, 10000);
    std::vector<double> ns;
    for (uint32_t i = 0; i < 2000; ++i)
      ns.push_back(loop(xdp, xdp ? empty_xdp_ : empty_tc_, f, vary, 1000, repeat, 0).ns);
    return loop_base_[key] = median(ns);
  }

  // An empty program alone, repeat = 1: median kernel-timed ns.
  double cold_base(bool xdp) {
    double& b = xdp ? cold_xdp_ : cold_tc_;
    if (b == 0) {
      Bytes f = udp(kUp0, kClientMac, kClient, kHost, 40000, 10000);
      std::vector<double> ns;
      for (uint32_t i = 0; i < 50000; ++i)
        ns.push_back(test_run(xdp ? empty_xdp_ : empty_tc_, f, 1, 0).ns);
      b = median(ns);
    }
    return b;
  }

 private:
  bench_runner* skel_ = nullptr;
  int empty_xdp_ = -1, empty_tc_ = -1;
  std::map<std::tuple<bool, bool, uint32_t>, double> loop_base_;
  double cold_xdp_ = 0, cold_tc_ = 0;
};
Harness* g_harness = nullptr;

// ------------------------------------------------------------------ world

// A datapath loaded with network 1 (172.18.0.0/16: A on loopback, B, and
// `fill` further endpoints), network 2 (one container), the uplink up0,
// `fill` published UDP ports (10000+i -> A:20000+i; the benchmarks use the
// last one) and `fill` conntrack entries (fill/2 flows of other clients).
struct World {
  std::unique_ptr<datapath::Datapath> dp;
  uint32_t up0 = 0;
  uint32_t fill = 0;

  explicit World(uint32_t fill_) : fill(fill_) {
    dp = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    up0 = if_nametoindex("up0");
    if (!up0) throw std::runtime_error("no up0 (namespace setup)");
    datapath::MapContents want;
    want.networks[1] = {1,   ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE,
                        1500};
    want.networks[2] = {2, ip4("172.30.0.0"), 16, ip4("172.30.0.1"), BPFNET_NET_F_ICC, 1500};
    want.add_endpoint({kLo, 1, kIpA, kMacA, kGwA});
    want.add_endpoint({kIfB, 1, kIpB, kMacB, kGwB});
    want.add_endpoint({kIfOther, 2, kOtherNet, kMacB, kGwB});
    for (uint32_t i = 0; i < fill; ++i)
      want.add_endpoint({1000 + i, 1, ip4("172.18.64.0") + i, kMacB, kGwB});
    want.host_addrs[kHost] = 0;
    want.host_addrs[kGw] = 0;
    want.uplinks[up0] = datapath::UplinkEntry{up0, kHost, kUp0};
    for (uint32_t i = 0; i < fill; ++i)
      want.add_portmap(
          {0, static_cast<uint16_t>(10000 + i), kUdp, kIpA, static_cast<uint16_t>(20000 + i)});
    dp->apply(datapath::diff(dp->read_maps(), want));
    int ct = dp->map_fd(BPFNET_MAP_CT);
    for (uint32_t i = 0; i < fill / 2; ++i) {
      bpfnet_ct_key f = ct_key(ip4("203.0.113.0") + i / 60000, kHost,
                               static_cast<uint16_t>(1024 + i % 60000), 10000, kUdp);
      bpfnet_ct_key r{};
      r.saddr = htonl(kIpA);
      r.daddr = f.saddr;
      r.sport = htons(20000);
      r.dport = f.sport;
      r.proto = kUdp;
      bpfnet_ct_value fv{}, rv{};
      fv.expires_ns = rv.expires_ns = ~0ULL >> 1;
      fv.saddr = f.saddr;
      fv.daddr = r.saddr;
      fv.sport = f.sport;
      fv.dport = r.sport;
      fv.flags = BPFNET_CT_F_DNAT;
      fv.peer = r;
      rv.saddr = f.daddr;
      rv.daddr = f.saddr;
      rv.sport = f.dport;
      rv.dport = f.sport;
      rv.flags = BPFNET_CT_F_DNAT | BPFNET_CT_F_REPLY;
      rv.peer = f;
      if (bpf_map_update_elem(ct, &f, &fv, BPF_ANY) || bpf_map_update_elem(ct, &r, &rv, BPF_ANY))
        throw std::runtime_error("fill conntrack");
    }
  }

  uint16_t last_port() const { return static_cast<uint16_t>(10000 + (fill ? fill - 1 : 0)); }
  uint16_t last_cport() const { return static_cast<uint16_t>(20000 + (fill ? fill - 1 : 0)); }
};

// `services` frontends (VIP 172.18.128.0+i, port 80/tcp) and `backends`
// backends (containers of network 1). Each service's table is a Maglev inner
// array of kMaglevSize slots; the datapath's outer map holds
// BPFNET_MAX_SERVICE_TABLES (4096) tables, so with more services than that,
// service i uses table i % 4096 (the lookups are the same: one hash lookup of
// the frontend, one array-of-maps and one array lookup, one backend lookup).
struct LbWorld {
  std::unique_ptr<datapath::Datapath> dp;
  uint32_t target_vip = 0;

  LbWorld(uint32_t services, uint32_t backends) {
    dp = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
    datapath::MapContents want;
    want.networks[1] = {1, ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC, 1500};
    want.add_endpoint({kLo, 1, kIpA, kMacA, kGwA});
    for (uint32_t b = 0; b < backends; ++b) {
      uint32_t ip = ip4("172.18.2.0") + b;
      want.add_endpoint({2000 + b, 1, ip, kMacB, kGwB});
      want.backends[b + 1] = ip;
    }
    uint32_t tables = std::min<uint32_t>(services, BPFNET_MAX_SERVICE_TABLES);
    for (uint32_t i = 0; i < services; ++i) {
      uint32_t vip = ip4("172.18.128.0") + i;
      want.vips[vip] = 1;
      want.add_service(datapath::ServiceEntry{vip, 80, kTcp, i % tables, kMaglevSize, 0});
    }
    target_vip = ip4("172.18.128.0") + services - 1;
    dp->apply(datapath::diff(dp->read_maps(), want));
    for (uint32_t t = 0; t < tables; ++t) {
      std::vector<std::pair<uint32_t, uint32_t>> slots;
      slots.reserve(kMaglevSize);
      for (uint32_t s = 0; s < kMaglevSize; ++s) slots.emplace_back(s, 1 + (s + t) % backends);
      dp->write_maglev(t, kMaglevSize, slots);
    }
  }
};

// Every world is built once and kept (a few hundred MB in all), so that
// benchmarks can run in any order (--benchmark_enable_random_interleaving,
// which scripts/bench.sh uses so that a machine whose speed drifts during
// the run does not bias one table size against another).
template <typename W, typename... A>
W& cached(A... args) {
  static std::map<std::tuple<A...>, std::unique_ptr<W>> worlds;
  auto& w = worlds[std::tuple<A...>{args...}];
  if (!w) w = std::make_unique<W>(args...);
  return *w;
}

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

void measure(benchmark::State& state, const Case& c) {
  Harness& h = *g_harness;
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
  for (uint32_t i = 0; i < kColdRuns; ++i) {
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

Case tc_case(const World& w, Bytes frame, uint32_t want) {
  Case c;
  c.prog = w.dp->from_container_prog_fd();
  c.frame = std::move(frame);
  c.want = want;
  return c;
}

// ------------------------------------------------------------- benchmarks
// state.range(0): entries in the endpoint, published-port and conntrack maps.
World& world(benchmark::State& s) { return cached<World>(static_cast<uint32_t>(s.range(0))); }

void BM_Forward(benchmark::State& s) {  // A -> B, same network
  World& w = world(s);
  measure(s, tc_case(w, udp(kGwA, kMacA, kIpA, kIpB, 33000, 53), kRedirect));
}

void BM_ToHost(benchmark::State& s) {  // A -> its gateway: passed to the host
  World& w = world(s);
  measure(s, tc_case(w, udp(kGwA, kMacA, kIpA, kGw, 33000, 53), kOk));
}

void BM_DropIsolation(benchmark::State& s) {  // A -> a container of network 2
  World& w = world(s);
  measure(s, tc_case(w, udp(kGwA, kMacA, kIpA, kOtherNet, 33000, 53), kShot));
}

void BM_ArpReply(benchmark::State& s) {  // A asks for its gateway
  World& w = world(s);
  Bytes arp = test::arp_frame({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kMacA, 1, kMacA, kIpA, {}, kGw);
  measure(s, tc_case(w, pad(arp), kRedirect));
}

// Client -> host:last published port at the uplink (XDP or tc-only).
Case dnat_case(World& w, bool xdp, bool fresh, uint16_t sport) {
  Case c;
  c.xdp = xdp;
  c.prog = xdp ? w.dp->xdp_uplink_prog_fd() : w.dp->tc_uplink_prog_fd();
  c.ifindex = xdp ? 0 : w.up0;
  c.frame = udp(kUp0, kClientMac, kClient, kHost, sport, w.last_port());
  c.want = xdp ? XDP_REDIRECT_ : kRedirect;
  c.new_flows = fresh;
  c.base_sport = sport;
  c.ct_fd = w.dp->map_fd(BPFNET_MAP_CT);
  uint16_t port = w.last_port();
  c.flow_key = [port](uint16_t sp) { return ct_key(kClient, kHost, sp, port, kUdp); };
  if (!fresh) test_run(c.prog, c.frame, 1, c.ifindex);  // the flow exists
  return c;
}
void BM_XdpDnatNew(benchmark::State& s) { measure(s, dnat_case(world(s), true, true, 20000)); }
void BM_XdpDnatEstablished(benchmark::State& s) {
  measure(s, dnat_case(world(s), true, false, 1000));
}
void BM_TcDnatNew(benchmark::State& s) { measure(s, dnat_case(world(s), false, true, 30000)); }
void BM_TcDnatEstablished(benchmark::State& s) {
  measure(s, dnat_case(world(s), false, false, 1001));
}

// A's reply to a published flow: reverse NAT at its veth, out of up0 by FIB.
void BM_ReverseNat(benchmark::State& s) {
  World& w = world(s);
  test_run(w.dp->xdp_uplink_prog_fd(), udp(kUp0, kClientMac, kClient, kHost, 1002, w.last_port()),
           1, 0);
  measure(s, tc_case(w, udp(kGwA, kMacA, kIpA, kClient, w.last_cport(), 1002), kRedirect));
}

// A -> a remote server through the uplink: masquerade (a source port is
// allocated for each new flow).
Case masq_case(World& w, bool fresh, uint16_t sport) {
  Case c = tc_case(w, udp(kGwA, kMacA, kIpA, kRemote, sport, 53), kRedirect);
  c.new_flows = fresh;
  c.base_sport = sport;
  c.ct_fd = w.dp->map_fd(BPFNET_MAP_CT);
  c.flow_key = [](uint16_t sp) { return ct_key(kIpA, kRemote, sp, 53, kUdp); };
  if (!fresh) test_run(c.prog, c.frame, 1, 0);
  return c;
}
void BM_MasqueradeNew(benchmark::State& s) { measure(s, masq_case(world(s), true, 40000)); }
void BM_MasqueradeEstablished(benchmark::State& s) { measure(s, masq_case(world(s), false, 1003)); }

// LB: A -> VIP:80 of the last service. New: SYNs, a new source port each
// run. Established: ACKs of a flow a SYN created.
Case lb_case(benchmark::State& s, bool fresh) {
  auto& w = cached<LbWorld>(static_cast<uint32_t>(s.range(0)), static_cast<uint32_t>(s.range(1)));
  uint16_t sport = fresh ? 20000 : 1000;
  Case c;
  c.prog = w.dp->from_container_prog_fd();
  c.frame = tcp(kGwA, kMacA, kIpA, w.target_vip, sport, 80, fresh ? 0x02 : 0x10);
  c.want = kRedirect;
  c.new_flows = fresh;
  c.base_sport = sport;
  c.ct_fd = w.dp->map_fd(BPFNET_MAP_CT);
  uint32_t vip = w.target_vip;
  c.flow_key = [vip](uint16_t sp) { return ct_key(kIpA, vip, sp, 80, kTcp); };
  if (!fresh) {
    test_run(c.prog, tcp(kGwA, kMacA, kIpA, w.target_vip, sport, 80, 0x02), 1, 0);
    test_run(c.prog, c.frame, 1, 0);  // SYN, then the ACK: established
  }
  return c;
}
void BM_LbNew(benchmark::State& s) { measure(s, lb_case(s, true)); }
void BM_LbEstablished(benchmark::State& s) { measure(s, lb_case(s, false)); }

void setup_netns() {
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET) (needs root)");
    std::exit(1);
  }
  const char* setup[] = {
      "ip link set lo up",
      "ip link add up0 address 02:00:00:00:00:01 type veth peer name up1",
      "ip link set up1 up",
      "ip link set up0 up",
      "ip addr add 192.0.2.1/24 dev up0",
      "ip neigh replace 192.0.2.254 lladdr 02:00:00:00:02:54 dev up0 nud permanent",
      "ip route add default via 192.0.2.254 dev up0",
      "sysctl -qw net.ipv4.ip_forward=1",
  };
  for (const char* cmd : setup) {
    if (std::system(cmd) != 0) {
      std::fprintf(stderr, "namespace setup failed: %s\n", cmd);
      std::exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  setup_netns();
  libbpf_set_print([](enum libbpf_print_level lvl, const char* fmt, va_list ap) {
    return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
  });
  Harness harness;
  g_harness = &harness;
  std::fprintf(
      stderr,
      "harness with an empty program (subtracted), per run: XDP %.0f ns, tc %.0f ns "
      "(same tuple), %.0f / %.0f ns (new tuple each run); empty program alone, "
      "repeat = 1: XDP %.0f ns, tc %.0f ns\n",
      harness.loop_base(true, false, kRepeatEst), harness.loop_base(false, false, kRepeatEst),
      harness.loop_base(true, true, kRepeatNew), harness.loop_base(false, true, kRepeatNew),
      harness.cold_base(true), harness.cold_base(false));

  auto reg = [](const char* name, void (*fn)(benchmark::State&)) {
    return benchmark::RegisterBenchmark(name, fn)->UseManualTime()->Iterations(kCalls)->Unit(
        benchmark::kNanosecond);
  };
  for (int fill : {10, 10000}) {
    reg("forward", BM_Forward)->ArgName("fill")->Arg(fill);
    reg("to_host", BM_ToHost)->ArgName("fill")->Arg(fill);
    reg("drop_isolation", BM_DropIsolation)->ArgName("fill")->Arg(fill);
    reg("arp_reply", BM_ArpReply)->ArgName("fill")->Arg(fill);
    reg("xdp_dnat_new", BM_XdpDnatNew)->ArgName("fill")->Arg(fill);
    reg("xdp_dnat_established", BM_XdpDnatEstablished)->ArgName("fill")->Arg(fill);
    reg("tc_dnat_new", BM_TcDnatNew)->ArgName("fill")->Arg(fill);
    reg("tc_dnat_established", BM_TcDnatEstablished)->ArgName("fill")->Arg(fill);
    reg("reverse_nat", BM_ReverseNat)->ArgName("fill")->Arg(fill);
    reg("masquerade_new", BM_MasqueradeNew)->ArgName("fill")->Arg(fill);
    reg("masquerade_established", BM_MasqueradeEstablished)->ArgName("fill")->Arg(fill);
  }
  for (int services : {1, 100, 10000}) {
    for (int backends : {2, 100}) {
      reg("lb_new", BM_LbNew)->ArgNames({"services", "backends"})->Args({services, backends});
      reg("lb_established", BM_LbEstablished)
          ->ArgNames({"services", "backends"})
          ->Args({services, backends});
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
