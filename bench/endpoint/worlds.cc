#include "endpoint/worlds.h"

#include <bpf/bpf.h>
#include <net/if.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace bpfnet::bench {

namespace {

template <typename W, typename... A>
W& cached(A... args) {
  static std::map<std::tuple<A...>, std::unique_ptr<W>> worlds;
  auto& w = worlds[std::tuple<A...>{args...}];
  if (!w) w = std::make_unique<W>(args...);
  return *w;
}

}  // namespace

World::World(uint32_t fill_) : fill(fill_) {
  dp = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
  up0 = if_nametoindex("up0");
  if (!up0) throw std::runtime_error("no up0 (namespace setup)");
  datapath::MapContents want;
  want.networks[1] = {1,   ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE,
                      1500};
  want.networks[2] = {2, ip4("172.30.0.0"), 16, ip4("172.30.0.1"), BPFNET_NET_F_ICC, 1500};
  want.add_endpoint({kLo, 1, kIpA, kMacA, kGwA});
  want.add_endpoint({kIfB, 1, kIpB, kMacB, kGwB});
  want.add_endpoint({kIfOther, 2, kOtherNet, kMacB, kGwB});
  for (uint32_t i = 0; i < fill; ++i)
    want.add_endpoint({1000 + i, 1, ip4("172.18.64.0") + i, kMacB, kGwB});
  want.host_addrs[kHost] = 0;
  want.host_addrs[kGw] = 0;
  want.uplinks[up0] = datapath::UplinkEntry{up0, kHost, kUp0};
  for (uint32_t i = 0; i < fill; ++i)
    want.add_portmap(
        {0, static_cast<uint16_t>(10000 + i), kUdp, kIpA, static_cast<uint16_t>(20000 + i)});
  dp->apply(datapath::diff(dp->read_maps(), want));
  int ct = dp->map_fd(BPFNET_MAP_CT);
  for (uint32_t i = 0; i < fill / 2; ++i) {
    bpfnet_ct_key f = ct_key(ip4("203.0.113.0") + i / 60000, kHost,
                             static_cast<uint16_t>(1024 + i % 60000), 10000, kUdp);
    bpfnet_ct_key r{};
    r.saddr = htonl(kIpA);
    r.daddr = f.saddr;
    r.sport = htons(20000);
    r.dport = f.sport;
    r.proto = kUdp;
    bpfnet_ct_value fv{}, rv{};
    fv.expires_ns = rv.expires_ns = ~0ULL >> 1;
    fv.saddr = f.saddr;
    fv.daddr = r.saddr;
    fv.sport = f.sport;
    fv.dport = r.sport;
    fv.flags = BPFNET_CT_F_DNAT;
    fv.peer = r;
    rv.saddr = f.daddr;
    rv.daddr = f.saddr;
    rv.sport = f.dport;
    rv.dport = f.sport;
    rv.flags = BPFNET_CT_F_DNAT | BPFNET_CT_F_REPLY;
    rv.peer = f;
    if (bpf_map_update_elem(ct, &f, &fv, BPF_ANY) || bpf_map_update_elem(ct, &r, &rv, BPF_ANY))
      throw std::runtime_error("fill conntrack");
  }
}

LbWorld::LbWorld(uint32_t services, uint32_t backends) {
  dp = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
  datapath::MapContents want;
  want.networks[1] = {1, ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC, 1500};
  want.add_endpoint({kLo, 1, kIpA, kMacA, kGwA});
  for (uint32_t b = 0; b < backends; ++b) {
    uint32_t ip = ip4("172.18.2.0") + b;
    want.add_endpoint({2000 + b, 1, ip, kMacB, kGwB});
    want.backends[b + 1] = ip;
  }
  uint32_t tables = std::min<uint32_t>(services, BPFNET_MAX_SERVICE_TABLES);
  for (uint32_t i = 0; i < services; ++i) {
    uint32_t vip = ip4("172.18.128.0") + i;
    want.vips[vip] = 1;
    want.add_service(datapath::ServiceEntry{vip, 80, kTcp, i % tables, kMaglevSize, 0});
  }
  target_vip = ip4("172.18.128.0") + services - 1;
  dp->apply(datapath::diff(dp->read_maps(), want));
  for (uint32_t t = 0; t < tables; ++t) {
    std::vector<std::pair<uint32_t, uint32_t>> slots;
    slots.reserve(kMaglevSize);
    for (uint32_t s = 0; s < kMaglevSize; ++s) slots.emplace_back(s, 1 + (s + t) % backends);
    dp->write_maglev(t, kMaglevSize, slots);
  }
}

OverlayWorld::OverlayWorld(uint32_t remotes) {
  dp = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{});
  if (!if_nametoindex("bpfnet_vxlan") &&
      std::system("ip link add bpfnet_vxlan type vxlan external dstport 4789") != 0)
    throw std::runtime_error("cannot create the VXLAN device bpfnet_vxlan");
  datapath::MapContents want;
  want.networks[1] = {
      1,   ip4("10.50.0.0"), 16, ip4("10.50.0.1"), BPFNET_NET_F_ICC | BPFNET_NET_F_OVERLAY, 1450,
      kVni};
  want.add_endpoint({kLo, 1, ip4("10.50.0.2"), kMacA, kGwA});
  for (uint32_t i = 0; i < remotes; ++i) {
    uint32_t ip = ip4("10.50.64.0") + i;
    want.tunnels[ip] = datapath::TunnelEntry{ip, ip4("192.0.2.100") + i % 64, kVni, 1, kMacB};
  }
  target = ip4("10.50.64.0") + remotes - 1;
  dp->apply(datapath::diff(dp->read_maps(), want));
  dp->attach_overlay(if_nametoindex("bpfnet_vxlan"), kHost);
}

World& world(benchmark::State& s) { return cached<World>(static_cast<uint32_t>(s.range(0))); }
OverlayWorld& overlay_world(benchmark::State& s) {
  return cached<OverlayWorld>(static_cast<uint32_t>(s.range(0)));
}
LbWorld& lb_world(benchmark::State& s) {
  return cached<LbWorld>(static_cast<uint32_t>(s.range(0)), static_cast<uint32_t>(s.range(1)));
}

Case tc_case(const World& w, Bytes frame, uint32_t want) {
  Case c;
  c.prog = w.dp->from_container_prog_fd();
  c.frame = std::move(frame);
  c.want = want;
  return c;
}

void setup_netns() {
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET) (needs root)");
    std::exit(1);
  }
  const char* setup[] = {
      "ip link set lo up",
      "ip link add up0 address 02:00:00:00:00:01 type veth peer name up1",
      "ip link set up1 up",
      "ip link set up0 up",
      "ip addr add 192.0.2.1/24 dev up0",
      "ip neigh replace 192.0.2.254 lladdr 02:00:00:00:02:54 dev up0 nud permanent",
      "ip route add default via 192.0.2.254 dev up0",
      "sysctl -qw net.ipv4.ip_forward=1",
  };
  for (const char* cmd : setup) {
    if (std::system(cmd) != 0) {
      std::fprintf(stderr, "namespace setup failed: %s\n", cmd);
      std::exit(1);
    }
  }
}

}  // namespace bpfnet::bench
