#include "core/nat_ports.h"

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

}  // namespace bpfnet::core
