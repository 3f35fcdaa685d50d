#include "packet_world.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bpfnet_abi.h"
#include "controller_world.h"
#include "core/config.h"
#include "core/ports.h"
#include "daemon/controller.h"
#include "daemon/fakes.h"
#include "daemon/state_store.h"

namespace bpfnet::fuzz {
namespace {

// Real devices for the endpoints' host veths: FakePlumbing numbers the links
// it makes from 100 up (network dummies and host veths alike), and the
// programs are attached to those ifindexes for real.
constexpr uint32_t kFirstIfindex = 100;
constexpr uint32_t kLinkCount = 24;

constexpr const char* kConfig = R"({
  "networks": [
    {"name": "n1", "subnet": "172.18.0.0/16"},
    {"name": "n2", "subnet": "172.19.0.0/16"},
    {"name": "n3", "subnet": "172.20.0.0/16", "internal": true},
    {"name": "n4", "subnet": "172.21.0.0/16",
     "options": {"com.docker.network.bridge.enable_icc": "false"}}],
  "containers": [
    {"name": "a", "netns": "a", "networks": [{"name": "n1", "ip": "172.18.0.2"}],
     "ports": ["9090:80"]},
    {"name": "b", "netns": "b", "networks": [{"name": "n1", "ip": "172.18.0.3"}],
     "ports": ["8080:80", "5353:53/udp"]},
    {"name": "c", "netns": "c", "networks": [{"name": "n2", "ip": "172.19.0.2"}],
     "ports": ["127.0.0.1:7070:70"]},
    {"name": "d", "netns": "d", "networks": [{"name": "n3", "ip": "172.20.0.2"}]},
    {"name": "e", "netns": "e", "networks": [{"name": "n4", "ip": "172.21.0.2"}]},
    {"name": "f", "netns": "f", "networks": [{"name": "n4", "ip": "172.21.0.3"}]}],
  "uplinks": ["up0"],
  "services": [
    {"name": "web", "network": "n1", "vip": "172.18.255.254", "ports": ["80/tcp", "53/udp"],
     "publish": ["8081:80/tcp"], "backends": ["a", "b"]}]
})";

void run_ip_batch(const std::string& commands) {
  FILE* ip = ::popen("ip -batch -", "w");
  if (ip == nullptr) throw std::runtime_error("popen ip");
  std::fputs(commands.c_str(), ip);
  if (::pclose(ip) != 0) throw std::runtime_error("ip -batch failed:\n" + commands);
}

// The fuzz namespace: lo, the uplink pair up0/up1 (router 192.0.2.254 a
// static neighbour), and the host veths.
void build_namespace() {
  if (::unshare(CLONE_NEWNET) != 0)
    throw std::runtime_error("unshare(CLONE_NEWNET): the packet fuzzer needs root");
  std::string batch =
      "link set lo up\n"
      "link add up0 address 02:00:00:00:00:01 type veth peer name up1\n"
      "link set up1 up\n"
      "link set up0 up\n"
      "addr add 192.0.2.1/24 dev up0\n"
      "neigh replace 192.0.2.254 lladdr 02:00:00:00:02:54 dev up0 nud permanent\n"
      "route add default via 192.0.2.254 dev up0\n";
  for (uint32_t i = kFirstIfindex; i < kFirstIfindex + kLinkCount; ++i) {
    batch +=
        fmt::format("link add bnf{0} index {0} type veth peer name bnp{0} index {1}\n", i, i + 100);
    batch += fmt::format("link set bnp{0} up\nlink set bnf{0} up\n", i);
  }
  run_ip_batch(batch);
  std::FILE* forward = std::fopen("/proc/sys/net/ipv4/ip_forward", "w");
  if (forward == nullptr) throw std::runtime_error("open ip_forward");
  std::fputs("1", forward);
  std::fclose(forward);
}

uint32_t ct_address(const uint8_t* raw, size_t offset) {
  uint32_t be;
  std::memcpy(&be, raw + offset, sizeof(be));
  return ntohl(be);
}

// What keeps the maps filled: the daemon's objects, alive with the world.
struct DaemonParts {
  daemon::fakes::FakePlumbing plumbing;
  daemon::fakes::FakeIds ids;
  daemon::StateStore store{state_dir()};
  std::unique_ptr<daemon::Controller> controller;
};

DaemonParts& daemon_parts() {
  static DaemonParts parts;
  return parts;
}

}  // namespace

PacketWorld& PacketWorld::get() {
  static PacketWorld world;
  return world;
}

PacketWorld::PacketWorld() {
  build_namespace();
  uplink_ifindex_ = ::if_nametoindex("up0");
  uplink_mac_ = {0x02, 0, 0, 0, 0, 0x01};
  router_mac_ = {0x02, 0, 0, 0, 0x02, 0x54};
  // A small conntrack: it is emptied (and read) for every input.
  datapath_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{"", 4096});

  DaemonParts& parts = daemon_parts();
  std::filesystem::remove(parts.store.path());
  parts.plumbing.namespaces = {"a", "b", "c", "d", "e", "f"};
  parts.plumbing.uplinks["up0"] = datapath::UplinkInfo{
      uplink_ifindex_, core::Ipv4::parse("192.0.2.1"), uplink_mac_, "up0", "veth"};
  for (const char* address :
       {"127.0.0.1", "192.0.2.1", "172.18.0.1", "172.19.0.1", "172.20.0.1", "172.21.0.1"})
    parts.plumbing.addresses.push_back(core::Ipv4::parse(address));
  parts.controller = std::make_unique<daemon::Controller>(
      parts.store, parts.plumbing, parts.ids, [] { return std::string("2024-05-01T12:00:00Z"); });
  parts.controller->load(core::parse_config(nlohmann::json::parse(kConfig)));
  parts.controller->set_datapath(*datapath_);
  parts.controller->reconcile_all();
  learn_facts();
}

void PacketWorld::learn_facts() {
  DaemonParts& parts = daemon_parts();
  const core::State& state = parts.controller->state();
  for (const core::Ipv4& address : parts.plumbing.addresses) host_addresses_.insert(address.value);
  for (const core::Network& net : state.networks) {
    if (!net.subnet) continue;
    networks_.push_back(
        NetworkFacts{net.id, *net.subnet, net.gateway.value, net.internal, net.parsed.icc});
  }
  for (const core::Endpoint& ep : state.endpoints) {
    const datapath::HostLink& link = parts.plumbing.links.at(ep.host_ifname);
    if (link.ifindex >= kFirstIfindex + kLinkCount)
      throw std::runtime_error("packet world: more links than devices");
    endpoints_.push_back(EndpointFacts{ep.container, ep.network_id, link.ifindex, ep.ip.value,
                                       ep.mac.bytes, link.mac});
    for (const core::PortBinding& b : ep.ports)
      forwardings_.push_back(
          Forwarding{b.host_ip.value, b.host_port, core::ip_protocol_number(b.proto), ep.ip.value});
  }
  for (const core::Service& service : state.services) {
    vips_.insert(service.vip.value);
    for (const core::ServiceBackend& backend : service.backends) {
      const EndpointFacts* target = endpoint_by_container(backend.container);
      if (target == nullptr) continue;
      for (const core::PortBinding& b : service.published)
        forwardings_.push_back(Forwarding{b.host_ip.value, b.host_port,
                                          core::ip_protocol_number(b.proto), target->ip});
    }
  }
}

const EndpointFacts* PacketWorld::endpoint_by_ip(uint32_t ip) const {
  for (const EndpointFacts& ep : endpoints_)
    if (ep.ip == ip) return &ep;
  return nullptr;
}

const EndpointFacts* PacketWorld::endpoint_by_container(const std::string& name) const {
  for (const EndpointFacts& ep : endpoints_)
    if (ep.container == name) return &ep;
  return nullptr;
}

const NetworkFacts& PacketWorld::network(const std::string& id) const {
  for (const NetworkFacts& net : networks_)
    if (net.id == id) return net;
  throw std::logic_error("packet world: no network " + id);
}

bool PacketWorld::forwarded_to(uint32_t host_ip, uint16_t port, uint8_t proto,
                               uint32_t target_ip) const {
  return std::any_of(forwardings_.begin(), forwardings_.end(), [&](const Forwarding& f) {
    return (f.host_ip == 0 || f.host_ip == host_ip) && f.host_port == port && f.proto == proto &&
           f.target_ip == target_ip;
  });
}

std::set<AddressPair> PacketWorld::conntrack_pairs() {
  std::set<AddressPair> pairs;
  for (const datapath::CtEntry& e : datapath_->read_conntrack()) {
    uint32_t s = ct_address(e.key.data(), offsetof(bpfnet_ct_key, saddr));
    uint32_t d = ct_address(e.key.data(), offsetof(bpfnet_ct_key, daddr));
    pairs.insert({s, d});
    pairs.insert({d, s});
  }
  return pairs;
}

void PacketWorld::forget_flows() {
  std::vector<datapath::CtKey> keys;
  for (const datapath::CtEntry& e : datapath_->read_conntrack()) keys.push_back(e.key);
  if (!keys.empty()) datapath_->delete_conntrack(keys);
  // And the fragments' ports: a later fragment of a datagram whose first
  // fragment came in an earlier input would otherwise follow that datagram's
  // flow (DNAT through a published port) in an input whose conntrack, all
  // the invariants know of, never had it.
  const int frags = datapath_->map_fd("bpfnet_frags");
  bpfnet_frag_key key{};
  while (bpf_map_get_next_key(frags, nullptr, &key) == 0) bpf_map_delete_elem(frags, &key);
}

}  // namespace bpfnet::fuzz
