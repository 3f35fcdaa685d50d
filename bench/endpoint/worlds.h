// The datapaths bench/bench_endpoint's benchmarks run against, each built
// once and kept (a few hundred MB in all), so that benchmarks can run in any
// order (--benchmark_enable_random_interleaving, which scripts/bench.sh uses
// so that a machine whose speed drifts during the run does not bias one
// table size against another).
#pragma once

#include <cstdint>
#include <memory>

#include "datapath/datapath.h"
#include "endpoint/harness.h"

namespace bpfnet::bench {

// A datapath loaded with network 1 (172.18.0.0/16: A on loopback, B, and
// `fill` further endpoints), network 2 (one container), the uplink up0,
// `fill` published UDP ports (10000+i -> A:20000+i; the benchmarks use the
// last one) and `fill` conntrack entries (fill/2 flows of other clients).
struct World {
  std::unique_ptr<datapath::Datapath> dp;
  uint32_t up0 = 0;
  uint32_t fill = 0;

  explicit World(uint32_t fill_);
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
  static constexpr uint32_t kMaglevSize = 251;  // prime; every service's table
  std::unique_ptr<datapath::Datapath> dp;
  uint32_t target_vip = 0;

  LbWorld(uint32_t services, uint32_t backends);
};

// An overlay network (10.50.0.0/16, VNI 4097) with A on loopback here and
// `remotes` endpoints on other hosts (10.50.64.0+i, spread over 64 hosts at
// 192.0.2.100+i%64) in the tunnel map, and the collect-metadata VXLAN device
// bpfnet_vxlan attached, as bpfnetd has it with --store. The benchmarks send
// to the last remote endpoint.
struct OverlayWorld {
  static constexpr uint32_t kVni = 4097;
  std::unique_ptr<datapath::Datapath> dp;
  uint32_t target = 0;

  explicit OverlayWorld(uint32_t remotes);
};

// The world of a benchmark: fill = state.range(0) (World); services =
// state.range(0), backends = state.range(1) (LbWorld); remotes =
// state.range(0) (OverlayWorld).
World& world(benchmark::State& s);
LbWorld& lb_world(benchmark::State& s);
OverlayWorld& overlay_world(benchmark::State& s);

// A frame from container A, at its veth (the from-container tc program).
Case tc_case(const World& w, Bytes frame, uint32_t want);

// Moves the process into a network namespace of its own with the topology
// of tests/bpf/main.cc (the programs' FIB lookups need it); exits on failure.
void setup_netns();

}  // namespace bpfnet::bench
