// Netlink: the collect-metadata VXLAN device of overlay networks.
#include <netlink/route/link/vxlan.h>

#include "netlink/libnl_session.h"
#include "netlink/rtnetlink.h"

namespace bpfnet::netlink {

namespace {

// What is wrong with an existing link for our use, "" if nothing.
std::string vxlan_mismatch(rtnl_link* link, uint16_t dst_port) {
  if (rtnl_link_is_vxlan(link) == 0) {
    const char* kind = rtnl_link_get_type(link);
    return fmt::format("it is {}, not a VXLAN device",
                       kind ? fmt::format("a {}", kind) : "a device");
  }
  if (rtnl_link_vxlan_get_collect_metadata(link) != 1)
    return "it is a VXLAN device without collect-metadata (external)";
  uint32_t port = 0;
  if (rtnl_link_vxlan_get_port(link, &port) < 0 || port != dst_port)
    return fmt::format("it is a VXLAN device on UDP port {}, not {}", port, dst_port);
  return {};
}

}  // namespace

LinkInfo Netlink::ensure_vxlan_device(std::string_view name, uint16_t dst_port, unsigned mtu) {
  auto op = fmt::format("ensure VXLAN device {} (external, UDP {}, mtu {})", name, dst_port, mtu);
  st_->require_ifname(op, name);
  if (!st_->lookup(op, 0, name)) {
    LinkPtr link(check_alloc(rtnl_link_vxlan_alloc()));
    rtnl_link_set_name(link.get(), std::string(name).c_str());
    if (mtu != 0) rtnl_link_set_mtu(link.get(), mtu);
    int err = rtnl_link_vxlan_set_collect_metadata(link.get(), 1);
    if (err >= 0) err = rtnl_link_vxlan_set_port(link.get(), dst_port);
    if (err >= 0) err = rtnl_link_vxlan_set_learning(link.get(), 0);
    if (err < 0) st_->fail(op, err);
    err = st_->call(
        [&] { return rtnl_link_add(st_->sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); });
    // EEXIST: created meanwhile by someone else; checked below like any other.
    if (err < 0 && st_->errno_of(err) != EEXIST) st_->fail(op, err);
  }
  LinkPtr link = st_->lookup_or_throw(op, name);
  if (std::string wrong = vxlan_mismatch(link.get(), dst_port); !wrong.empty())
    st_->fail_with(op, EEXIST, fmt::format("a link with that name exists and {}", wrong));
  if (mtu != 0 && rtnl_link_get_mtu(link.get()) != mtu) set_mtu(name, mtu);
  if ((rtnl_link_get_flags(link.get()) & IFF_UP) == 0) set_up(name);
  return get_link(name);
}

}  // namespace bpfnet::netlink
