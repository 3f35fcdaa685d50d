// Services of the cluster (Swarm's routing mesh): a service on an overlay
// network made with `service create` lives in the cluster store and every
// host makes it locally, with the same ID, VIP, ports, published host ports,
// health check and backends. The store names every backend CONTAINER@HOST
// (its host spelled out, also the creating host's); each host names its own
// containers alone, as add_backend does. Pure logic over State; the daemon
// (daemon/controller_mesh.cc) does the store's side.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/remote_backend.h"
#include "core/service.h"
#include "core/state.h"

namespace bpfnet::core {

// The request that makes `service` again on another host: its name, network
// (by ID), VIP, ports, host bindings (exactly: host IP and port), affinity,
// table size and health check. No backends.
ServiceCreate recreate_request(const Service& service);

// "web" on host `self` -> "web@self"; "web@h2" stays.
std::string cluster_backend_name(std::string_view name, std::string_view self);
// "web@self" -> "web"; "web@h2" stays.
std::string local_backend_name(std::string_view name, std::string_view self);

// The service's backends with cluster names (IDs as they are here).
std::vector<ServiceBackend> cluster_backends(const Service& service, std::string_view self);

// The backend change from `before` to `after` (cluster names: added,
// removed, weights) applied to `target`, another copy of the same list that
// may have changed meanwhile (another host's change), so that neither is lost.
void merge_backend_change(std::vector<ServiceBackend>& target,
                          const std::vector<ServiceBackend>& before,
                          const std::vector<ServiceBackend>& after);

// Makes service `name`'s backends the cluster's `wanted` (cluster names,
// weights; 0: draining), in this host's names: missing ones added (a
// draining one added and drained), gone ones removed, weights set in place
// (a backend keeps its ID, so its Maglev slots and flows stay). Each
// backend on its own: one this host cannot add yet (its container not in
// `remote` or not connected here) is left out and its refusal returned; the
// others are applied.
std::vector<std::string> set_cluster_backends(State& state, const std::string& name,
                                              const std::vector<ServiceBackend>& wanted,
                                              std::string_view self,
                                              const std::vector<RemoteContainer>& remote);

}  // namespace bpfnet::core
