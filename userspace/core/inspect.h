// Docker-shaped JSON for the control protocol (see userspace/README.md).
#pragma once

#include <nlohmann/json.hpp>

#include "core/state.h"

namespace bpfnet::core {

// One `docker network inspect` object: Name, Id, Created, Scope, Driver,
// EnableIPv4, EnableIPv6, IPAM, Internal, Attachable, Ingress, ConfigFrom,
// ConfigOnly, Containers (keyed by container ID), Options, Labels.
nlohmann::json network_inspect(const State& state, const Network& network);

// The result of network.connect: container, network (name), endpoint_id, ip,
// prefix_len, mac, gateway, ifname, host_ifname.
nlohmann::json endpoint_json(const State& state, const Endpoint& endpoint);

}  // namespace bpfnet::core
