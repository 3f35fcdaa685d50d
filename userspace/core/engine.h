// The operations on the desired state. Each one validates everything first
// and changes the State only when it succeeds: on an exception the State is
// exactly as before (strong guarantee). Nothing here touches the system; the
// daemon applies the resulting State to the kernel.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/id_source.h"
#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// `docker network create`.
struct NetworkCreate {
  std::string name;
  std::string driver = std::string(kDriverBridge);  // empty is read as "bridge"
  std::optional<std::string> subnet;
  std::optional<std::string> gateway;
  std::optional<std::string> ip_range;
  bool internal = false;
  std::map<std::string, std::string> options;  // Docker's -o keys
};

class JsonFields;
// The fields of a NetworkCreate, as the control protocol's network.create
// and the config file's "networks" entries both spell them.
NetworkCreate read_network_create(JsonFields& fields);

// `docker network connect`.
struct ConnectRequest {
  std::string network;    // name, full ID or unique ID prefix
  std::string container;  // container name
  std::string netns;      // the container's network namespace, as the user names it
  std::optional<std::string> ip;
  std::optional<std::string> mac;
  // The container's interface (CNI_IFNAME); none: the lowest free ethN.
  std::optional<std::string> ifname;
};

// Creates a bridge network. `host_routes` are the host's routes; an automatic
// subnet avoids them, an explicit --subnet may overlap them (as in Docker).
// `now` is the creation time (RFC 3339). The reference is valid until the
// State changes again.
const Network& create_network(State& state, const NetworkCreate& request,
                              const std::vector<Cidr>& host_routes, IdSource& ids,
                              const std::string& now);

// Removes a network without endpoints and services and returns it (the
// caller tears down its kernel objects). Throws UserError `error while
// removing network: network N id ID has active endpoints` or `... is used by
// service S`. Docker's networks are Docker's to remove (`network N is managed
// by Docker: use `docker network rm``), as are their endpoints to connect
// and disconnect (connect, remove_endpoint). So are an overlay network with
// a Docker face (core/docker_overlay.h) and Docker's endpoints on it.
Network remove_network(State& state, const std::string& name_or_id);

// Connects a container to a bridge network, at --ip or the lowest free
// address (see core/ipam.h: service VIPs are skipped). `keep_free` are
// addresses the dynamic allocator must skip (static addresses promised to
// other containers or services of a config file that do not exist yet); an
// explicit --ip may use them.
const Endpoint& connect(State& state, const ConnectRequest& request, IdSource& ids,
                        const std::set<Ipv4>& keep_free = {});

// `docker network disconnect`: removes and returns the endpoint. Its
// published ports (Endpoint::ports) go with it, and the container stops
// being a backend of every service on that network (as a task leaves its
// service in Swarm, or a pod its endpoints in Kubernetes: disconnecting is
// how a container goes away, so it must not be refused). Its backend IDs
// become free.
Endpoint remove_endpoint(State& state, const std::string& network, const std::string& container);

// --- Docker's networks and endpoints (the network-driver plugin, see
// daemon/docker_driver.h). Docker's IPAM chooses every address; these only
// record and check them. Operations on IDs Docker forgets are idempotent
// where Docker retries them (removals, Leave).

// Docker's CreateNetwork, its wire format already read.
struct DockerNetworkCreate {
  std::string id;                      // Docker's NetworkID (64 hex): becomes the network's ID
  std::string name;                    // the bpfnet name (Docker does not send its own)
  std::string subnet;                  // IPv4Data[0].Pool
  std::optional<std::string> gateway;  // without the mask; nullopt: .1
  std::map<std::string, std::string> aux_addresses;  // name -> address without the mask
  bool internal = false;
  std::map<std::string, std::string> options;  // com.docker.network.generic (the -o map)
};

// Docker's CreateEndpoint.
struct DockerEndpointCreate {
  std::string network_id;
  std::string endpoint_id;             // 64 hex
  std::optional<std::string> address;  // Interface.Address without the mask; nullopt: allocate
  std::optional<std::string> mac;      // Interface.MacAddress; nullopt: 02:42:<ip>
};

// The network Docker's NetworkID stands for: a Docker network, or the
// overlay network it is the face of (core/docker_overlay.h). Throws
// UserError `network ID not found`.
const Network& get_docker_network(const State& state, const std::string& network_id);
// Throws UserError `network ID not found` or `endpoint ID not found on network ID`.
const Endpoint& get_docker_endpoint(const State& state, const std::string& network_id,
                                    const std::string& endpoint_id);

// Adds a network with Docker's ID, pool, gateway and aux addresses, checked as
// `network create` checks them (a pool overlapping another network is
// refused). Repeating an identical request returns the existing network.
// On an overlay network's global IPAM pool (or with -o bpfnet.network=OV)
// the Docker network becomes the overlay's face instead, and the overlay is
// returned (core/docker_overlay.h).
const Network& create_docker_network(State& state, const DockerNetworkCreate& request,
                                     const std::string& now);

// Removes a Docker network with whatever endpoints bpfnet still holds on it
// (Docker removes them first; any left are stale). Refused while a service
// uses it. Returns nullopt for an unknown ID: Docker retries removals. An
// overlay's face goes with its stale Docker endpoints; the overlay stays.
std::optional<Network> remove_docker_network(State& state, const std::string& network_id);

// Adds a Docker endpoint (not yet joined: no veth) at the address Docker's
// IPAM chose. A Docker endpoint of the same network still holding that
// address is stale (Docker released it) and is removed. The MAC is Docker's
// 02:42:<ip> unless given.
const Endpoint& create_docker_endpoint(State& state, const DockerEndpointCreate& request,
                                       IdSource& ids);

// Records the sandbox: the endpoint gets its veth. Joining the same sandbox
// again changes nothing; another one is refused.
const Endpoint& join_docker_endpoint(State& state, const std::string& network_id,
                                     const std::string& endpoint_id, const std::string& sandbox);
// Forgets the sandbox: the veth goes. Unknown endpoints are ignored.
void leave_docker_endpoint(State& state, const std::string& network_id,
                           const std::string& endpoint_id);
// Removes the endpoint and its published ports; nullopt if unknown.
std::optional<Endpoint> remove_docker_endpoint(State& state, const std::string& network_id,
                                               const std::string& endpoint_id);

}  // namespace bpfnet::core
