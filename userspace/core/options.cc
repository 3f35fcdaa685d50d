#include "core/options.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {
namespace {

[[noreturn]] void bad_option(std::string_view key, std::string_view value,
                             std::string_view expected) {
  throw UserError(
      fmt::format("invalid value \"{}\" for option {}: expected {}", value, key, expected));
}

bool option_bool(std::string_view key, const std::string& value) {
  auto parsed = parse_go_bool(value);
  if (!parsed) bad_option(key, value, "a boolean (true or false)");
  return *parsed;
}

uint32_t option_mtu(std::string_view key, const std::string& value) {
  // At most 10 digits so the accumulation below cannot overflow 64 bits.
  bool digits_only = !value.empty() && value.size() <= 10 &&
                     value.find_first_not_of("0123456789") == std::string::npos;
  uint64_t mtu = 0;
  if (digits_only) {
    for (char c : value) mtu = mtu * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!digits_only || (mtu != 0 && (mtu < kMinMtu || mtu > kMaxMtu))) {
    bad_option(key, value,
               fmt::format("an MTU between {} and {} (or 0 for the default)", kMinMtu, kMaxMtu));
  }
  return static_cast<uint32_t>(mtu);
}

}  // namespace

std::optional<bool> parse_go_bool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

NetworkOptions parse_network_options(const std::map<std::string, std::string>& options) {
  NetworkOptions parsed;
  for (const auto& [key, value] : options) {
    if (key == kOptEnableIcc) {
      parsed.icc = option_bool(key, value);
    } else if (key == kOptEnableIpMasquerade) {
      parsed.masquerade = option_bool(key, value);
    } else if (key == kOptHostBindingIpv4) {
      auto ip = Ipv4::try_parse(value);
      if (!ip) bad_option(key, value, "an IPv4 address");
      parsed.host_binding_ipv4 = *ip;
    } else if (key == kOptMtu) {
      parsed.mtu = option_mtu(key, value);
    }
  }
  return parsed;
}

std::pair<std::string, std::string> parse_key_value(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw UserError(fmt::format("invalid option \"{}\": expected KEY=VALUE", text));
  }
  return {std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

std::map<std::string, std::string> parse_key_values(const std::vector<std::string>& args) {
  std::map<std::string, std::string> result;
  for (const std::string& arg : args) {
    auto [key, value] = parse_key_value(arg);
    result[key] = value;
  }
  return result;
}

}  // namespace bpfnet::core
