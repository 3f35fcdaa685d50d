// A container's own traffic through the from-container tc program: to
// another container, to its gateway, across networks, ARP, and out through
// the uplink with masquerade.
#include "endpoint/paths.h"
#include "endpoint/worlds.h"

namespace bpfnet::bench {

namespace {

// A -> a remote server through the uplink: masquerade (a source port is
// allocated for each new flow).
Case masq_case(World& w, bool fresh, uint16_t sport) {
  Case c = tc_case(w, udp(kGwA, kMacA, kIpA, kRemote, sport, 53), kRedirect);
  c.new_flows = fresh;
  c.base_sport = sport;
  c.ct_fd = w.dp->map_fd(BPFNET_MAP_CT);
  c.flow_key = [](uint16_t sp) { return ct_key(kIpA, kRemote, sp, 53, kUdp); };
  if (!fresh) test_run(c.prog, c.frame, 1, 0);
  return c;
}

void BM_Forward(benchmark::State& s) {  // A -> B, same network
  measure(s, tc_case(world(s), udp(kGwA, kMacA, kIpA, kIpB, 33000, 53), kRedirect));
}

void BM_ToHost(benchmark::State& s) {  // A -> its gateway: passed to the host
  measure(s, tc_case(world(s), udp(kGwA, kMacA, kIpA, kGw, 33000, 53), kOk));
}

void BM_DropIsolation(benchmark::State& s) {  // A -> a container of network 2
  measure(s, tc_case(world(s), udp(kGwA, kMacA, kIpA, kOtherNet, 33000, 53), kShot));
}

void BM_ArpReply(benchmark::State& s) {  // A asks for its gateway
  Bytes arp = test::arp_frame({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kMacA, 1, kMacA, kIpA, {}, kGw);
  measure(s, tc_case(world(s), pad(arp), kRedirect));
}

void BM_MasqueradeNew(benchmark::State& s) { measure(s, masq_case(world(s), true, 40000)); }
void BM_MasqueradeEstablished(benchmark::State& s) { measure(s, masq_case(world(s), false, 1003)); }

}  // namespace

const std::vector<Path> kContainerPaths = {
    {"forward", BM_Forward},
    {"to_host", BM_ToHost},
    {"drop_isolation", BM_DropIsolation},
    {"arp_reply", BM_ArpReply},
};
const std::vector<Path> kMasqueradePaths = {
    {"masquerade_new", BM_MasqueradeNew},
    {"masquerade_established", BM_MasqueradeEstablished},
};

}  // namespace bpfnet::bench
