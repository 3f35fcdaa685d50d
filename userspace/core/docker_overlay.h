// Docker networks on bpfnet overlay networks. On every Docker host,
//   docker network create -d bpfnet --ipam-driver bpfnet --ipam-opt bpfnet.network=OV NAME
// makes the Docker network NAME the face of overlay network OV on that host:
// Docker's IPAM pool is OV's subnet (a global pool, core/docker_ipam.h,
// whose addresses are taken in the cluster store), and Docker's endpoints on
// NAME are endpoints of OV itself, next to bpfnetctl's, so that every host's
// tunnel map learns them. The face is OV's `docker_network_id` in this
// host's State; the overlay itself stays the cluster's.
#pragma once

#include "core/engine.h"
#include "core/state.h"

namespace bpfnet::core {

// The overlay network a Docker CreateNetwork is for: the one whose global
// IPAM pool is the request's subnet, or the one `-o bpfnet.network=OV`
// names; nullptr for a Docker network of its own (a local bridge). Throws
// UserError naming what is wrong: an option naming no network or no
// overlay, a subnet, gateway, --internal or option that is not the
// overlay's, --aux-address, or addresses that would not come from the
// cluster (Docker's own IPAM).
const Network* docker_overlay_for(const State& state, const DockerNetworkCreate& request);

// Makes `docker_network_id` the face of `overlay`. Repeating it changes
// nothing (Docker repeats a CreateNetwork whose answer it lost); a second
// Docker network on the same overlay, or an ID some network has, is refused.
const Network& add_docker_face(State& state, const Network& overlay,
                               const std::string& docker_network_id);

// Drops the overlay's face with the Docker endpoints bpfnet still holds on
// it (Docker deletes them first; any left are stale). The overlay and
// bpfnetctl's endpoints on it stay.
void remove_docker_face(State& state, const Network& overlay);

}  // namespace bpfnet::core
