// Health across hosts (issue 13, services across hosts): each backend is
// probed by the host its container lives on, with the health check of the
// service that balances to it, and its state is shared through the cluster
// store. The service's host asks (a CheckRecord per remote backend, under
// its lease); the backend's host probes and answers (a BackendHealthRecord
// on every flip, under its lease); every host's Maglev table for the service
// leaves out a backend its host says is unhealthy, as it leaves out one whose
// host or container is gone, and the flows to it are purged as a local
// backend's are. A host that dies takes its answers with it; its backends
// are then gone from the view anyway.
#include <fmt/format.h>

#include "core/error.h"
#include "daemon/controller.h"
#include "daemon/log.h"
#include "datapath/conntrack.h"

namespace bpfnet::daemon {

const store::BackendHealthRecord* Controller::unhealthy_verdict(
    const core::Service& svc, const core::RemoteContainer& backend) const {
  auto health = cluster_health_.find({svc.id, backend.endpoint_id});
  // Only the backend's own host speaks for it.
  if (health == cluster_health_.end() || health->second.host != backend.host ||
      health->second.healthy)
    return nullptr;
  return &health->second;
}

bool Controller::has_remote_backends() const {
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends)
      if (core::is_remote_backend(be.container)) return true;
  return false;
}

std::set<uint32_t> Controller::remote_backends_out() const {
  std::set<uint32_t> out;
  // Every sync: no copy of a large cluster's endpoints for nothing.
  if (!has_remote_backends()) return out;
  const std::vector<core::RemoteContainer> remote = remote_containers();
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      if (!core::is_remote_backend(be.container)) continue;
      const core::RemoteContainer* found =
          core::find_remote_backend(remote, svc.network_id, be.container);
      if (!found || unhealthy_verdict(svc, *found)) out.insert(be.id);
    }
  return out;
}

void Controller::sync_backend_checks(bool view_changed) {
  Cluster& cluster = *cluster_;
  if (!has_remote_backends() && published_checks_.empty() && !view_changed) return;
  // Without remote backends no check is wanted: no copy of every remote
  // endpoint on each change of the view.
  const std::vector<core::RemoteContainer> remote =
      has_remote_backends() ? remote_containers() : std::vector<core::RemoteContainer>{};
  std::map<store::ClusterView::BackendKey, store::CheckRecord> wanted;
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      // The cluster's services are on every host: each probes its own
      // backends of them and says which are down (publish_mesh_health).
      if (svc.global || !core::is_remote_backend(be.container)) continue;
      const core::RemoteContainer* found =
          core::find_remote_backend(remote, svc.network_id, be.container);
      if (!found || found->endpoint_id.empty() || core::health_check_port(svc) == 0) continue;
      wanted[{svc.id, found->endpoint_id}] = store::CheckRecord{
          svc.name,    cluster.host().name,          svc.network_id, found->endpoint_id,
          found->host, core::health_check_port(svc), svc.health};
    }
  // A previous run's checks (its lease resumed) that no service wants now.
  if (view_changed)
    for (const auto& [key, check] : cluster_checks_)
      if (check.service_host == cluster.host().name && !wanted.contains(key))
        published_checks_.emplace(key, check);
  for (auto it = published_checks_.begin(); it != published_checks_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    cluster.registry().withdraw_check(it->first.first, it->first.second);
    it = published_checks_.erase(it);
  }
  for (const auto& [key, check] : wanted) {
    auto had = published_checks_.find(key);
    if (had != published_checks_.end() && had->second == check) continue;
    cluster.registry().publish_check(key.first, check);
    published_checks_[key] = check;
  }
}

void Controller::sync_remote_probes() {
  Cluster& cluster = *cluster_;
  const std::string& self = cluster.host().name;
  std::map<store::ClusterView::BackendKey, uint32_t> known;
  for (const auto& [id, probe] : remote_probes_) known[probe.key] = id;
  std::set<uint32_t> live;
  bool changed = false;  // the checker's targets (set once per change, not per tick)
  for (const auto& [key, check] : cluster_checks_) {
    if (check.host != self) continue;
    const core::Endpoint* ep = state_.endpoint_by_id(check.endpoint_id);
    if (!ep || ep->network_id != check.network_id) continue;
    const HealthTarget target = health_target(0, ep->ip.value, check.port, check.health);
    auto it = known.find(key);
    if (it == known.end()) {
      RemoteProbe probe{key, check, target, {}, std::nullopt};
      // A record of this host's previous run: its verdict stands until the
      // probes say otherwise.
      auto had = cluster_health_.find(key);
      if (had != cluster_health_.end() && had->second.host == self) {
        probe.published_healthy = had->second.healthy;
        probe.state.healthy = had->second.healthy;
        probe.state.last_error = had->second.last_error;
      }
      const uint32_t id = kFirstRemoteProbeId + next_remote_probe_id_++;
      it = known.emplace(key, id).first;
      remote_probes_.emplace(id, std::move(probe));
      changed = true;
    }
    RemoteProbe& probe = remote_probes_.at(it->second);
    probe.check = check;
    HealthTarget next = target;
    next.backend_id = it->second;
    changed |= !(probe.target == next);
    probe.target = next;
    live.insert(it->second);
  }
  for (auto it = remote_probes_.begin(); it != remote_probes_.end();) {
    if (live.contains(it->first)) {
      ++it;
      continue;
    }
    if (it->second.published_healthy)
      cluster.registry().withdraw_backend_health(it->second.key.first, it->second.key.second);
    it = remote_probes_.erase(it);
    changed = true;
  }
  // Records of this host's that no check asks for any more.
  for (const auto& [key, health] : cluster_health_)
    if (health.host == self && !known.contains(key) && !published_mesh_health_.contains(key))
      cluster.registry().withdraw_backend_health(key.first, key.second);
  if (changed) update_health_targets();
}

void Controller::publish_probe_states() {
  if (!cluster_ || !cluster_->started()) return;
  for (auto& [id, probe] : remote_probes_) {
    if (probe.published_healthy.value_or(true) == probe.state.healthy) continue;
    cluster_->registry().publish_backend_health(
        probe.key.first, probe.key.second,
        store::BackendHealthRecord{"", probe.state.healthy, probe.state.last_error});
    probe.published_healthy = probe.state.healthy;
  }
}

bool Controller::record_remote_probe(const HealthResult& result) {
  auto it = remote_probes_.find(result.backend_id);
  if (it == remote_probes_.end()) return false;
  RemoteProbe& probe = it->second;
  if (!core::record(probe.state, probe.check.health, result.ok, result.error)) return false;
  warn(fmt::format("service {} of host {}: backend {} is now {}{}", probe.check.service,
                   probe.check.service_host,
                   state_.endpoint_by_id(probe.check.endpoint_id)
                       ? state_.endpoint_by_id(probe.check.endpoint_id)->container
                       : probe.check.endpoint_id.substr(0, 12),
                   probe.state.healthy ? "healthy" : "unhealthy",
                   probe.state.healthy ? "" : " (" + probe.state.last_error + ")"));
  try {
    publish_probe_states();
  } catch (const std::exception& e) {
    // Published at a later tick (sync_cluster retries).
    warn(fmt::format("cluster: publishing a backend's health: {}", e.what()));
  }
  return true;
}

void Controller::purge_remote_backends_out() {
  if (!has_remote_backends() && remote_backend_ips_.empty() && remote_out_.empty()) return;
  const std::vector<core::RemoteContainer> remote = remote_containers();
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends)
      if (core::is_remote_backend(be.container))
        if (const core::RemoteContainer* found =
                core::find_remote_backend(remote, svc.network_id, be.container))
          remote_backend_ips_[be.id] = found->ip.value;
  const std::set<uint32_t> out = remote_backends_out();
  std::set<uint32_t> newly_out_ips;
  for (uint32_t id : out)
    if (!remote_out_.contains(id))
      if (auto ip = remote_backend_ips_.find(id); ip != remote_backend_ips_.end())
        newly_out_ips.insert(ip->second);
  remote_out_ = out;
  // Forget backends no service has any more.
  std::set<uint32_t> ids;
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) ids.insert(be.id);
  std::erase_if(remote_backend_ips_, [&](const auto& kv) { return !ids.contains(kv.first); });
  datapath::purge_lb_flows_to(*datapath_, newly_out_ips, flow_end_sink());
}

}  // namespace bpfnet::daemon
