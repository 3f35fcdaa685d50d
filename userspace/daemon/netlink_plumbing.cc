#include "daemon/netlink_plumbing.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "netlink/ethtool.h"

namespace bpfnet::daemon {

namespace {

// Interface name prefixes bpfnet owns in the host namespace (see core/state.h).
constexpr std::string_view kEndpointPrefix = "bnv";
constexpr std::string_view kNetworkPrefix = "bn-";
// Container ends of veths: "bnp" while bpfnet moves one into a namespace,
// "bnc" (a Docker endpoint's) until Docker moves it into the sandbox.
constexpr std::string_view kPeerPrefix = "bnp";
constexpr std::string_view kDockerPeerPrefix = "bnc";
// The VXLAN device of overlay networks (bpfnetd --store); kept when a start
// finds it, whatever the state says: cross-host flows go through it.
constexpr std::string_view kVxlanDevice = "bpfnet_vxlan";
constexpr uint16_t kVxlanPort = 4789;  // IANA's VXLAN port, Docker's default

// Temporary name of the container end until it is moved and renamed.
std::string peer_name(const core::Endpoint& ep) {
  return std::string(kPeerPrefix) + ep.id.substr(0, 11);
}

HostLink to_host_link(const netlink::LinkInfo& li) {
  return HostLink{static_cast<uint32_t>(li.ifindex), li.mac};
}

}  // namespace

std::vector<core::Cidr> NetlinkPlumbing::host_routes() {
  std::vector<core::Cidr> out;
  for (const auto& r : host_.list_routes())
    out.push_back(core::Cidr{core::Ipv4{r.dst}, static_cast<uint8_t>(r.prefix_len)});
  return out;
}

void NetlinkPlumbing::check_netns(const std::string& netns) {
  try {
    netlink::NetnsHandle ns(netns);
  } catch (const netlink::NetlinkError& e) {
    throw core::UserError(e.what());
  }
}

void NetlinkPlumbing::loopback_only(const std::string& netns) {
  check_netns(netns);
  netlink::NetnsHandle ns(netns);
  netlink::Netlink(ns).set_up("lo");
}

bool NetlinkPlumbing::netns_exists(const std::string& netns) {
  try {
    netlink::NetnsHandle ns(netns);
    return true;
  } catch (const netlink::NetlinkError&) {
    return false;
  }
}

void NetlinkPlumbing::ensure_network(const core::Network& net) {
  host_.create_dummy(net.dummy_ifname, net.parsed.effective_mtu());
  host_.add_address(net.dummy_ifname, net.gateway.value, net.subnet->prefix_len);
  host_.set_up(net.dummy_ifname);
}

void NetlinkPlumbing::remove_network(const core::Network& net) {
  host_.delete_link(net.dummy_ifname);
}

std::optional<HostLink> NetlinkPlumbing::host_link(const std::string& host_ifname) {
  auto li = host_.find_link(host_ifname);
  if (!li) return std::nullopt;
  return to_host_link(*li);
}

HostLink NetlinkPlumbing::plumb_endpoint(const core::Network& net, const core::Endpoint& ep,
                                         bool default_route) {
  const unsigned mtu = net.parsed.effective_mtu();
  const std::string peer = peer_name(ep);
  netlink::NetnsHandle ns(ep.netns);
  host_.create_veth(ep.host_ifname, peer, mtu);
  try {
    host_.move_link_to_netns(peer, ns, ep.ifname);
    netlink::Netlink ctr(ns);
    ctr.set_mac(ep.ifname, ep.mac.bytes);
    // No IPv6 on a v4-only network: no router solicitations or MLD for the
    // datapath to drop (as Docker does for non-IPv6 networks).
    netlink::write_sysctl_in_netns(ns, fmt::format("net/ipv6/conf/{}/disable_ipv6", ep.ifname),
                                   "1");
    // Frames XDP_REDIRECTed into the host end (published ports at the
    // uplink's XDP) are only delivered when the container end has GRO on.
    netlink::run_in_netns(ns, [&] { netlink::set_gro(ep.ifname, true); });
    ctr.set_up("lo");
    ctr.add_address(ep.ifname, ep.ip.value, net.subnet->prefix_len);
    ctr.set_up(ep.ifname);
    if (default_route) ctr.add_default_route(net.gateway.value, ep.ifname);

    return finish_host_side(net, ep);
  } catch (...) {
    host_.delete_link(ep.host_ifname);  // takes the peer with it, wherever it is
    throw;
  }
}

HostLink NetlinkPlumbing::plumb_docker_endpoint(const core::Network& net,
                                                const core::Endpoint& ep) {
  host_.create_veth(ep.host_ifname, ep.ifname, net.parsed.effective_mtu());
  try {
    host_.set_mac(ep.ifname, ep.mac.bytes);
    // GRO is a device feature, so it stays on when Docker moves the device
    // (see plumb_endpoint for why the container end needs it).
    netlink::set_gro(ep.ifname, true);
    return finish_host_side(net, ep);
  } catch (...) {
    host_.delete_link(ep.host_ifname);
    throw;
  }
}

HostLink NetlinkPlumbing::finish_host_side(const core::Network& net, const core::Endpoint& ep) {
  netlink::write_sysctl(fmt::format("net/ipv6/conf/{}/disable_ipv6", ep.host_ifname), "1");
  host_.set_up(ep.host_ifname);
  // Host -> container: a /32 over the veth, sourced from the gateway.
  host_.add_route(netlink::Ipv4Prefix{ep.ip.value, 32}, ep.host_ifname, std::nullopt,
                  net.gateway.value, netlink::RouteScope::kLink);
  return to_host_link(host_.get_link(ep.host_ifname));
}

void NetlinkPlumbing::set_default_route(const core::Network& net, const core::Endpoint& ep) {
  netlink::NetnsHandle ns(ep.netns);
  netlink::Netlink ctr(ns);
  ctr.add_default_route(net.gateway.value, ep.ifname);
}

void NetlinkPlumbing::unplumb_endpoint(const core::Endpoint& ep) {
  host_.delete_link(ep.host_ifname);
  host_.delete_link(peer_name(ep));  // a leftover of an interrupted plumb
}

std::vector<std::string> NetlinkPlumbing::managed_links() {
  std::vector<std::string> out;
  for (const auto& li : host_.list_links())
    if (li.name.starts_with(kEndpointPrefix) || li.name.starts_with(kNetworkPrefix) ||
        li.name.starts_with(kPeerPrefix) || li.name.starts_with(kDockerPeerPrefix))
      out.push_back(li.name);
  return out;
}

void NetlinkPlumbing::delete_link(const std::string& name) { host_.delete_link(name); }

uint32_t NetlinkPlumbing::ensure_vxlan_device(unsigned mtu) {
  return host_.ensure_vxlan_device(kVxlanDevice, kVxlanPort, mtu).ifindex;
}

UplinkInfo NetlinkPlumbing::uplink(const std::string& name) {
  auto li = host_.find_link(name);
  if (!li) throw core::UserError(fmt::format("uplink {}: no such interface", name));
  auto addrs = host_.list_addresses(name);
  if (addrs.empty()) throw core::UserError(fmt::format("uplink {}: has no IPv4 address", name));
  return UplinkInfo{static_cast<uint32_t>(li->ifindex),
                    core::Ipv4{addrs.front().addr},
                    li->mac,
                    name,
                    netlink::driver_name(name),
                    li->mtu};
}

std::vector<core::Ipv4> NetlinkPlumbing::host_addresses() {
  std::vector<core::Ipv4> out;
  for (const auto& a : host_.list_addresses()) out.push_back(core::Ipv4{a.addr});
  return out;
}

std::optional<AddressLink> NetlinkPlumbing::address_link(core::Ipv4 address) {
  for (const auto& a : host_.list_addresses())
    if (a.addr == address.value)
      return AddressLink{static_cast<uint32_t>(a.ifindex), static_cast<unsigned>(a.prefix_len)};
  return std::nullopt;
}

void NetlinkPlumbing::enable_forwarding() { netlink::write_sysctl("net/ipv4/ip_forward", "1"); }

uint64_t NetlinkPlumbing::netns_cookie() { return netlink::current_netns_cookie(); }

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

struct Listener {
  core::Proto proto;
  uint32_t addr;  // host order; 0 = any
  uint16_t port;
};

// /proc/net/{tcp,udp}[6] of the calling thread's namespace: sockets bound
// to a local port (TCP in LISTEN, any bound UDP socket).
void read_listeners(const std::string& path, core::Proto proto, bool v6,
                    std::vector<Listener>& out) {
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    auto colon = local.find(':');
    if (colon == std::string::npos) continue;
    if (proto == core::Proto::kTcp && state != "0A") continue;  // LISTEN
    uint16_t port = static_cast<uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
    std::string addr_hex = local.substr(0, colon);
    uint32_t addr = 0;
    if (!v6) {
      addr = __builtin_bswap32(static_cast<uint32_t>(std::stoul(addr_hex, nullptr, 16)));
    } else if (addr_hex.find_first_not_of('0') != std::string::npos) {
      continue;  // a specific IPv6 address: not an IPv4 port
    }
    out.push_back(Listener{proto, addr, port});
  }
}

}  // namespace

core::PortEnvironment NetlinkPlumbing::port_environment() {
  core::PortEnvironment env;
  std::istringstream range(read_file("/proc/sys/net/ipv4/ip_local_port_range"));
  unsigned lo = 0, hi = 0;
  if (range >> lo >> hi && lo > 0 && lo <= hi && hi <= 65535) {
    env.ephemeral_low = static_cast<uint16_t>(lo);
    env.ephemeral_high = static_cast<uint16_t>(hi);
  }
  // "1000,2000-2005": ranges separated by commas.
  std::istringstream reserved(read_file("/proc/sys/net/ipv4/ip_local_reserved_ports"));
  std::string item;
  while (std::getline(reserved, item, ',')) {
    if (item.empty() || item == "\n") continue;
    unsigned a = 0, b = 0;
    char dash = 0;
    std::istringstream r(item);
    if (!(r >> a)) continue;
    b = a;
    if (r >> dash && dash == '-') r >> b;
    for (unsigned p = a; p <= b && p <= 65535; ++p) env.reserved.insert(static_cast<uint16_t>(p));
  }
  auto listeners = std::make_shared<std::vector<Listener>>();
  read_listeners("/proc/net/tcp", core::Proto::kTcp, false, *listeners);
  read_listeners("/proc/net/tcp6", core::Proto::kTcp, true, *listeners);
  read_listeners("/proc/net/udp", core::Proto::kUdp, false, *listeners);
  read_listeners("/proc/net/udp6", core::Proto::kUdp, true, *listeners);
  env.host_listening = [listeners](core::Proto proto, core::Ipv4 ip, uint16_t port) {
    for (const auto& l : *listeners)
      if (l.proto == proto && l.port == port &&
          (ip.value == 0 || l.addr == 0 || l.addr == ip.value))
        return true;
    return false;
  };
  return env;
}

}  // namespace bpfnet::daemon
