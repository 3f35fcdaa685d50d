// bench/pktgen: packet generator on XDP live frames.
//
// Builds one UDP or TCP SYN frame, loads bpf/pktgen.bpf.c and runs it through
// BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: the kernel allocates a
// page per frame, runs the program (which restores the header, picks the
// flow and redirects the frame out of --iface) and transmits it. One thread
// per core, each pinned. Prints the offered rate.
//
//   pktgen --iface eth0 --dst-mac 02:.. --dst-ip 10.0.0.2 [--proto udp|tcp]
//          [--size 60] [--flows 64 --flow-field sport|saddr|dport|addr-port]
//          [--duration 2 | --count N] [--threads 1] [--json] [--netns NAME]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/core.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

// The skeleton's rodata struct is declared here, so it comes first.
#include "bpf/pktgen_cfg.h"
//
#include "bench_pktgen.skel.h"
#include "frame.h"
#include "tool_util.h"

namespace po = boost::program_options;
using namespace bpfnet::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string iface, netns, dst_mac, src_mac, dst_ip, src_ip, proto = "udp", flow_field = "sport";
  uint32_t size = 60, flows = 1, first_flow = 0, threads = 1, batch = 64, chunk = 65536;
  uint16_t sport = 10000, dport = 9;
  double duration = 1.0;
  uint64_t count = 0;
  std::string cpus;
  bool json = false, xdp_tx = false, no_idle = false;
};

std::vector<int> cpu_list(const Options& o) {
  std::vector<int> cpus;
  if (o.cpus.empty()) {
    for (uint32_t i = 0; i < o.threads; ++i) cpus.push_back(static_cast<int>(i));
    return cpus;
  }
  size_t pos = 0;
  while (pos <= o.cpus.size()) {
    size_t comma = o.cpus.find(',', pos);
    std::string part =
        o.cpus.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) cpus.push_back(std::stoi(part));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (cpus.size() != o.threads) throw std::runtime_error("--cpus must list exactly --threads CPUs");
  return cpus;
}

struct ThreadResult {
  uint64_t sent = 0;
  int err = 0;
};

void run_thread(int prog_fd, int cpu, const std::vector<uint8_t>& frame, const Options& o,
                int ingress_ifindex, uint64_t quota, Clock::time_point deadline,
                ThreadResult& res) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    res.err = EINVAL;
    return;
  }
  xdp_md ctx{};
  ctx.ingress_ifindex = static_cast<uint32_t>(ingress_ifindex);
  ctx.data_end = static_cast<uint32_t>(frame.size());  // the kernel wants the data size here
  // Frames per call: start small and aim at ~10 ms per call, so that a slow
  // path (a few kpps) still stops close to --duration; --chunk is the cap.
  uint64_t chunk = std::min<uint64_t>(o.chunk, 256);
  while (!stop_requested()) {
    uint64_t n = chunk;
    if (quota) {
      if (res.sent >= quota) break;
      n = std::min<uint64_t>(n, quota - res.sent);
    } else if (Clock::now() >= deadline) {
      break;
    }
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()),
                .ctx_in = ingress_ifindex ? &ctx : nullptr,
                .ctx_size_in = ingress_ifindex ? static_cast<uint32_t>(sizeof ctx) : 0u,
                .repeat = static_cast<int>(n), .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
                .batch_size = o.batch);
    auto t0 = Clock::now();
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
      res.err = errno;
      break;
    }
    double call = std::chrono::duration<double>(Clock::now() - t0).count();
    if (call > 0) {
      double want = static_cast<double>(n) * 0.010 / call;
      chunk = std::clamp<uint64_t>(static_cast<uint64_t>(want), std::min<uint64_t>(64, o.chunk),
                                   o.chunk);
    }
    res.sent += n;
  }
}

int run(const Options& o) {
  if (!o.netns.empty()) enter_netns(o.netns);
  if (o.size < 60 || o.size > 3500)
    throw std::runtime_error("--size must be 60..3500 (frame bytes without FCS)");
  const uint32_t max_flows = o.flow_field == "addr-port" ? (1u << 24) : 65536u;
  if (o.flows < 1 || o.flows > max_flows)
    throw std::runtime_error(
        fmt::format("--flows must be 1..{} with --flow-field {}", max_flows, o.flow_field));
  if (o.first_flow >= o.flows) throw std::runtime_error("--first-flow must be below --flows");
  if (o.threads < 1) throw std::runtime_error("--threads must be >= 1");
  if (o.chunk < 1 || o.chunk > (1u << 30)) throw std::runtime_error("--chunk must be 1..2^30");

  FrameSpec spec;
  spec.tcp = o.proto == "tcp";
  if (!spec.tcp && o.proto != "udp") throw std::runtime_error("--proto is udp or tcp");
  int ifindex = ifindex_of(o.iface);
  spec.dst_mac = parse_mac(o.dst_mac);
  spec.src_mac = o.src_mac.empty() ? mac_of(o.iface) : parse_mac(o.src_mac);
  spec.daddr = parse_ipv4(o.dst_ip);
  spec.saddr = o.src_ip.empty() ? ipv4_of(o.iface) : parse_ipv4(o.src_ip);
  spec.sport = o.sport;
  spec.dport = o.dport;
  spec.size = o.size;
  std::vector<uint8_t> frame = build_frame(spec);

  uint32_t field;
  if (o.flow_field == "sport")
    field = 0;
  else if (o.flow_field == "saddr")
    field = 1;
  else if (o.flow_field == "dport")
    field = 2;
  else if (o.flow_field == "addr-port")
    field = 3;
  else
    throw std::runtime_error("--flow-field is sport, saddr, dport or addr-port");

  std::vector<int> cpus = cpu_list(o);

  libbpf_set_print([](enum libbpf_print_level lvl, const char* fmt, va_list ap) {
    return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
  });
  bench_pktgen* skel = bench_pktgen__open();
  if (!skel) throw std::runtime_error("open pktgen BPF object");
  auto& cfg = skel->bss->cfg;
  std::memcpy(cfg.tpl, frame.data(), sizeof cfg.tpl);
  cfg.ifindex = o.xdp_tx ? 0 : static_cast<uint32_t>(ifindex);
  cfg.nflows = o.flows;
  cfg.flow_field = field;
  cfg.l4proto = spec.tcp ? IPPROTO_TCP : IPPROTO_UDP;
  cfg.base_saddr = ntohl(spec.saddr);
  cfg.base_port = field == 2 ? o.dport : o.sport;
  if (bench_pktgen__load(skel) != 0) {
    bench_pktgen__destroy(skel);
    throw std::runtime_error("load pktgen BPF program (root? kernel >= 5.18?)");
  }
  int prog_fd = bpf_program__fd(skel->progs.bench_pktgen);
  if (o.first_flow) {  // every CPU's flow counter starts there
    int ncpu = libbpf_num_possible_cpus();
    std::vector<uint32_t> start(ncpu > 0 ? static_cast<size_t>(ncpu) : 1u, o.first_flow);
    uint32_t zero = 0;
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.flow_ctr), &zero, start.data(), BPF_ANY) != 0) {
      int e = errno;
      bench_pktgen__destroy(skel);
      throw std::runtime_error(fmt::format("set --first-flow: {}", std::strerror(e)));
    }
  }

  // A repeat > 1 test run of a program not otherwise registered as an XDP
  // program pays a dispatcher update (~20 ms) per call; keeping it attached
  // in generic mode to an idle, down veth avoids that.
  std::optional<IdleVeth> idle;
  int idle_link_fd = -1;
  if (!o.no_idle) {
    idle.emplace(fmt::format("pgi{}", getpid() % 10000000));
    LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = XDP_FLAGS_SKB_MODE);
    idle_link_fd = bpf_link_create(prog_fd, idle->ifindex(), BPF_XDP, &lopts);
    if (idle_link_fd < 0) {
      int e = errno;
      bench_pktgen__destroy(skel);
      throw std::runtime_error(fmt::format("attach to idle veth: {}", std::strerror(e)));
    }
  }

  uint64_t per_thread = o.count ? o.count / o.threads : 0;
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(o.duration));
  for (uint32_t i = 0; i < o.threads; ++i) {
    uint64_t quota = per_thread + (o.count && i == 0 ? o.count % o.threads : 0);
    if (o.count && quota == 0) continue;
    threads.emplace_back(run_thread, prog_fd, cpus[i], std::cref(frame), std::cref(o),
                         o.xdp_tx ? ifindex : 0, quota, deadline, std::ref(results[i]));
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (idle_link_fd >= 0) close(idle_link_fd);
  bench_pktgen__destroy(skel);

  uint64_t sent = 0;
  int err = 0;
  for (auto& r : results) {
    sent += r.sent;
    if (r.err) err = r.err;
  }
  double pps = secs > 0 ? static_cast<double>(sent) / secs : 0;
  if (o.json) {
    nlohmann::json j = {{"packets", sent},
                        {"seconds", secs},
                        {"pps", pps},
                        {"bits_per_second", pps * o.size * 8},
                        {"size", o.size},
                        {"proto", o.proto},
                        {"flows", o.flows},
                        {"flow_field", o.flow_field},
                        {"threads", o.threads},
                        {"iface", o.iface},
                        {"error", err ? std::strerror(err) : ""}};
    std::cout << j.dump() << "\n";
  } else {
    fmt::print("offered {} packets in {:.3f} s: {:.0f} pps ({:.3f} Mpps, {:.1f} Mbit/s at {} B)\n",
               sent, secs, pps, pps / 1e6, pps * o.size * 8 / 1e6, o.size);
  }
  if (err) {
    std::cerr << "pktgen: BPF_PROG_TEST_RUN: " << std::strerror(err) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "pktgen: packet generator on XDP live frames (root)\n"
      "Sends UDP or TCP SYN frames out of --iface in the current (or --netns) namespace");
  desc.add_options()("help,h", "this help")("iface,i", po::value(&o.iface)->required(),
                                            "interface to send out of")(
      "netns", po::value(&o.netns), "enter this network namespace first (name or path)")(
      "dst-mac", po::value(&o.dst_mac)->required(), "destination MAC")(
      "dst-ip", po::value(&o.dst_ip)->required(), "destination IPv4 address")(
      "src-mac", po::value(&o.src_mac), "source MAC (default: the interface's)")(
      "src-ip", po::value(&o.src_ip), "source IPv4 (default: the interface's first)")(
      "proto", po::value(&o.proto)->default_value("udp"), "udp or tcp (TCP SYN)")(
      "sport", po::value(&o.sport)->default_value(10000), "source port of flow 0")(
      "dport", po::value(&o.dport)->default_value(9), "destination port (of flow 0)")(
      "size,s", po::value(&o.size)->default_value(60), "frame bytes without FCS (60..3500)")(
      "flows", po::value(&o.flows)->default_value(1), "distinct flows, taken round robin per CPU")(
      "flow-field", po::value(&o.flow_field)->default_value("sport"),
      "what differs between flows: sport, saddr or dport (flow k adds k), or addr-port "
      "(flow k: source port + k mod 65536, source address + k / 65536; up to 2^24 flows)")(
      "first-flow", po::value(&o.first_flow)->default_value(0),
      "flow of the first frame (each thread then goes round robin from there)")(
      "duration,d", po::value(&o.duration)->default_value(1.0),
      "seconds to send (without --count)")("count,n", po::value(&o.count)->default_value(0),
                                           "send exactly this many frames")(
      "threads,t", po::value(&o.threads)->default_value(1), "sending threads, one per CPU")(
      "cpus", po::value(&o.cpus), "comma-separated CPUs for the threads (default 0..threads-1)")(
      "batch", po::value(&o.batch)->default_value(64), "kernel batch size (frames per flush)")(
      "chunk", po::value(&o.chunk)->default_value(65536),
      "most frames per BPF_PROG_TEST_RUN call (calls aim at ~10 ms each)")(
      "xdp-tx", po::bool_switch(&o.xdp_tx), "XDP_TX out of --iface instead of bpf_redirect")(
      "no-idle-attach", po::bool_switch(&o.no_idle),
      "do not attach the program to an idle veth (each call then pays ~20 ms)")(
      "json", po::bool_switch(&o.json), "print one JSON object");
  return tool_main("pktgen", argc, argv, desc, [&] { return run(o); });
}
