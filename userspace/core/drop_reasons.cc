#include "core/drop_reasons.h"

#include <fmt/format.h>

#include <array>
#include <string>

#include "bpfnet_abi.h"

namespace bpfnet::core {
namespace {

constexpr size_t kCodes = 256;  // bpfnet_metrics_key.reason is a __u8

std::array<std::string, kCodes> build_names() {
  std::array<std::string, kCodes> names;
  for (size_t code = 0; code < kCodes; ++code) names[code] = fmt::format("reason-{}", code);
  names[BPFNET_OK] = "forwarded";
  names[BPFNET_DROP_MALFORMED] = "malformed";
  names[BPFNET_DROP_UNKNOWN_ENDPOINT] = "unknown-endpoint";
  names[BPFNET_DROP_INVALID_SMAC] = "invalid-source-mac";
  names[BPFNET_DROP_INVALID_SIP] = "invalid-source-ip";
  names[BPFNET_DROP_INVALID_ARP] = "invalid-arp";
  names[BPFNET_DROP_ARP_NO_TARGET] = "arp-no-target";
  names[BPFNET_DROP_ISOLATION] = "isolation";
  names[BPFNET_DROP_ICC] = "icc-disabled";
  names[BPFNET_DROP_INTERNAL] = "internal-network";
  names[BPFNET_DROP_NO_ENDPOINT] = "no-endpoint";
  names[BPFNET_DROP_UNSUPPORTED_L3] = "unsupported-l3";
  names[BPFNET_DROP_NO_NETWORK] = "no-network";
  names[BPFNET_DROP_CT_INSERT] = "ct-insert";
  names[BPFNET_DROP_NAT_NO_PORT] = "nat-no-port";
  names[BPFNET_DROP_NO_PORTMAP] = "no-portmap";
  names[BPFNET_DROP_FIB] = "fib";
  names[BPFNET_DROP_CSUM] = "csum";
  names[BPFNET_DROP_NO_BACKEND] = "no-backend";
  return names;
}

}  // namespace

std::string_view drop_reason_name(unsigned code) {
  // Built once, never modified afterwards: the views stay valid.
  static const std::array<std::string, kCodes> names = build_names();
  if (code >= kCodes) return "reason-out-of-range";
  return names[code];
}

}  // namespace bpfnet::core
