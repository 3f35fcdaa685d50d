#include "packet_input.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>

#include "packet_frames.h"

namespace bpfnet::fuzz {
namespace {

constexpr uint32_t kRouter = (192u << 24) | (0u << 16) | (2u << 8) | 254u;  // 192.0.2.254
// Room for what a program could add, and then some: more is a violation.
constexpr size_t kOutRoom = 4096;

size_t program_count(const PacketWorld& world) { return 2 * world.endpoints().size() + 2; }

// Where a frame that went on to `daddr` gets its answer from.
Run answering_side(const PacketWorld& world, uint32_t daddr, uint8_t kind) {
  Run run;
  if (const EndpointFacts* ep = world.endpoint_by_ip(daddr)) {
    run.program = Program::kFromContainer;
    run.endpoint = ep;
  } else {
    run.program = (kind & kFromXdp) ? Program::kXdpUplink : Program::kTcUplink;
  }
  return run;
}

std::optional<Bytes> derive(const PacketWorld& world, const Run& previous, const Run& side,
                            uint8_t kind) {
  auto ip = ipv4_view(previous.out);
  if (!ip) return std::nullopt;
  const bool container = side.endpoint != nullptr;
  const MacBytes& src = container ? side.endpoint->mac : world.router_mac();
  const MacBytes& dst = container ? side.endpoint->gw_mac : world.uplink_mac();
  if ((kind >> 6) == (kKindReply >> 6)) return reply_to(previous.out, src, dst, kind);
  const uint32_t sender = !container && (kind & kFromRouter) ? kRouter : ip->daddr;
  return icmp_error_about(previous.out, src, dst, sender, kind);
}

// A raw frame of KIND >> 6 == 3 is made to come from where it runs: a
// container's own MAC and address (anti-spoofing would drop it otherwise),
// or the router's MAC to the uplink's. The rest of it is left as it is.
void as_its_sender(const PacketWorld& world, Run& run) {
  Bytes& f = run.in;
  if (f.size() < 14) return;
  const bool container = run.endpoint != nullptr;
  const MacBytes& src = container ? run.endpoint->mac : world.router_mac();
  const MacBytes& dst = container ? run.endpoint->gw_mac : world.uplink_mac();
  if (run.program != Program::kToContainer) {
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(src.begin(), src.end(), f.begin() + 6);
  }
  auto ip = ipv4_view(f);
  if (!ip || run.program != Program::kFromContainer) return;
  for (int i = 0; i < 4; ++i) f[26 + i] = uint8_t(run.endpoint->ip >> (24 - 8 * i));
  set_header_checksum(f, *ip);
}

}  // namespace

uint8_t from_container_kind(const PacketWorld&, size_t endpoint) { return uint8_t(endpoint); }
uint8_t to_container_kind(const PacketWorld& world, size_t endpoint) {
  return uint8_t(world.endpoints().size() + endpoint);
}
uint8_t tc_uplink_kind(const PacketWorld& world) { return uint8_t(program_count(world) - 2); }
uint8_t xdp_uplink_kind(const PacketWorld& world) { return uint8_t(program_count(world) - 1); }

void append_raw(Bytes& input, uint8_t kind, const Bytes& frame) {
  input.push_back(kind);
  input.push_back(uint8_t(frame.size() >> 8));
  input.push_back(uint8_t(frame.size()));
  input.insert(input.end(), frame.begin(), frame.end());
}

void append_derived(Bytes& input, uint8_t kind) { input.push_back(kind); }

std::optional<Run> next_run(const PacketWorld& world, std::string_view& input,
                            const std::optional<Run>& previous) {
  if (input.empty()) return std::nullopt;
  const uint8_t kind = uint8_t(input[0]);
  input.remove_prefix(1);
  const uint8_t type = kind >> 6;
  if (type == 1 || type == 2) {
    if (!previous) return Run{};
    auto daddr = ipv4_view(previous->out);
    if (!daddr) return Run{};
    Run run = answering_side(world, daddr->daddr, kind);
    run.in = derive(world, *previous, run, kind).value_or(Bytes{});
    return run;
  }
  if (input.size() < 2) {
    input = {};
    return std::nullopt;
  }
  const size_t len =
      std::min<size_t>(size_t(uint8_t(input[0])) << 8 | uint8_t(input[1]), input.size() - 2);
  Run run;
  run.in.assign(input.begin() + 2, input.begin() + 2 + long(len));
  input.remove_prefix(2 + len);
  const size_t program = (kind & 0x3f) % program_count(world);
  const size_t n = world.endpoints().size();
  if (program < n) {
    run.program = Program::kFromContainer;
    run.endpoint = &world.endpoints()[program];
  } else if (program < 2 * n) {
    run.program = Program::kToContainer;
    run.endpoint = &world.endpoints()[program - n];
  } else {
    run.program = program == 2 * n ? Program::kTcUplink : Program::kXdpUplink;
  }
  if (type == 3) as_its_sender(world, run);
  return run;
}

bool execute(PacketWorld& world, Run& run) {
  datapath::Datapath& dp = world.datapath();
  int fd = 0;
  uint32_t ifindex = 0;  // tc: the device the skb is on; XDP: none (loopback)
  switch (run.program) {
    case Program::kFromContainer:
      fd = dp.from_container_prog_fd();
      ifindex = run.endpoint->ifindex;
      break;
    case Program::kToContainer:
      fd = dp.to_container_prog_fd();
      ifindex = run.endpoint->ifindex;
      break;
    case Program::kTcUplink:
      fd = dp.tc_uplink_prog_fd();
      ifindex = world.uplink_ifindex();
      break;
    case Program::kXdpUplink:
      fd = dp.xdp_uplink_prog_fd();
      break;
  }
  run.out.assign(run.in.size() + kOutRoom, 0);
  struct __sk_buff ctx {};
  ctx.ifindex = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = run.in.data(), .data_out = run.out.data(),
              .data_size_in = uint32_t(run.in.size()), .data_size_out = uint32_t(run.out.size()),
              .ctx_in = ifindex ? &ctx : nullptr,
              .ctx_size_in = ifindex ? uint32_t(sizeof(ctx)) : 0u, .repeat = 1);
  if (bpf_prog_test_run_opts(fd, &opts) != 0) {
    // ENOSPC: the program made the frame longer than the room given, which
    // the length invariant reports; anything else is the kernel refusing the
    // input frame itself.
    if (errno != ENOSPC) return false;
    opts.data_size_out = uint32_t(run.out.size()) + 1;
  }
  run.verdict = opts.retval;
  run.out.resize(opts.data_size_out);
  return true;
}

}  // namespace bpfnet::fuzz
