// Docker's default network: `bridge`, created on first start (172.17.0.0/16,
// or the first default pool no host route or other network overlaps, as
// dockerd picks it when docker0's usual subnet is taken), listed next to
// `host` and `none`, and never removed while it is enabled. `--bip` and
// `--bridge none` are dockerd's flags for the same choices.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/id_source.h"
#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

inline constexpr std::string_view kDefaultBridgeName = "bridge";
// What Docker shows in the default bridge's Options; it marks the network.
inline constexpr std::string_view kOptDefaultBridge = "com.docker.network.bridge.default_bridge";

struct DefaultBridgeSettings {
  bool enabled = true;  // false: --bridge none
  // --bip GATEWAY/PREFIX (dockerd's spelling: the bridge's own address with
  // the subnet's length, e.g. 172.26.0.1/16); none: pick from the pools.
  std::optional<std::string> bip;
};

// Parses --bip. Throws UserError `invalid --bip "X": expected the bridge's
// address and prefix length, e.g. 172.26.0.1/16`.
struct BridgeIp {
  Cidr subnet;
  Ipv4 gateway;
};
BridgeIp parse_bip(const std::string& text);

bool is_default_bridge(const Network& network);

// Brings `state` to `settings` and returns what it did, for the log (empty:
// nothing). Enabled and missing: creates it (avoiding `avoid`, i.e. host
// routes and subnets a config file asks for). Enabled and present: kept; a
// --bip that differs from it is reported, not applied (its endpoints keep
// their addresses). Disabled: removed if it has no endpoints or services,
// otherwise kept and reported. A network of the user's that is named
// "bridge" is never touched. Throws UserError when --bip overlaps another
// network (nothing changed).
std::vector<std::string> ensure_default_bridge(State& state, const DefaultBridgeSettings& settings,
                                               const std::vector<Cidr>& avoid, IdSource& ids,
                                               const std::string& now);

}  // namespace bpfnet::core
