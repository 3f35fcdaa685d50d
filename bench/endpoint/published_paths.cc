// Published ports: a client's packet to host:port DNATed at the uplink (XDP
// or tc-only), and the container's reply, reverse-NATed at its veth.
#include "endpoint/paths.h"
#include "endpoint/worlds.h"

namespace bpfnet::bench {

namespace {

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

}  // namespace

const std::vector<Path> kPublishedPaths = {
    {"xdp_dnat_new", BM_XdpDnatNew}, {"xdp_dnat_established", BM_XdpDnatEstablished},
    {"tc_dnat_new", BM_TcDnatNew},   {"tc_dnat_established", BM_TcDnatEstablished},
    {"reverse_nat", BM_ReverseNat},
};

}  // namespace bpfnet::bench
