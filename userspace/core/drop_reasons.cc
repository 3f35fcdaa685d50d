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
#define BPFNET_DROP_REASON_NAME(code, id, name, meaning) names[code] = name;
  BPFNET_DROP_REASONS(BPFNET_DROP_REASON_NAME)
#undef BPFNET_DROP_REASON_NAME
  return names;
}

}  // namespace

std::string_view drop_reason_name(unsigned code) {
  // Built once, never modified afterwards: the views stay valid.
  static const std::array<std::string, kCodes> names = build_names();
  if (code >= kCodes) return "reason-out-of-range";
  return names[code];
}

std::optional<unsigned> drop_reason_code(std::string_view name) {
#define BPFNET_DROP_REASON_CODE(code, id, reason_name, meaning) \
  if (name == reason_name) return code;
  BPFNET_DROP_REASONS(BPFNET_DROP_REASON_CODE)
#undef BPFNET_DROP_REASON_CODE
  return std::nullopt;
}

}  // namespace bpfnet::core
