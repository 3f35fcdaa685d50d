#include "core/nat_ports.h"

#include <set>
#include <utility>

#include "bpfnet_abi.h"

namespace bpfnet::core {

NatPortSpan masquerade_ports(uint16_t ephemeral_low, uint16_t ephemeral_high) {
  constexpr uint32_t kFirstUnprivileged = 1024;
  NatPortSpan below, above;
  if (ephemeral_low > kFirstUnprivileged)
    below = {static_cast<uint16_t>(kFirstUnprivileged), static_cast<uint16_t>(ephemeral_low - 1)};
  if (ephemeral_high < 65535) above = {static_cast<uint16_t>(ephemeral_high + 1), 65535};
  const NatPortSpan& larger = below.size() >= above.size() ? below : above;
  return larger.size() >= kMinNatPorts ? larger : kDefaultNatPorts;
}

std::map<uint32_t, uint32_t> masquerade_ports_in_use(const std::vector<FlowHalf>& halves,
                                                     uint64_t now_ns) {
  std::set<std::pair<uint32_t, uint16_t>> taken;  // (address, port)
  for (const FlowHalf& h : halves) {
    if (!(h.flags & BPFNET_CT_F_SNAT) || (h.flags & BPFNET_CT_F_REPLY)) continue;
    if (h.expires_ns <= now_ns) continue;
    taken.emplace(h.rewrite.saddr, h.rewrite.sport);
  }
  std::map<uint32_t, uint32_t> in_use;
  for (const auto& [address, port] : taken) ++in_use[address];
  return in_use;
}

}  // namespace bpfnet::core
