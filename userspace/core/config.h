// The `--config` file: networks and containers the daemon makes sure exist.
//
//   {"networks": [{"name", "driver"?, "subnet"?, "gateway"?, "ip_range"?,
//                  "internal"?, "options"?: {}}],
//    "containers": [{"name", "netns",
//                    "networks": ["netname" | {"name", "ip"?, "mac"?}]}]}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/id_source.h"
#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

struct ConfigAttachment {
  std::string network;
  std::optional<std::string> ip;
  std::optional<std::string> mac;
};

struct ConfigContainer {
  std::string name;
  std::string netns;
  std::vector<ConfigAttachment> networks;
};

struct Config {
  std::vector<NetworkCreate> networks;
  std::vector<ConfigContainer> containers;
};

// Checks the shape: types, required and unknown keys, duplicate network or
// container names. Values (addresses, options) are checked by apply_config.
// Throws UserError naming the path, e.g.
// `config: containers[0].networks[1].ip: expected a string`.
Config parse_config(const nlohmann::json& json);

// Makes the State contain everything the config describes. Declarative and
// idempotent: a network that already exists under the same name is kept
// (UserError if an explicit setting of the config differs from it), a
// container already connected to a network is kept. Nothing outside the
// config is removed. All or nothing: on an exception the State is unchanged.
void apply_config(State& state, const Config& config, const std::vector<Cidr>& host_routes,
                  IdSource& ids, const std::string& now);

}  // namespace bpfnet::core
