#include "daemon/netlink_plumbing.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::daemon {

namespace {

// Interface name prefixes bpfnet owns in the host namespace (see core/state.h).
constexpr std::string_view kEndpointPrefix = "bnv";
constexpr std::string_view kNetworkPrefix = "bn-";

// Temporary name of the container end until it is moved and renamed.
std::string peer_name(const core::Endpoint& ep) { return "bnp" + ep.id.substr(0, 11); }

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
    ctr.set_up("lo");
    ctr.add_address(ep.ifname, ep.ip.value, net.subnet->prefix_len);
    ctr.set_up(ep.ifname);
    if (default_route) ctr.add_default_route(net.gateway.value, ep.ifname);

    netlink::write_sysctl(fmt::format("net/ipv6/conf/{}/disable_ipv6", ep.host_ifname), "1");
    host_.set_up(ep.host_ifname);
    // Host -> container: a /32 over the veth, sourced from the gateway.
    host_.add_route(netlink::Ipv4Prefix{ep.ip.value, 32}, ep.host_ifname, std::nullopt,
                    net.gateway.value, netlink::RouteScope::kLink);
    return to_host_link(host_.get_link(ep.host_ifname));
  } catch (...) {
    host_.delete_link(ep.host_ifname);  // takes the peer with it, wherever it is
    throw;
  }
}

void NetlinkPlumbing::unplumb_endpoint(const core::Endpoint& ep) {
  host_.delete_link(ep.host_ifname);
  host_.delete_link(peer_name(ep));  // a leftover of an interrupted plumb
}

std::vector<std::string> NetlinkPlumbing::managed_links() {
  std::vector<std::string> out;
  for (const auto& li : host_.list_links())
    if (li.name.starts_with(kEndpointPrefix) || li.name.starts_with(kNetworkPrefix) ||
        li.name.starts_with("bnp"))
      out.push_back(li.name);
  return out;
}

void NetlinkPlumbing::delete_link(const std::string& name) { host_.delete_link(name); }

}  // namespace bpfnet::daemon
