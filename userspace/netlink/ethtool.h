// The few ethtool settings bpfnet needs (SIOCETHTOOL; libnl has no ethtool).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bpfnet::netlink {

// Turns generic receive offload on or off for `ifname` in the calling
// thread's namespace. On a veth, GRO on the receiving end is what makes it
// accept frames XDP_REDIRECTed into its peer (they vanish otherwise).
void set_gro(std::string_view ifname, bool on);

// The driver behind `ifname` as `ethtool -i` names it ("veth", "mlx5_core",
// "bridge"), or "" when the device reports none.
std::string driver_name(std::string_view ifname);

// The calling thread's network namespace cookie (SO_NETNS_COOKIE), the
// identity bpf_get_netns_cookie() returns for sockets of that namespace.
uint64_t current_netns_cookie();

}  // namespace bpfnet::netlink
