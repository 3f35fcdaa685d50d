// The `--config` file: networks and containers the daemon makes sure exist.
//
//   {"networks": [{"name", "driver"?, "subnet"?, "gateway"?, "ip_range"?,
//                  "internal"?, "options"?: {}}],
//    "containers": [{"name", "netns",
//                    "networks": ["netname" | {"name", "ip"?, "mac"?}],
//                    "ports"?: ["8080:80/tcp", ...]}],
//    "uplinks"?: ["eth0", ...],
//    "services"?: [{"name", "network", "vip"?, "ports": ["80/tcp", ...],
//                   "publish"?: ["8080:80/tcp", ...], "affinity"?,
//                   "table_size"?, "health"?: {...},
//                   "backends"?: ["container" | {"container", "weight"?}]}]}
//
// A container's "ports" (Docker's -p syntax) are published on the first
// network of its "networks". Services take the keys of service.create (see
// core/service.h) plus their backends, and are applied after the containers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/id_source.h"
#include "core/ip.h"
#include "core/portmap.h"
#include "core/service.h"
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
  std::vector<std::string> ports;  // -p specs, for networks[0]
};

struct ConfigBackend {
  std::string container;
  std::optional<int64_t> weight;  // nullopt: 1 for a new backend, any for an existing one

  bool operator==(const ConfigBackend&) const = default;
};

struct ConfigService {
  ServiceCreate service;
  std::vector<ConfigBackend> backends;
};

struct Config {
  std::vector<NetworkCreate> networks;
  std::vector<ConfigContainer> containers;
  std::vector<std::string> uplinks;  // host interface names
  std::vector<ConfigService> services;
};

// Checks the shape: types, required and unknown keys, duplicate network,
// container or service names, duplicate uplinks, ports without a network,
// containers listed twice as backends of a service. Values (addresses,
// options, port specs, interface names, service settings) are checked by
// apply_config.
// Throws UserError naming the path, e.g.
// `config: containers[0].networks[1].ip: expected a string`.
Config parse_config(const nlohmann::json& json);

// Makes the State contain everything the config describes. Declarative and
// idempotent: a network that already exists under the same name is kept
// (UserError if an explicit setting of the config differs from it), a
// container already connected to a network is kept, a published port
// already satisfied by a binding of the container is kept (see ensure_ports;
// a conflicting one is an error), uplinks are added to State.uplinks unless
// present. A service that already exists under the same name is kept
// (UserError if an explicit setting differs, see ensure_service; missing
// published ports are added), a backend already in its service is kept (a
// draining one stays draining; UserError if an explicit weight differs from
// a non-zero one), missing backends are added. Static addresses of the
// config (containers' "ip", services' "vip") are kept free while others are
// allocated dynamically. Nothing outside the config is removed. All or
// nothing: on an exception the State is unchanged. `ports` is the host's
// port environment for choosing host ports (see add_ports).
void apply_config(State& state, const Config& config, const std::vector<Cidr>& host_routes,
                  const PortEnvironment& ports, IdSource& ids, const std::string& now);

}  // namespace bpfnet::core
