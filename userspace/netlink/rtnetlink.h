// Links, addresses and IPv4 routes over rtnetlink (libnl-route-3).
// (Named rtnetlink.h, not netlink.h: with this folder's parent on the include
// path, "netlink/netlink.h" would shadow libnl's own <netlink/netlink.h>.)
//
// Plain types only: IPv4 addresses are uint32_t in HOST byte order
// (10.0.0.1 == 0x0a000001), MACs are std::array<uint8_t, 6>.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netlink/error.h"
#include "netlink/netns.h"

namespace bpfnet::netlink {

using MacAddress = std::array<uint8_t, 6>;

struct Ipv4Prefix {
  uint32_t addr = 0;  // host order
  int prefix_len = 0;
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

struct LinkInfo {
  std::string name;
  int ifindex = 0;
  MacAddress mac{};
  unsigned mtu = 0;
  bool up = false;   // administratively up (IFF_UP)
  std::string kind;  // "veth", "dummy", ... ("" for physical devices / lo)
};

// True for the kinds create_dummy() makes ("dummy", or "ifb" as stand-in).
bool is_dummy_kind(std::string_view kind);

struct AddressInfo {
  int ifindex = 0;
  uint32_t addr = 0;  // host order
  int prefix_len = 0;
};

enum class RouteScope { kUniverse, kLink };

struct RouteInfo {
  uint32_t dst = 0;  // host order; 0 with prefix_len 0 is the default route
  int prefix_len = 0;
  int oif = 0;  // 0 if none (blackhole, unreachable, ...)
  std::optional<uint32_t> gateway;
  std::optional<uint32_t> pref_src;
  uint8_t scope = 0;     // RT_SCOPE_*
  uint8_t protocol = 0;  // RTPROT_*
};

// One rtnetlink connection bound to one network namespace. Not thread-safe;
// use one per thread. A moved-from Netlink must not be used.
class Netlink {
 public:
  // Bound to the calling thread's current namespace.
  Netlink();
  // Bound to `ns`. The socket is created inside `ns` (setns, connect, setns
  // back); the calling thread is back in its own namespace when this returns,
  // also on error.
  explicit Netlink(const NetnsHandle& ns);
  ~Netlink();
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // ---- links ----
  std::optional<int> ifindex(std::string_view name);
  bool link_exists(std::string_view name);
  std::optional<LinkInfo> find_link(std::string_view name);
  LinkInfo get_link(std::string_view name);  // throws (ENODEV) if absent
  LinkInfo get_link(int ifindex);
  std::vector<LinkInfo> list_links();

  // Creates a veth pair, both ends in this connection's namespace, both down
  // (mtu 0: kernel default). Fails with EEXIST if either name exists.
  void create_veth(std::string_view host_name, std::string_view peer_name, unsigned mtu);
  // Moves `name` into `ns`, renaming it to `new_name` ("" keeps the name) in the
  // same request. Note: the kernel moves first and renames after, so if
  // `new_name` is taken in `ns` the call fails with the link already moved
  // (under its old name); deleting the other veth end cleans it up.
  void move_link_to_netns(std::string_view name, const NetnsHandle& ns,
                          std::string_view new_name = {});
  void set_mac(std::string_view name, const MacAddress& mac);
  void set_mtu(std::string_view name, unsigned mtu);
  void set_up(std::string_view name);
  void set_down(std::string_view name);
  // Idempotent: an absent link is not an error. Deleting one veth end deletes
  // the peer too, whatever namespace it is in.
  void delete_link(std::string_view name);
  // Creates a dummy link (down). On kernels without CONFIG_DUMMY (this
  // project's 6.18 test kernel) it creates an "ifb" link instead, which
  // behaves the same for our use: holds addresses, drops what it transmits.
  // Idempotent if `name` exists as such a link (its MTU is then set to
  // `mtu`); throws (EEXIST) if it exists as another kind.
  void create_dummy(std::string_view name, unsigned mtu);

  // The collect-metadata ("external") VXLAN device overlay networks share:
  // no VNI or remote of its own, the BPF programs give both per packet
  // (bpf_skb_set_tunnel_key), UDP port `dst_port` (4789, IANA's), no
  // learning. Created if absent; an existing one gets `mtu` (the underlay's)
  // and is set up. Returns the device as it is then. Throws (EEXIST), with
  // nothing changed, when `name` exists as anything else: another kind, or a
  // VXLAN device that is not external or on another port.
  LinkInfo ensure_vxlan_device(std::string_view name, uint16_t dst_port, unsigned mtu);

  // ---- IPv4 addresses ----
  // Idempotent (an existing identical address is fine). Sets the broadcast
  // address for prefixes shorter than /31, as Docker does.
  void add_address(std::string_view ifname, uint32_t addr, int prefix_len);
  // Idempotent: absent address or link is fine.
  void delete_address(std::string_view ifname, uint32_t addr, int prefix_len);
  // IPv4 addresses of `ifname`, or of every link if `ifname` is empty.
  std::vector<AddressInfo> list_addresses(std::string_view ifname = {});

  // ---- IPv4 routes, main table ----
  // Create-or-replace (NLM_F_REPLACE), so idempotent. Default scope: link when
  // there is no gateway, universe otherwise. Protocol is RTPROT_BOOT, like
  // `ip route add` and Docker.
  void add_route(Ipv4Prefix dst, std::string_view ifname,
                 std::optional<uint32_t> gateway = std::nullopt,
                 std::optional<uint32_t> pref_src = std::nullopt,
                 std::optional<RouteScope> scope = std::nullopt);
  void add_default_route(uint32_t gateway, std::string_view ifname);
  // Deletes the route to `dst` via `ifname` (any protocol/scope/gateway).
  // Idempotent: absent route or link is fine.
  void delete_route(Ipv4Prefix dst, std::string_view ifname);
  // All IPv4 routes of the main table (first nexthop of multipath routes).
  std::vector<RouteInfo> list_routes();

 private:
  struct State;
  void connect();
  std::unique_ptr<State> st_;
};

}  // namespace bpfnet::netlink
