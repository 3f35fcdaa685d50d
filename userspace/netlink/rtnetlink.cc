// Netlink: the session's lifecycle and links (create, configure, move, delete).
#include "netlink/rtnetlink.h"

#include "netlink/libnl_session.h"

namespace bpfnet::netlink {

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

}  // namespace bpfnet::netlink
