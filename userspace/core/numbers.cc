#include "core/numbers.h"

namespace bpfnet::core {

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max,
                                      LeadingZero leading_zero) {
  if (text.empty()) return std::nullopt;
  if (leading_zero == LeadingZero::kRefused && text.size() > 1 && text[0] == '0')
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, digit, &value) ||
        value > max)
      return std::nullopt;
  }
  return value;
}

bool is_prime(uint64_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}

}  // namespace bpfnet::core
