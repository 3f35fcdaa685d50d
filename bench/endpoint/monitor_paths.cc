// The monitor's cost (issue 14): established published-port forwarding and a
// drop flood with no monitor, with a drop monitor attached (idle: forwarded
// packets are not its events), and with every forwarded packet traced or
// every drop an event. state.range(1) ("monitor"): 0 none, 1 drop monitor,
// 2 drop + trace monitor tracing 1 packet in 100. The ring is not read here,
// so under the flood (events past the rate, or a full ring) the figure is
// that of the rate limit skipping and counting events, as in a real flood
// after its first second.
#include "datapath/events.h"
#include "endpoint/paths.h"
#include "endpoint/worlds.h"

namespace bpfnet::bench {

namespace {

using datapath::EventType;

// Sets bpfnet_monitor for the run and clears it after (worlds are shared).
class MonitorFor {
 public:
  MonitorFor(benchmark::State& s, World& w) : w_(w) {
    datapath::MonitorSettings m;
    if (s.range(1) >= 1) m.types.insert(EventType::kDrop);
    if (s.range(1) >= 2) {
      m.types.insert(EventType::kTrace);
      m.trace_every = 100;
    }
    datapath::set_monitor(*w_.dp, m);
  }
  ~MonitorFor() { datapath::set_monitor(*w_.dp, {}); }
  MonitorFor(const MonitorFor&) = delete;
  MonitorFor& operator=(const MonitorFor&) = delete;

 private:
  World& w_;
};

Case established_dnat(World& w, bool xdp, uint16_t sport) {
  Case c;
  c.xdp = xdp;
  c.prog = xdp ? w.dp->xdp_uplink_prog_fd() : w.dp->tc_uplink_prog_fd();
  c.ifindex = xdp ? 0 : w.up0;
  c.frame = udp(kUp0, kClientMac, kClient, kHost, sport, w.last_port());
  c.want = xdp ? XDP_REDIRECT_ : kRedirect;
  test_run(c.prog, c.frame, 1, c.ifindex);  // the flow exists
  return c;
}

void BM_MonitorXdpEstablished(benchmark::State& s) {
  World& w = world(s);
  MonitorFor monitor(s, w);
  measure(s, established_dnat(w, true, 3000));
}

void BM_MonitorTcEstablished(benchmark::State& s) {
  World& w = world(s);
  MonitorFor monitor(s, w);
  measure(s, established_dnat(w, false, 3001));
}

// A's packet with a source address not its own: invalid-source-ip.
void BM_MonitorDropFlood(benchmark::State& s) {
  World& w = world(s);
  MonitorFor monitor(s, w);
  measure(s, tc_case(w, udp(kGwA, kMacA, ip4("10.9.9.9"), kIpB, 4000, 80), kShot));
}

}  // namespace

const std::vector<Path> kMonitorPaths = {
    {"monitor_xdp_established", BM_MonitorXdpEstablished},
    {"monitor_tc_established", BM_MonitorTcEstablished},
    {"monitor_drop_flood", BM_MonitorDropFlood},
};

}  // namespace bpfnet::bench
