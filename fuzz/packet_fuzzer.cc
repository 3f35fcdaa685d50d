// Frames through the BPF programs (BPF_PROG_TEST_RUN): random and mutated
// conversations (packet_input.h) of the BPF tests' frames, with IP options,
// fragments, truncation, bad lengths and whatever else mutation makes,
// through the from-container, to-container, tc uplink and XDP uplink
// programs of one packet world (packet_world.h), checking after every
// frame that no verdict breaks policy (packet_invariants.h). Needs root.
//
// BPFNET_FUZZ_WRITE_SEEDS=DIR writes the seed corpus into DIR and exits;
// BPFNET_FUZZ_TRACE=1 prints every frame's run (to read a reproducer).
#include <cstdlib>
#include <map>
#include <string>

#include "fuzz_check.h"
#include "packet_frames.h"
#include "packet_input.h"

namespace {

using namespace bpfnet::fuzz;

// BPFNET_FUZZ_KEEP_GOING=DIR: a broken invariant is not fatal but counted,
// and the first input that broke each is written to DIR/INVARIANT, so that a
// run shows every invariant the datapath breaks (and how often) rather than
// the first only; the counts are printed at exit (scripts/fuzz.sh reads
// them and fails when there are any). Every invariant alike: none is ever
// tolerated. Unset: the first broken invariant aborts (libFuzzer saves it).
const char* keep_going_dir() {
  static const char* dir = std::getenv("BPFNET_FUZZ_KEEP_GOING");
  return dir;
}

// Never freed: printed by an exit handler, after static destructors.
std::map<std::string, uint64_t>& broken_counts() {
  static auto* counts = new std::map<std::string, uint64_t>;
  return *counts;
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
  const std::string detail =
      fmt::format("{}; frame {}", v.detail, hex(run.in.data(), run.in.size()));
  if (!keep_going_dir()) broken(v.invariant, detail);
  if (broken_counts()[v.invariant]++ > 0) return;
  const std::string path = fmt::format("{}/{}", keep_going_dir(), v.invariant);
  if (FILE* file = std::fopen(path.c_str(), "wb")) {
    std::fwrite(input, 1, size, file);
    std::fclose(file);
  }
  fmt::print(stderr, "INVARIANT BROKEN (going on): {}\n  {}\n  input {} (saved as {})\n",
             v.invariant, detail, hex(input, size), path);
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

void print_broken_counts() {
  for (const auto& [invariant, count] : broken_counts())
    fmt::print(stderr, "invariant {} broken by {} frames\n", invariant, count);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  PacketWorld& world = PacketWorld::get();
  if (const char* dir = std::getenv("BPFNET_FUZZ_WRITE_SEEDS")) {
    write_packet_seeds(world, dir);
    std::exit(0);
  }
  if (keep_going_dir()) std::atexit(print_broken_counts);
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
