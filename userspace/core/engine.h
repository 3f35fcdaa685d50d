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

// `docker network connect`.
struct ConnectRequest {
  std::string network;    // name, full ID or unique ID prefix
  std::string container;  // container name
  std::string netns;      // the container's network namespace, as the user names it
  std::optional<std::string> ip;
  std::optional<std::string> mac;
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
// service S`.
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

}  // namespace bpfnet::core
