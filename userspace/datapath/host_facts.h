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
#include "core/options.h"
#include "core/state.h"

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
  uint32_t mtu = 0;      // 0: unknown
  bool operator==(const UplinkInfo&) const = default;
};

// An endpoint of an overlay network on another host, as the cluster store
// says: where its packets are tunnelled to.
struct RemoteEndpointFact {
  std::string network_id;
  std::string container;  // its name on its host
  std::string host;       // its host's name
  core::Ipv4 underlay;    // its host's underlay address
  uint32_t vni = 0;
  std::array<uint8_t, 6> mac{};
  std::string endpoint_id{};  // its ID in the cluster (a service's health records name it)
  bool operator==(const RemoteEndpointFact&) const = default;
};

// VXLAN over IPv4 and UDP adds 50 bytes (outer Ethernet, IPv4, UDP, VXLAN).
inline constexpr uint32_t kVxlanOverhead = 50;

struct HostFacts {
  std::map<uint32_t, UplinkInfo> uplinks;  // by ifindex
  std::vector<core::Ipv4> addresses;       // every host IPv4 address
  // With a cluster store: the underlay interface's MTU, and the remote
  // endpoints of the overlay networks, by address (host order).
  uint32_t underlay_mtu = 0;
  std::map<uint32_t, RemoteEndpointFact> remote_endpoints;
  // This host's own address on overlay networks it balances services of
  // (its "lb" endpoint in the cluster), by network ID.
  std::map<std::string, core::Ipv4> lb_addresses;
  bool operator==(const HostFacts&) const = default;

  // The MTU of a network that sets none: Docker's 1500, or less when an
  // uplink carries less (a cloud VM's 1460, a tunnel's 1450), so that
  // containers never send what their way out cannot carry.
  uint32_t default_mtu() const {
    uint32_t mtu = core::kDefaultMtu;
    for (const auto& [ifindex, up] : uplinks)
      if (up.mtu != 0 && up.mtu < mtu) mtu = up.mtu;
    return mtu;
  }
  // The MTU of an overlay network that sets none: what the underlay carries
  // once the VXLAN headers are added (Docker's overlay: 1450 on 1500).
  uint32_t overlay_mtu() const {
    return (underlay_mtu != 0 ? underlay_mtu : core::kDefaultMtu) - kVxlanOverhead;
  }
  // The MTU of `net` when it sets none.
  uint32_t default_mtu_of(const core::Network& net) const {
    return net.overlay() ? overlay_mtu() : default_mtu();
  }
};

}  // namespace bpfnet::datapath
