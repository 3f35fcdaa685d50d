// Services: container A -> VIP:80 of the last service, through the
// from-container tc program and the service's Maglev table.
#include "endpoint/paths.h"
#include "endpoint/worlds.h"

namespace bpfnet::bench {

namespace {

// New: SYNs, a new source port each run. Established: ACKs of a flow a SYN
// created.
Case lb_case(benchmark::State& s, bool fresh) {
  LbWorld& w = lb_world(s);
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

}  // namespace

const std::vector<Path> kLbPaths = {
    {"lb_new", BM_LbNew},
    {"lb_established", BM_LbEstablished},
};

}  // namespace bpfnet::bench
