// Netlink: IPv4 addresses and routes of a link.
#include "netlink/libnl_session.h"

namespace bpfnet::netlink {

// ---------------------------------------------------------------- addresses

void Netlink::add_address(std::string_view ifname, uint32_t addr, int prefix_len) {
  auto op = fmt::format("add address {}/{} to {}", ip_str(addr), prefix_len, ifname);
  if (prefix_len < 0 || prefix_len > 32) st_->fail_with(op, EINVAL, "invalid prefix length");
  LinkPtr link = st_->lookup_or_throw(op, ifname);
  AddrPtr a(check_alloc(rtnl_addr_alloc()));
  rtnl_addr_set_ifindex(a.get(), rtnl_link_get_ifindex(link.get()));
  NlAddrPtr local = make_ipv4(addr, prefix_len);
  if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0) st_->fail(op, err);
  rtnl_addr_set_prefixlen(a.get(), prefix_len);
  if (prefix_len < 31) {
    NlAddrPtr brd = make_ipv4(addr | ~prefix_mask(prefix_len), 32);
    if (int err = rtnl_addr_set_broadcast(a.get(), brd.get()); err < 0) st_->fail(op, err);
  }
  int err = st_->call([&] { return rtnl_addr_add(st_->sock.get(), a.get(), 0); });
  if (err < 0 && st_->errno_of(err) != EEXIST) st_->fail(op, err);
}

void Netlink::delete_address(std::string_view ifname, uint32_t addr, int prefix_len) {
  auto op = fmt::format("delete address {}/{} from {}", ip_str(addr), prefix_len, ifname);
  auto idx = ifindex(ifname);
  if (!idx) return;
  AddrPtr a(check_alloc(rtnl_addr_alloc()));
  rtnl_addr_set_ifindex(a.get(), *idx);
  NlAddrPtr local = make_ipv4(addr, prefix_len);
  if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0) st_->fail(op, err);
  rtnl_addr_set_prefixlen(a.get(), prefix_len);
  int err = st_->call([&] { return rtnl_addr_delete(st_->sock.get(), a.get(), 0); });
  if (err < 0 && st_->errno_of(err) != EADDRNOTAVAIL && st_->errno_of(err) != ENODEV) {
    st_->fail(op, err);
  }
}

std::vector<AddressInfo> Netlink::list_addresses(std::string_view ifname) {
  std::optional<int> only;
  if (!ifname.empty()) {
    only = ifindex(ifname);
    if (!only) return {};
  }
  nl_cache* raw = nullptr;
  int err = st_->call([&] { return rtnl_addr_alloc_cache(st_->sock.get(), &raw); });
  CachePtr cache(raw);
  if (err < 0) st_->fail("list addresses", err);
  std::vector<AddressInfo> out;
  for_each_in_cache<rtnl_addr>(cache.get(), [&](rtnl_addr* a) {
    if (rtnl_addr_get_family(a) != AF_INET) return;
    if (only && rtnl_addr_get_ifindex(a) != *only) return;
    auto ip = read_ipv4(rtnl_addr_get_local(a));
    if (!ip) return;
    out.push_back({rtnl_addr_get_ifindex(a), *ip, rtnl_addr_get_prefixlen(a)});
  });
  return out;
}

// ---------------------------------------------------------------- routes

void Netlink::add_route(Ipv4Prefix dst, std::string_view ifname, std::optional<uint32_t> gateway,
                        std::optional<uint32_t> pref_src, std::optional<RouteScope> scope) {
  auto op = fmt::format("add route {}/{} dev {}{}{}", ip_str(dst.addr), dst.prefix_len, ifname,
                        gateway ? " via " + ip_str(*gateway) : "",
                        pref_src ? " src " + ip_str(*pref_src) : "");
  if (dst.prefix_len < 0 || dst.prefix_len > 32)
    st_->fail_with(op, EINVAL, "invalid prefix length");
  LinkPtr link = st_->lookup_or_throw(op, ifname);

  RoutePtr r(check_alloc(rtnl_route_alloc()));
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  RouteScope sc = scope.value_or(gateway ? RouteScope::kUniverse : RouteScope::kLink);
  rtnl_route_set_scope(r.get(), sc == RouteScope::kLink ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  NlAddrPtr d = make_ipv4(dst.addr, dst.prefix_len);
  if (int err = rtnl_route_set_dst(r.get(), d.get()); err < 0) st_->fail(op, err);
  if (pref_src) {
    NlAddrPtr s = make_ipv4(*pref_src, 32);
    if (int err = rtnl_route_set_pref_src(r.get(), s.get()); err < 0) st_->fail(op, err);
  }
  NexthopPtr nh(check_alloc(rtnl_route_nh_alloc()));
  rtnl_route_nh_set_ifindex(nh.get(), rtnl_link_get_ifindex(link.get()));
  if (gateway) {
    NlAddrPtr gw = make_ipv4(*gateway, 32);
    rtnl_route_nh_set_gateway(nh.get(), gw.get());
  }
  rtnl_route_add_nexthop(r.get(), nh.release());  // the route owns it now

  int err = st_->call([&] { return rtnl_route_add(st_->sock.get(), r.get(), NLM_F_REPLACE); });
  if (err < 0) st_->fail(op, err);
}

void Netlink::add_default_route(uint32_t gateway, std::string_view ifname) {
  add_route(Ipv4Prefix{0, 0}, ifname, gateway, std::nullopt, RouteScope::kUniverse);
}

void Netlink::delete_route(Ipv4Prefix dst, std::string_view ifname) {
  auto op = fmt::format("delete route {}/{} dev {}", ip_str(dst.addr), dst.prefix_len, ifname);
  auto idx = ifindex(ifname);
  if (!idx) return;  // the kernel removed its routes with it
  // Delete the kernel's own route objects rather than a hand-built template:
  // RTM_DELROUTE matches on scope/protocol/type, and libnl fills those in
  // (protocol defaults to "static", scope is guessed) when not set.
  CachePtr cache = st_->route_cache(op);
  std::vector<rtnl_route*> victims;
  for_each_in_cache<rtnl_route>(cache.get(), [&](rtnl_route* r) {
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_family(r) != AF_INET) return;
    nl_addr* d = rtnl_route_get_dst(r);
    if (d == nullptr || static_cast<int>(nl_addr_get_prefixlen(d)) != dst.prefix_len) return;
    if (read_ipv4(d).value_or(0) != (dst.addr & prefix_mask(dst.prefix_len))) return;
    if (rtnl_route_get_nnexthops(r) < 1) return;
    if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) != *idx) return;
    victims.push_back(r);
  });
  for (rtnl_route* r : victims) {
    int err = st_->call([&] { return rtnl_route_delete(st_->sock.get(), r, 0); });
    if (err < 0 && st_->errno_of(err) != ESRCH && st_->errno_of(err) != ENOENT) st_->fail(op, err);
  }
}

std::vector<RouteInfo> Netlink::list_routes() {
  CachePtr cache = st_->route_cache("list routes");
  std::vector<RouteInfo> out;
  for_each_in_cache<rtnl_route>(cache.get(), [&](rtnl_route* r) {
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_family(r) != AF_INET) return;
    RouteInfo info;
    if (nl_addr* d = rtnl_route_get_dst(r)) {
      info.dst = read_ipv4(d).value_or(0);  // the default route's dst has length 0
      info.prefix_len = static_cast<int>(nl_addr_get_prefixlen(d));
    }
    if (rtnl_route_get_nnexthops(r) > 0) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
      info.oif = rtnl_route_nh_get_ifindex(nh);
      info.gateway = read_ipv4(rtnl_route_nh_get_gateway(nh));
    }
    info.pref_src = read_ipv4(rtnl_route_get_pref_src(r));
    info.scope = rtnl_route_get_scope(r);
    info.protocol = rtnl_route_get_protocol(r);
    out.push_back(std::move(info));
  });
  return out;
}

}  // namespace bpfnet::netlink
