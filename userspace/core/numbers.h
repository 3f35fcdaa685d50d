// Numbers as users type them: one parser and one primality test for the
// whole tree (core, the CLI, the Docker plugin), so "8080", "08080" and
// "80a" mean the same thing everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bpfnet::core {

// How strict a decimal is about its first digit.
enum class LeadingZero {
  kAllowed,  // "080" is 80 (ports, weights, seconds)
  kRefused,  // "080" is refused, a lone "0" is fine (IPv4 octets, prefix lengths)
};

// Decimal digits only (no sign, no space, not empty), at most `max`;
// nullopt otherwise. Never overflows, whatever the length of `text`.
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max,
                                      LeadingZero leading_zero = LeadingZero::kAllowed);

bool is_prime(uint64_t n);

}  // namespace bpfnet::core
