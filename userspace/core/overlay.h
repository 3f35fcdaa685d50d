// Overlay networks as one host holds them. An overlay network lives in the
// cluster store (store/cluster_registry.h); every host mirrors it into its
// own State, where it is a network like a bridge network (a local index, a
// dummy holding the gateway, endpoints, published ports, services) plus the
// VNI that joins its hosts.
#pragma once

#include <cstdint>

#include "core/state.h"

namespace bpfnet::core {

// Adds the mirror of an overlay network the store holds: `network` carries
// the cluster's fields (id, name, created, subnet, gateway, ip_range,
// internal, options, vni, driver overlay); its index and dummy are chosen
// here. A network already mirrored (same ID) is returned as it is. Throws
// UserError when it cannot be held here: a local network with its name or
// an overlapping subnet, a bad VNI, no free index.
const Network& mirror_overlay_network(State& state, Network network);

}  // namespace bpfnet::core
