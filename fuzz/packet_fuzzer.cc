// Frames through the BPF programs (BPF_PROG_TEST_RUN): random and mutated
// conversations (packet_input.h) of the BPF tests' frames, with IP options,
// fragments, truncation, bad lengths and whatever else mutation makes,
// through the from-container, to-container, tc uplink and XDP uplink
// programs of one packet world (packet_world.h), checking after every
// frame that no verdict breaks policy (packet_invariants.h). Needs root.
//
// BPFNET_FUZZ_WRITE_SEEDS=DIR writes the seed corpus into DIR and exits,
// BPFNET_FUZZ_WRITE_REPRODUCERS=DIR the inputs of fuzz/crashes/packet-*;
// BPFNET_FUZZ_TRACE=1 prints every frame's run (to read a reproducer).
#include <array>
#include <cstdlib>
#include <map>
#include <string>

#include "fuzz_check.h"
#include "packet_frames.h"
#include "packet_input.h"

namespace {

using namespace bpfnet::fuzz;

// Policy main's datapath does not meet yet: issue 12's open items 1 (ports
// published on 127.0.0.1 reached from interfaces; martians), 2 (service
// VIPs reached from other networks) and 3 (ICMP errors across networks;
// direct access to container addresses), fixed in bpf/ by another part of
// issue 12. Their violations are counted and the first of each shown,
// rather than fatal, so that the rest is fuzzed meanwhile; the reproducers
// are in fuzz/crashes/. BPFNET_FUZZ_STRICT=1 makes them fatal: empty this
// list once bpf/ meets them.
constexpr std::array<std::string_view, 5> kOpenOnMain = {"loopback-publish", "martian", "vip-scope",
                                                         "icmp-error-scope", "direct-access"};

// Never freed: printed by an exit handler, after static destructors.
std::map<std::string, uint64_t>& open_counts() {
  static auto* counts = new std::map<std::string, uint64_t>;
  return *counts;
}

bool tolerated(const std::string& invariant) {
  static const bool strict = std::getenv("BPFNET_FUZZ_STRICT") != nullptr;
  if (strict) return false;
  for (std::string_view open : kOpenOnMain)
    if (open == invariant) return true;
  return false;
}

// What libFuzzer sees of the BPF programs: their code is not instrumented,
// so each frame's outcome (program, verdict, what came out, where it went)
// sets one of these extra coverage counters, and inputs reaching a new
// outcome are kept.
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t g_outcomes[1 << 14];

void count_outcome(const PacketWorld& world, const Run& run, size_t frame) {
  const auto out = ipv4_view(run.out);
  const auto in = ipv4_view(run.in);
  uint32_t where = 0;  // the output's destination: none, an endpoint, the host, elsewhere
  if (out) where = world.endpoint_by_ip(out->daddr) ? 1 : world.is_host_address(out->daddr) ? 2 : 3;
  uint32_t key = uint32_t(run.program);
  key = key * 8 + (run.verdict & 7);
  key = key * 2 + (run.in != run.out);
  key = key * 4 + where;
  key = key * 4 + (!in ? 0 : in->icmp_error ? 1 : in->fragment ? 2 : 3);
  key = key * 8 + uint32_t(frame);
  key = key * 16 + (out ? out->proto % 16 : 0);
  uint8_t& counter = g_outcomes[key % sizeof(g_outcomes)];
  if (counter < 255) ++counter;
}

std::string hex(const uint8_t* data, size_t size) {
  std::string out;
  for (size_t i = 0; i < size; ++i) out += fmt::format("{:02x}", data[i]);
  return out;
}

void report(const Violation& v, const Run& run, const uint8_t* input, size_t size) {
  if (!tolerated(v.invariant))
    broken(v.invariant, fmt::format("{}; frame {}", v.detail, hex(run.in.data(), run.in.size())));
  if (open_counts()[v.invariant]++ == 0)
    fmt::print(stderr, "open item (issue 12), not fatal: {}: {}\n  input {}\n", v.invariant,
               v.detail, hex(input, size));
}

const char* program_name(Program program) {
  switch (program) {
    case Program::kFromContainer:
      return "from-container";
    case Program::kToContainer:
      return "to-container";
    case Program::kTcUplink:
      return "tc-uplink";
    case Program::kXdpUplink:
      return "xdp-uplink";
  }
  return "?";
}

void trace(const Run& run) {
  static const bool on = std::getenv("BPFNET_FUZZ_TRACE") != nullptr;
  if (!on) return;
  fmt::print(stderr, "{} {}: verdict {}\n  in  {}\n  out {}\n", program_name(run.program),
             run.endpoint ? run.endpoint->container : "", run.verdict,
             hex(run.in.data(), run.in.size()), hex(run.out.data(), run.out.size()));
}

void print_open_counts() {
  for (const auto& [invariant, count] : open_counts())
    fmt::print(stderr, "open item (issue 12): {} broken by {} frames\n", invariant, count);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  PacketWorld& world = PacketWorld::get();
  if (const char* dir = std::getenv("BPFNET_FUZZ_WRITE_SEEDS")) {
    write_packet_seeds(world, dir);
    std::exit(0);
  }
  if (const char* dir = std::getenv("BPFNET_FUZZ_WRITE_REPRODUCERS")) {
    write_packet_reproducers(world, dir);
    std::exit(0);
  }
  std::atexit(print_open_counts);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PacketWorld& world = PacketWorld::get();
  world.forget_flows();
  std::string_view input = as_text(data, size);
  std::optional<Run> previous;
  for (size_t i = 0; i < kMaxFrames; ++i) {
    std::optional<Run> run = next_run(world, input, previous);
    if (!run) break;
    if (run->in.empty()) continue;
    run->flows_before = world.conntrack_pairs();
    if (!execute(world, *run)) continue;
    trace(*run);
    count_outcome(world, *run, i);
    for (const Violation& v : check_run(world, *run)) report(v, *run, data, size);
    if (!dropped(*run)) previous = std::move(run);
  }
  return 0;
}
