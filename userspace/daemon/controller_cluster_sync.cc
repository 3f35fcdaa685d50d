// How a change of the cluster view reaches this host's maps. Each sync takes
// only what changed since the last one (Cluster::take_changes): another
// host's endpoint that came or went is one tunnel-map write, not a rebuild
// of every remote endpoint and a diff of the whole desired state against
// the maps, which at 50 hosts x 200 endpoints (every host syncing every
// connect of every other) was where the control plane's time went
// (bench/RESULTS.md). Everything is reconciled from the view when the view
// says it re-read the store (at start, after a compaction or an outage of
// the store) or the lease was renewed, and when overlay networks change (a
// tunnel entry carries its network's index), so nothing drifts.
#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/remote_backend.h"
#include "daemon/controller.h"
#include "daemon/log.h"
#include "datapath/projection.h"

namespace bpfnet::daemon {

void Controller::apply_cluster_changes(const ClusterChanges& changes, bool lb_changed) {
  if (changes.full || changes.backends) {
    cluster_checks_ = cluster_->checks();
    cluster_health_ = cluster_->backend_health();
  }
  const bool full = changes.full || tunnels_behind_;
  if (full) host_.remote_endpoints = cluster_->remote_endpoints();
  // Each touched address's entry as the maps have it now (before its first
  // change in this batch), then the facts as the view says.
  std::map<uint32_t, std::optional<datapath::TunnelEntry>> before;
  std::set<std::string> networks;
  for (const auto& change : full ? std::vector<RemoteEndpointChange>{} : changes.remote) {
    auto it = host_.remote_endpoints.find(change.ip);
    if (!before.contains(change.ip))
      before[change.ip] = it == host_.remote_endpoints.end()
                              ? std::nullopt
                              : datapath::tunnel_entry(state_, change.ip, it->second);
    networks.insert(change.fact.network_id);
    if (!change.removed) {
      host_.remote_endpoints[change.ip] = change.fact;
    } else if (it != host_.remote_endpoints.end() && it->second == change.fact) {
      // Only the endpoint that went: another one may hold the address by now.
      host_.remote_endpoints.erase(it);
    }
  }
  // Whatever fails below (a refused write, a network that cannot be
  // mirrored) leaves the maps behind the facts: the next sync reconciles
  // them all, until that succeeds.
  tunnels_behind_ = true;
  if (full || changes.networks) {
    mirror_cluster_networks();  // commits or writes the maps: all of them
  } else if (lb_changed || changes.backends || remote_backends_on(networks)) {
    // Services with backends on other hosts resolve them through the
    // remote endpoints (and the backends' health): the whole projection.
    write_maps(state_);
  } else {
    write_tunnels(before);
  }
  tunnels_behind_ = false;
}

bool Controller::remote_backends_on(const std::set<std::string>& networks) const {
  for (const auto& svc : state_.services) {
    if (!networks.contains(svc.network_id)) continue;
    for (const auto& be : svc.backends)
      if (core::is_remote_backend(be.container)) return true;
  }
  return false;
}

void Controller::write_tunnels(
    const std::map<uint32_t, std::optional<datapath::TunnelEntry>>& before) {
  datapath::MapDelta delta;
  for (const auto& [ip, had] : before) {
    auto it = host_.remote_endpoints.find(ip);
    const std::optional<datapath::TunnelEntry> want =
        it == host_.remote_endpoints.end() ? std::nullopt
                                           : datapath::tunnel_entry(state_, ip, it->second);
    if (want == had) continue;
    if (want) {
      delta.tunnels.upserts.emplace_back(ip, *want);
    } else {
      delta.tunnels.deletes.emplace_back(ip, *had);
    }
  }
  if (!delta.empty()) datapath_->apply(delta);
}

}  // namespace bpfnet::daemon
