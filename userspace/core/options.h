// Docker's `-o` network options and `KEY=VALUE` command-line arguments.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip.h"

namespace bpfnet::core {

inline constexpr std::string_view kOptEnableIcc = "com.docker.network.bridge.enable_icc";
inline constexpr std::string_view kOptEnableIpMasquerade =
    "com.docker.network.bridge.enable_ip_masquerade";
inline constexpr std::string_view kOptHostBindingIpv4 =
    "com.docker.network.bridge.host_binding_ipv4";
inline constexpr std::string_view kOptMtu = "com.docker.network.driver.mtu";

inline constexpr uint32_t kDefaultMtu = 1500;
inline constexpr uint32_t kMinMtu = 68;  // the IPv4 minimum (RFC 791)
inline constexpr uint32_t kMaxMtu = 65535;

// The options bpfnet interprets, with Docker's defaults.
struct NetworkOptions {
  bool icc = true;
  bool masquerade = true;
  Ipv4 host_binding_ipv4;  // 0.0.0.0: every host address
  uint32_t mtu = 0;        // 0: not set, the host's default applies

  // `host_default`: what the host's uplinks can carry (HostFacts::default_mtu).
  uint32_t effective_mtu(uint32_t host_default = kDefaultMtu) const {
    return mtu == 0 ? host_default : mtu;
  }

  bool operator==(const NetworkOptions&) const = default;
};

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
std::optional<bool> parse_go_bool(std::string_view text);

// Interprets the known keys of a `-o` map. Unknown keys are accepted and left
// alone (Docker keeps them and shows them in inspect). Throws UserError naming
// the key and the value, e.g.
// `invalid value "maybe" for option com.docker.network.bridge.enable_icc: expected a boolean`.
NetworkOptions parse_network_options(const std::map<std::string, std::string>& options);

// Splits one `KEY=VALUE` argument at the first '='. The value may be empty or
// contain '='; the key may not be empty. Throws UserError
// `invalid option "TEXT": expected KEY=VALUE`.
std::pair<std::string, std::string> parse_key_value(std::string_view text);

// parse_key_value over repeated arguments; a repeated key keeps the last value.
std::map<std::string, std::string> parse_key_values(const std::vector<std::string>& args);

}  // namespace bpfnet::core
