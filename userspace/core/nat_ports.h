// The source ports masquerade (and hairpin SNAT) take on the uplink address:
// outside the host's ip_local_port_range, so that a NATed flow and a host
// socket never hold the same port towards the same peer.
#pragma once

#include <cstdint>

namespace bpfnet::core {

struct NatPortSpan {
  uint16_t min = 0;
  uint16_t max = 0;
  uint32_t size() const { return max >= min && min != 0 ? uint32_t{max} - min + 1 : 0; }
  bool operator==(const NatPortSpan&) const = default;
};

// Below this many ports outside the ephemeral range, NatPortSpan is the
// datapath's default (61000-65535) and may meet host sockets.
inline constexpr uint32_t kMinNatPorts = 1024;
inline constexpr NatPortSpan kDefaultNatPorts{61000, 65535};

// The larger of the spans of unprivileged ports (1024-65535) below and above
// the ephemeral range [ephemeral_low, ephemeral_high]; kDefaultNatPorts when
// neither holds kMinNatPorts. With Linux's default 32768-60999: 1024-32767.
NatPortSpan masquerade_ports(uint16_t ephemeral_low, uint16_t ephemeral_high);

}  // namespace bpfnet::core
