// What the host contributes to the maps besides the desired state: the host
// veth of each endpoint, the uplinks and the host's addresses. The netlink
// side (daemon/plumbing.h) reports them; the projection consumes them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/ip.h"

namespace bpfnet::datapath {

// An endpoint's host-side veth.
struct HostLink {
  uint32_t ifindex = 0;
  std::array<uint8_t, 6> mac{};
  bool operator==(const HostLink&) const = default;
};

struct UplinkInfo {
  uint32_t ifindex = 0;
  core::Ipv4 ip;  // its first IPv4 address: what masquerade rewrites to
  std::array<uint8_t, 6> mac{};
  std::string name{};
  std::string driver{};  // as `ethtool -i` names it: which hook is correct there
  bool operator==(const UplinkInfo&) const = default;
};

struct HostFacts {
  std::map<uint32_t, UplinkInfo> uplinks;  // by ifindex
  std::vector<core::Ipv4> addresses;       // every host IPv4 address
  bool operator==(const HostFacts&) const = default;
};

}  // namespace bpfnet::datapath
