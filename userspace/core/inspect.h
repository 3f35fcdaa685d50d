// Docker-shaped JSON for the control protocol (see userspace/README.md).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/state.h"

namespace bpfnet::core {

// One `docker network inspect` object: Name, Id, Created, Scope, Driver,
// EnableIPv4, EnableIPv6, IPAM, Internal, Attachable, Ingress, ConfigFrom,
// ConfigOnly, Containers (keyed by container ID), Options, Labels.
nlohmann::json network_inspect(const State& state, const Network& network);

// The result of network.connect: container, network (name), endpoint_id, ip,
// prefix_len, mac, gateway, ifname, host_ifname.
nlohmann::json endpoint_json(const State& state, const Endpoint& endpoint);

// One published port of `endpoint`: proto, container_port, host_ip,
// host_port, network (name), container_ip.
nlohmann::json binding_json(const State& state, const Endpoint& endpoint,
                            const PortBinding& binding);

// The result of port.ls: [{"container", "bindings": [binding_json...]}], one
// element per container with bindings, sorted by container name; with
// `container` (name or full ID), just that one, possibly with no bindings
// (UserError `No such container: C` if it has no endpoint). Bindings are
// sorted as `docker port` prints them: by container port, then protocol,
// host IP, host port and network name.
nlohmann::json ports_json(const State& state, const std::optional<std::string>& container);

}  // namespace bpfnet::core
