// The source ports masquerade (and hairpin SNAT) take on the uplink address:
// outside the host's ip_local_port_range, so that a NATed flow and a host
// socket never hold the same port towards the same peer.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/flows.h"

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

// The ports masquerade (and hairpin SNAT) hold now, per address it took them
// on (host order): the distinct source ports of the live forward halves
// with BPFNET_CT_F_SNAT, i.e. what the datapath's allocator (ct_create_snat)
// has handed out of the NatPortSpan. A port serving flows to two
// destinations counts once (the allocator needs it free per destination
// only). Halves past their deadline at `now_ns` are free to the datapath
// already and do not count.
std::map<uint32_t, uint32_t> masquerade_ports_in_use(const std::vector<FlowHalf>& halves,
                                                     uint64_t now_ns);

}  // namespace bpfnet::core
