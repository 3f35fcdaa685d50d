#include "netlink/rtnetlink.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <new>

namespace bpfnet::netlink {
namespace {

// ---- RAII for libnl objects ----
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using SockPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache_free>>;
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route_put>>;
using NexthopPtr = std::unique_ptr<rtnl_nexthop, Deleter<rtnl_route_nh_free>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr_put>>;

template <class T>
T* check_alloc(T* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

// What the kernel said in its last NLMSG_ERROR. libnl folds errno values into
// its own NLE_* codes (most become NLE_FAILURE "Unspecific failure") and drops
// the extended-ack text, so we record both from the error callback.
struct KernelError {
  int err = 0;         // positive errno, 0 if none
  std::string extack;  // NLMSGERR_ATTR_MSG, if the kernel sent one
};

int on_kernel_error(sockaddr_nl* /*who*/, nlmsgerr* e, void* arg) {
  auto* ke = static_cast<KernelError*>(arg);
  ke->err = -e->error;
  ke->extack.clear();
  // libnl hands us nlmsg_data(hdr); the header sits right before it.
  const auto* hdr =
      reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
  if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) == 0 || hdr->nlmsg_len < NLMSG_HDRLEN) return NL_STOP;
  size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
  size_t hlen = sizeof(nlmsgerr);
  if ((hdr->nlmsg_flags & NLM_F_CAPPED) == 0) {
    if (e->msg.nlmsg_len < NLMSG_HDRLEN) return NL_STOP;
    hlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  hlen = NLMSG_ALIGN(hlen);
  if (hlen >= payload) return NL_STOP;
  auto* head = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(e) + hlen);
  nlattr* a = nullptr;
  int rem = 0;
  nla_for_each_attr(a, head, static_cast<int>(payload - hlen), rem) {
    if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
      const char* s = static_cast<const char*>(nla_data(a));
      ke->extack.assign(s, strnlen(s, static_cast<size_t>(nla_len(a))));
    }
  }
  return NL_STOP;  // libnl then returns -nl_syserr2nlerr(e->error)
}

std::string ip_str(uint32_t host) {
  return fmt::format("{}.{}.{}.{}", host >> 24, (host >> 16) & 0xff, (host >> 8) & 0xff,
                     host & 0xff);
}

std::string mac_str(const MacAddress& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

uint32_t prefix_mask(int prefix_len) {
  return prefix_len <= 0 ? 0 : prefix_len >= 32 ? 0xffffffffu : ~0u << (32 - prefix_len);
}

NlAddrPtr make_ipv4(uint32_t host, int prefix_len) {
  uint32_t be = htonl(host);
  NlAddrPtr a(check_alloc(nl_addr_build(AF_INET, &be, sizeof(be))));
  nl_addr_set_prefixlen(a.get(), prefix_len);
  return a;
}

std::optional<uint32_t> read_ipv4(nl_addr* a) {
  if (a == nullptr || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) {
    return std::nullopt;
  }
  uint32_t be = 0;
  std::memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
  return ntohl(be);
}

// Same rules as the kernel's dev_valid_name().
bool valid_ifname(std::string_view n) {
  if (n.empty() || n.size() >= IFNAMSIZ || n == "." || n == "..") return false;
  return std::none_of(n.begin(), n.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
  });
}

LinkInfo to_link_info(rtnl_link* l) {
  LinkInfo info;
  if (const char* name = rtnl_link_get_name(l)) info.name = name;
  info.ifindex = rtnl_link_get_ifindex(l);
  if (nl_addr* a = rtnl_link_get_addr(l); a != nullptr && nl_addr_get_len(a) == info.mac.size()) {
    std::memcpy(info.mac.data(), nl_addr_get_binary_addr(a), info.mac.size());
  }
  info.mtu = rtnl_link_get_mtu(l);
  info.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  if (const char* kind = rtnl_link_get_type(l)) info.kind = kind;
  return info;
}

template <class T, class F>
void for_each_in_cache(nl_cache* cache, F&& fn) {
  for (nl_object* o = nl_cache_get_first(cache); o != nullptr; o = nl_cache_get_next(o)) {
    fn(reinterpret_cast<T*>(o));
  }
}

}  // namespace

struct Netlink::State {
  SockPtr sock;
  std::string where;  // "" or " in netns <path>", appended to operation names
  KernelError kerr;

  // Runs one libnl request with a clean error record.
  template <class F>
  int call(F&& f) {
    kerr = {};
    return f();
  }

  // errno for a libnl return code: what the kernel said if it said anything.
  int errno_of(int nlerr) const {
    if (kerr.err != 0) return kerr.err;
    switch (-nlerr) {
      case NLE_EXIST:
        return EEXIST;
      case NLE_NODEV:
        return ENODEV;
      case NLE_OBJ_NOTFOUND:
        return ENOENT;
      case NLE_NOADDR:
        return EADDRNOTAVAIL;
      case NLE_NOMEM:
        return ENOMEM;
      case NLE_PERM:
        return EPERM;
      default:
        return 0;
    }
  }

  [[noreturn]] void fail(std::string_view op, int nlerr) const {
    std::string text;
    if (kerr.err != 0) {
      text = std::strerror(kerr.err);
      if (!kerr.extack.empty()) text += fmt::format(" ({})", kerr.extack);
    } else {
      text = nl_geterror(nlerr);
    }
    throw NetlinkError(fmt::format("{}{}: {}", op, where, text), errno_of(nlerr));
  }

  [[noreturn]] void fail_with(std::string_view op, int err, std::string_view text) const {
    throw NetlinkError(fmt::format("{}{}: {}", op, where, text), err);
  }

  void require_ifname(std::string_view op, std::string_view name) const {
    if (!valid_ifname(name))
      fail_with(op, EINVAL, fmt::format("invalid interface name \"{}\"", name));
  }

  // nullptr if absent; throws on other errors.
  LinkPtr lookup(std::string_view op, int ifindex, std::string_view name) {
    std::string n(name);
    rtnl_link* raw = nullptr;
    int err = call([&] {
      return rtnl_link_get_kernel(sock.get(), ifindex, n.empty() ? nullptr : n.c_str(), &raw);
    });
    LinkPtr link(raw);
    if (err < 0) {
      if (errno_of(err) == ENODEV) return nullptr;
      fail(op, err);
    }
    return link;
  }

  LinkPtr lookup_or_throw(std::string_view op, std::string_view name) {
    require_ifname(op, name);
    LinkPtr link = lookup(op, 0, name);
    if (!link) fail_with(op, ENODEV, std::strerror(ENODEV));
    return link;
  }

  // Sends an RTM_NEWLINK change for an existing link.
  template <class Fill>
  void change_link(std::string_view op, std::string_view name, Fill&& fill) {
    LinkPtr orig = lookup_or_throw(op, name);
    LinkPtr changes(check_alloc(rtnl_link_alloc()));
    fill(changes.get());
    int err = call([&] { return rtnl_link_change(sock.get(), orig.get(), changes.get(), 0); });
    if (err < 0) fail(op, err);
  }

  CachePtr route_cache(std::string_view op) {
    nl_cache* raw = nullptr;
    int err = call([&] { return rtnl_route_alloc_cache(sock.get(), AF_INET, 0, &raw); });
    CachePtr cache(raw);
    if (err < 0) fail(op, err);
    return cache;
  }
};

// ---------------------------------------------------------------- lifecycle

Netlink::Netlink() : st_(std::make_unique<State>()) { connect(); }

Netlink::Netlink(const NetnsHandle& ns) : st_(std::make_unique<State>()) {
  st_->where = " in netns " + ns.path();
  run_in_netns(ns, [this] { connect(); });
}

Netlink::~Netlink() = default;
Netlink::Netlink(Netlink&&) noexcept = default;
Netlink& Netlink::operator=(Netlink&&) noexcept = default;

void Netlink::connect() {
  st_->sock.reset(check_alloc(nl_socket_alloc()));
  nl_sock* sk = st_->sock.get();
  // The callback's argument lives in the heap-allocated State, so it stays
  // valid when the Netlink object is moved.
  nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_kernel_error, &st_->kerr);
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    throw NetlinkError(fmt::format("connect rtnetlink{}: {}", st_->where, nl_geterror(err)));
  }
  // Best effort: extended acks give readable reasons ("Nexthop has invalid
  // gateway"); capped acks keep the request out of error replies.
  int one = 1;
  (void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
}

// ---------------------------------------------------------------- links

std::optional<LinkInfo> Netlink::find_link(std::string_view name) {
  if (!valid_ifname(name)) return std::nullopt;
  LinkPtr link = st_->lookup(fmt::format("get link {}", name), 0, name);
  if (!link) return std::nullopt;
  return to_link_info(link.get());
}

std::optional<int> Netlink::ifindex(std::string_view name) {
  auto info = find_link(name);
  if (!info) return std::nullopt;
  return info->ifindex;
}

bool Netlink::link_exists(std::string_view name) { return find_link(name).has_value(); }

LinkInfo Netlink::get_link(std::string_view name) {
  auto op = fmt::format("get link {}", name);
  return to_link_info(st_->lookup_or_throw(op, name).get());
}

LinkInfo Netlink::get_link(int ifindex) {
  auto op = fmt::format("get link #{}", ifindex);
  if (ifindex <= 0) st_->fail_with(op, ENODEV, std::strerror(ENODEV));
  LinkPtr link = st_->lookup(op, ifindex, {});
  if (!link) st_->fail_with(op, ENODEV, std::strerror(ENODEV));
  return to_link_info(link.get());
}

std::vector<LinkInfo> Netlink::list_links() {
  nl_cache* raw = nullptr;
  int err = st_->call([&] { return rtnl_link_alloc_cache(st_->sock.get(), AF_UNSPEC, &raw); });
  CachePtr cache(raw);
  if (err < 0) st_->fail("list links", err);
  std::vector<LinkInfo> out;
  for_each_in_cache<rtnl_link>(cache.get(), [&](rtnl_link* l) { out.push_back(to_link_info(l)); });
  return out;
}

void Netlink::create_veth(std::string_view host_name, std::string_view peer_name, unsigned mtu) {
  auto op = fmt::format("create veth {} / {}", host_name, peer_name);
  st_->require_ifname(op, host_name);
  st_->require_ifname(op, peer_name);
  LinkPtr host(check_alloc(rtnl_link_veth_alloc()));
  // rtnl_link_veth_get_peer() takes a reference; `peer` drops it (the pair
  // itself is freed together with `host`).
  LinkPtr peer(check_alloc(rtnl_link_veth_get_peer(host.get())));
  rtnl_link_set_name(host.get(), std::string(host_name).c_str());
  rtnl_link_set_name(peer.get(), std::string(peer_name).c_str());
  if (mtu != 0) {
    rtnl_link_set_mtu(host.get(), mtu);
    rtnl_link_set_mtu(peer.get(), mtu);
  }
  int err = st_->call(
      [&] { return rtnl_link_add(st_->sock.get(), host.get(), NLM_F_CREATE | NLM_F_EXCL); });
  if (err < 0) st_->fail(op, err);
}

void Netlink::create_dummy(std::string_view name, unsigned mtu) {
  auto op = fmt::format("create dummy {}", name);
  st_->require_ifname(op, name);
  int err = 0;
  // Kernels built without CONFIG_DUMMY answer EOPNOTSUPP ("Unknown device
  // type"); an ifb device is the stand-in: it too only holds addresses and
  // drops whatever is transmitted to it.
  for (const char* kind : {"dummy", "ifb"}) {
    LinkPtr link(check_alloc(rtnl_link_alloc()));
    if (err = rtnl_link_set_type(link.get(), kind); err < 0) st_->fail(op, err);
    rtnl_link_set_name(link.get(), std::string(name).c_str());
    if (mtu != 0) rtnl_link_set_mtu(link.get(), mtu);
    err = st_->call(
        [&] { return rtnl_link_add(st_->sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); });
    if (err >= 0) return;
    if (st_->errno_of(err) != EOPNOTSUPP) break;
  }
  if (st_->errno_of(err) != EEXIST) st_->fail(op, err);
  auto existing = find_link(name);
  if (!existing) st_->fail(op, err);  // raced with a delete: report the EEXIST
  if (!is_dummy_kind(existing->kind)) {
    st_->fail_with(op, EEXIST,
                   fmt::format("a link with that name exists and is {}, not a dummy",
                               existing->kind.empty() ? "a device" : "a " + existing->kind));
  }
  if (mtu != 0 && existing->mtu != mtu) set_mtu(name, mtu);
}

bool is_dummy_kind(std::string_view kind) { return kind == "dummy" || kind == "ifb"; }

void Netlink::move_link_to_netns(std::string_view name, const NetnsHandle& ns,
                                 std::string_view new_name) {
  auto op = fmt::format("move link {} to netns {}{}", name, ns.path(),
                        new_name.empty() ? "" : fmt::format(" as {}", new_name));
  if (!new_name.empty()) st_->require_ifname(op, new_name);
  st_->change_link(op, name, [&](rtnl_link* c) {
    rtnl_link_set_ns_fd(c, ns.fd());
    // The kernel applies IFLA_IFNAME after the move, in the target namespace.
    if (!new_name.empty() && new_name != name) {
      rtnl_link_set_name(c, std::string(new_name).c_str());
    }
  });
}

void Netlink::set_mac(std::string_view name, const MacAddress& mac) {
  auto op = fmt::format("set mac {} on link {}", mac_str(mac), name);
  NlAddrPtr addr(check_alloc(nl_addr_build(AF_LLC, mac.data(), mac.size())));
  st_->change_link(op, name, [&](rtnl_link* c) { rtnl_link_set_addr(c, addr.get()); });
}

void Netlink::set_mtu(std::string_view name, unsigned mtu) {
  auto op = fmt::format("set mtu {} on link {}", mtu, name);
  st_->change_link(op, name, [&](rtnl_link* c) { rtnl_link_set_mtu(c, mtu); });
}

void Netlink::set_up(std::string_view name) {
  st_->change_link(fmt::format("set link {} up", name), name,
                   [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); });
}

void Netlink::set_down(std::string_view name) {
  st_->change_link(fmt::format("set link {} down", name), name,
                   [](rtnl_link* c) { rtnl_link_unset_flags(c, IFF_UP); });
}

void Netlink::delete_link(std::string_view name) {
  if (!valid_ifname(name)) return;  // cannot exist
  LinkPtr link(check_alloc(rtnl_link_alloc()));
  rtnl_link_set_name(link.get(), std::string(name).c_str());
  int err = st_->call([&] { return rtnl_link_delete(st_->sock.get(), link.get()); });
  if (err < 0 && st_->errno_of(err) != ENODEV) st_->fail(fmt::format("delete link {}", name), err);
}

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
