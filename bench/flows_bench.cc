// `bpfnetctl flows` at scale: 262,144 flows (524,288 conntrack entries) in a
// real conntrack map, read through the datapath layer, joined with a state of
// 256 containers by core and written as the daemon's rows result, then
// decoded and printed as bpfnetctl does (table, JSON lines). Prints the time
// of each phase, best of --runs. Root (loads the BPF objects, unpinned).
//
//   sudo build/bench/flows_bench [--flows N] [--runs R]
//
// With --fill-pinned PATH it only fills the conntrack map pinned at PATH (a
// running bpfnetd's bpffs/bpfnet_ct) with N such flows, to container
// addresses --server-base A.B.C.D + 0 .. --servers - 1, and exits: the
// end-to-end timing of `bpfnetctl flows` (scripts/bench_flows.sh).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bpfnet_abi.h"
#include "core/flows.h"
#include "core/flows_wire.h"
#include "ctl/flows_table.h"
#include "datapath/conntrack.h"
#include "datapath/datapath.h"

namespace {

using namespace bpfnet;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kContainers = 256;
const uint32_t kHost = 0xc0000201;     // 192.0.2.1
const uint32_t kSubnet = 0xac120000;   // 172.18.0.0/16
const uint32_t kClients = 0xc6336400;  // 198.51.100.0, then on

core::State state_of_containers() {
  core::State s;
  core::Network net;
  net.id = std::string(64, 'a');
  net.name = "front";
  s.networks.push_back(net);
  for (uint32_t i = 0; i < kContainers; ++i) {
    core::Endpoint ep;
    ep.id = fmt::format("{:064x}", i + 1);
    ep.network_id = net.id;
    ep.container = fmt::format("web{}", i);
    ep.ip = core::Ipv4{kSubnet + 2 + i};
    s.endpoints.push_back(ep);
  }
  return s;
}

// Flow i: client kClients + i / 50000 : 1024 + i % 50000 -> host:8000+c,
// published to container c:80 (c = i % servers, address server_base + c),
// established with counters.
void fill(int fd, uint32_t flows, uint32_t server_base = kSubnet + 2,
          uint32_t servers = kContainers) {
  constexpr uint32_t kBatch = 8192;
  std::vector<bpfnet_ct_key> keys;
  std::vector<bpfnet_ct_value> values;
  for (uint32_t i = 0; i < flows; ++i) {
    const uint32_t c = i % servers;
    bpfnet_ct_key f{}, r{};
    f.saddr = htonl(kClients + i / 50000);
    f.daddr = htonl(kHost);
    f.sport = htons(uint16_t(1024 + i % 50000));
    f.dport = htons(uint16_t(8000 + c));
    f.proto = IPPROTO_TCP;
    r.saddr = htonl(server_base + c);
    r.daddr = f.saddr;
    r.sport = htons(80);
    r.dport = f.sport;
    r.proto = IPPROTO_TCP;
    bpfnet_ct_value fv{}, rv{};
    fv.expires_ns = rv.expires_ns = ~0ULL >> 1;
    fv.state = rv.state = BPFNET_CT_ESTABLISHED;
    fv.saddr = f.saddr;
    fv.daddr = r.saddr;
    fv.sport = f.sport;
    fv.dport = r.sport;
    fv.flags = BPFNET_CT_F_DNAT;
    fv.peer = r;
    fv.packets = 10 + i % 7;
    fv.bytes = 1000 + i;
    rv.saddr = f.daddr;
    rv.daddr = f.saddr;
    rv.sport = f.dport;
    rv.dport = f.sport;
    rv.flags = BPFNET_CT_F_DNAT | BPFNET_CT_F_REPLY;
    rv.peer = f;
    rv.packets = 8;
    rv.bytes = 5000 + i;
    keys.push_back(f);
    values.push_back(fv);
    keys.push_back(r);
    values.push_back(rv);
    if (keys.size() >= kBatch || i + 1 == flows) {
      uint32_t count = uint32_t(keys.size());
      if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, nullptr) != 0)
        throw std::runtime_error(fmt::format("fill conntrack: {}", std::strerror(errno)));
      keys.clear();
      values.clear();
    }
  }
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = 262144, runs = 5, servers = kContainers, server_base = kSubnet + 2;
  std::string pinned;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--flows") flows = uint32_t(std::strtoul(argv[i + 1], nullptr, 10));
    if (flag == "--runs") runs = uint32_t(std::strtoul(argv[i + 1], nullptr, 10));
    if (flag == "--fill-pinned") pinned = argv[i + 1];
    if (flag == "--servers") servers = uint32_t(std::strtoul(argv[i + 1], nullptr, 10));
    if (flag == "--server-base") {
      in_addr a{};
      if (inet_pton(AF_INET, argv[i + 1], &a) != 1) {
        fmt::print(stderr, "flows_bench: --server-base: not an IPv4 address: {}\n", argv[i + 1]);
        return 2;
      }
      server_base = ntohl(a.s_addr);
    }
  }
  if (!pinned.empty()) {
    const int fd = bpf_obj_get(pinned.c_str());
    if (fd < 0 || servers == 0) {
      fmt::print(stderr, "flows_bench: {}: {}\n", pinned,
                 fd < 0 ? std::strerror(errno) : "no servers");
      return 1;
    }
    fill(fd, flows, server_base, servers);
    fmt::print("filled {} flows ({} entries) into {}\n", flows, 2 * flows, pinned);
    return 0;
  }
  datapath::Datapath dp(datapath::DatapathOptions{"", 2 * flows});
  fill(dp.map_fd(BPFNET_MAP_CT), flows);
  const core::State state = state_of_containers();
  double best_dump = 1e9, best_join = 1e9, best_json = 1e9, best_total = 1e9;
  double best_decode = 1e9, best_table = 1e9, best_lines = 1e9;
  size_t rows = 0, bytes = 0, table_bytes = 0;
  for (uint32_t run = 0; run < runs; ++run) {
    const auto t0 = Clock::now();
    const std::vector<core::FlowHalf> halves = datapath::read_flow_halves(dp);
    const double dump = ms_since(t0);
    auto t1 = Clock::now();
    const auto joined = core::join_flows(halves, state, core::FlowFilter{}, 1'000'000'000'000ULL);
    const double join = ms_since(t1);
    t1 = Clock::now();
    const std::string json = core::flows_rows_text(joined);
    const double render = ms_since(t1);
    best_total = std::min(best_total, ms_since(t0));
    // bpfnetctl's side: the result decoded, then printed as the table or
    // as JSON lines (-o json).
    t1 = Clock::now();
    const core::DecodedFlows decoded = ctl::decode_flows(json);
    best_decode = std::min(best_decode, ms_since(t1));
    t1 = Clock::now();
    table_bytes = ctl::flows_table(decoded.rows).size();
    best_table = std::min(best_table, ms_since(t1));
    t1 = Clock::now();
    (void)ctl::flows_json_lines(decoded.rows).size();
    best_lines = std::min(best_lines, ms_since(t1));
    best_dump = std::min(best_dump, dump);
    best_join = std::min(best_join, join);
    best_json = std::min(best_json, render);
    rows = joined.size();
    bytes = json.size();
  }
  fmt::print(
      "flows {} (entries {}), rows {}, result {} bytes; best of {}: bpfnetd: dump {:.0f} ms, join "
      "{:.0f} ms, rows text {:.0f} ms, total {:.0f} ms; bpfnetctl: decode {:.0f} ms, table {:.0f} "
      "ms ({} bytes), JSON lines {:.0f} ms\n",
      flows, 2 * flows, rows, bytes, runs, best_dump, best_join, best_json, best_total, best_decode,
      best_table, table_bytes, best_lines);
  return rows == flows ? 0 : 1;
}
