// bench/xdpcount: receive-side counter. Attaches bpf/xdpcount.bpf.c to an
// interface (native or generic XDP, or tc ingress, through a BPF link, so it
// goes away with the process), counts packets and bytes per CPU, drops or
// passes them, and prints the delivered rate every --interval and a summary
// at the end (--duration elapsed, SIGINT or SIGTERM).
//
//   xdpcount --iface eth0 [--netns NAME] [--mode native|generic|tc]
//            [--action drop|pass|redirect --redirect-to IFACE] [--interval 1] [--duration 0]
//            [--json]
//            [--capture 16] [--ready-file PATH]
//   xdpcount --iface X --set-gro on|off       (GRO toggle, then exit)
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/core.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "bench_xdpcount.skel.h"
#include "tool_util.h"

namespace po = boost::program_options;
using namespace bpfnet::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string iface, netns, mode = "native", action = "drop", ready_file, set_gro, redirect_to;
  double interval = 1.0, duration = 0;
  uint32_t capture = 0;
  bool json = false, quiet = false;
};

struct Counters {
  uint64_t packets = 0, bytes = 0;
};

constexpr uint32_t kCaptureLen = 256;
struct Capture {
  uint32_t len, caplen;
  uint8_t data[kCaptureLen];
};

Counters read_counts(int map_fd, int ncpus) {
  std::vector<Counters> per(static_cast<size_t>(ncpus));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(map_fd, &key, per.data()) != 0)
    throw std::runtime_error(fmt::format("read counters: {}", std::strerror(errno)));
  Counters t;
  for (auto& c : per) {
    t.packets += c.packets;
    t.bytes += c.bytes;
  }
  return t;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

int run(const Options& o) {
  if (!o.netns.empty()) enter_netns(o.netns);
  if (!o.set_gro.empty()) {
    if (o.set_gro != "on" && o.set_gro != "off") throw std::runtime_error("--set-gro is on or off");
    set_gro(o.iface, o.set_gro == "on");
    return 0;
  }
  int ifindex = ifindex_of(o.iface);
  uint32_t flags = 0;
  const bool tc = o.mode == "tc";
  if (o.mode == "native")
    flags = XDP_FLAGS_DRV_MODE;
  else if (o.mode == "generic")
    flags = XDP_FLAGS_SKB_MODE;
  else if (!tc)
    throw std::runtime_error("--mode is native, generic or tc");
  if (o.action != "drop" && o.action != "pass" && o.action != "redirect")
    throw std::runtime_error("--action is drop, pass or redirect");
  if ((o.action == "redirect") != !o.redirect_to.empty())
    throw std::runtime_error("--action redirect goes with --redirect-to IFACE");
  if (tc && o.capture) throw std::runtime_error("--mode tc does not capture");
  int redirect_ifindex = o.redirect_to.empty() ? 0 : ifindex_of(o.redirect_to);

  libbpf_set_print([](enum libbpf_print_level lvl, const char* fmt, va_list ap) {
    return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
  });
  bench_xdpcount* skel = bench_xdpcount__open();
  if (!skel) throw std::runtime_error("open xdpcount BPF object");
  skel->rodata->verdict = o.action == "drop" ? XDP_DROP : XDP_PASS;
  skel->rodata->capture_on = o.capture ? 1 : 0;
  skel->rodata->redirect_ifindex = static_cast<uint32_t>(redirect_ifindex);
  bpf_map__set_max_entries(skel->maps.captures, o.capture ? o.capture : 1);
  if (bench_xdpcount__load(skel) != 0) {
    bench_xdpcount__destroy(skel);
    throw std::runtime_error("load xdpcount BPF program");
  }
  // tc: a filter on the clsact qdisc's ingress (created if missing), taken
  // off again at exit (the libbpf here predates tcx links).
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, tc_opts, .prog_fd = bpf_program__fd(skel->progs.bench_tccount),
              .handle = 1, .priority = 1);
  int link_fd = -1;
  if (tc) {
    int err = bpf_tc_hook_create(&hook);
    if (!err || err == -EEXIST) err = bpf_tc_attach(&hook, &tc_opts);
    if (err) {
      bench_xdpcount__destroy(skel);
      throw std::runtime_error(fmt::format("attach tc to {}: {}", o.iface, std::strerror(-err)));
    }
  } else {
    LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = flags);
    link_fd =
        bpf_link_create(bpf_program__fd(skel->progs.bench_xdpcount), ifindex, BPF_XDP, &lopts);
    if (link_fd < 0) {
      int e = errno;
      bench_xdpcount__destroy(skel);
      throw std::runtime_error(
          fmt::format("attach XDP ({}) to {}: {}", o.mode, o.iface, std::strerror(e)));
    }
  }
  int ncpus = libbpf_num_possible_cpus();
  int counts_fd = bpf_map__fd(skel->maps.counts);
  if (!o.ready_file.empty()) std::ofstream(o.ready_file) << getpid() << "\n";
  if (!o.quiet)
    std::cerr << fmt::format("xdpcount: counting on {} ({}, {})\n", o.iface, o.mode, o.action);

  // Poll every 10 ms to time the active window (first to last packet seen);
  // print every --interval.
  const auto start = Clock::now();
  auto last_print = start;
  Counters last_printed{}, prev{};
  Clock::time_point first_seen{}, last_change{};
  bool seen = false;
  while (!stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto now = Clock::now();
    Counters c = read_counts(counts_fd, ncpus);
    if (c.packets != prev.packets) {
      if (!seen) first_seen = now;
      seen = true;
      last_change = now;
      prev = c;
    }
    double since = std::chrono::duration<double>(now - last_print).count();
    if (o.interval > 0 && since >= o.interval) {
      if (!o.quiet)
        std::cerr << fmt::format("{:8.2f} s {:12.0f} pps {:10.1f} Mbit/s\n",
                                 std::chrono::duration<double>(now - start).count(),
                                 (c.packets - last_printed.packets) / since,
                                 (c.bytes - last_printed.bytes) * 8 / since / 1e6);
      last_printed = c;
      last_print = now;
    }
    if (o.duration > 0 && std::chrono::duration<double>(now - start).count() >= o.duration) break;
  }
  Counters total = read_counts(counts_fd, ncpus);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  // The window is known to +-10 ms (the poll period); with fewer than two
  // polls seeing traffic there is no window.
  double active = seen ? std::chrono::duration<double>(last_change - first_seen).count() : 0;

  std::vector<nlohmann::json> frames;
  if (o.capture) {
    int qfd = bpf_map__fd(skel->maps.captures);
    Capture cap;
    while (bpf_map_lookup_and_delete_elem(qfd, nullptr, &cap) == 0)
      frames.push_back(
          {{"len", cap.len}, {"hex", hex(cap.data, std::min(cap.caplen, kCaptureLen))}});
  }
  if (tc) {
    tc_opts.prog_fd = tc_opts.flags = tc_opts.prog_id = 0;
    bpf_tc_detach(&hook, &tc_opts);
  } else {
    close(link_fd);
  }
  bench_xdpcount__destroy(skel);

  double pps = active > 0 ? total.packets / active : 0;
  if (o.json) {
    nlohmann::json j = {{"packets", total.packets}, {"bytes", total.bytes}, {"seconds", secs},
                        {"active_seconds", active}, {"pps", pps},           {"iface", o.iface},
                        {"mode", o.mode},           {"action", o.action}};
    if (o.capture) j["frames"] = frames;
    std::cout << j.dump() << "\n";
  } else {
    fmt::print(
        "delivered {} packets, {} bytes in {:.3f} s; {:.0f} pps over the {:.3f} s active window\n",
        total.packets, total.bytes, secs, pps, active);
    for (auto& f : frames)
      fmt::print("frame {} {}\n", f["len"].get<uint32_t>(), f["hex"].get<std::string>());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc(
      "xdpcount: count (and drop or pass) packets arriving on an interface with XDP (root)");
  desc.add_options()("help,h", "this help")("iface,i", po::value(&o.iface)->required(),
                                            "interface")(
      "netns", po::value(&o.netns), "enter this network namespace first (name or path)")(
      "mode", po::value(&o.mode)->default_value("native"),
      "native (driver) or generic (skb) XDP, or tc (ingress, an skb as a container's stack "
      "gets it); generic and tc also see frames arriving by bpf_redirect_peer")(
      "action", po::value(&o.action)->default_value("drop"),
      "drop, pass, or redirect (after counting: out of --redirect-to with XDP; with tc, "
      "bpf_redirect_peer into the peer of --redirect-to, a veth)")(
      "redirect-to", po::value(&o.redirect_to), "interface (same namespace) to redirect to")(
      "interval", po::value(&o.interval)->default_value(1.0),
      "seconds between rate lines (0: none)")(
      "duration,d", po::value(&o.duration)->default_value(0),
      "stop after this many seconds (0: at SIGINT/SIGTERM)")(
      "capture", po::value(&o.capture)->default_value(0),
      "keep the first N frames (256 bytes each) and print them")(
      "ready-file", po::value(&o.ready_file), "write this file once attached")(
      "quiet,q", po::bool_switch(&o.quiet), "no progress lines on stderr")(
      "set-gro", po::value(&o.set_gro),
      "only set GRO on|off on --iface (like ethtool -K gro) and exit")(
      "json", po::bool_switch(&o.json), "print the summary as one JSON object");
  return tool_main("xdpcount", argc, argv, desc, [&] { return run(o); });
}
