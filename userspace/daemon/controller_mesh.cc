// Services of the cluster (Swarm's routing mesh, core/service_mesh.h): a
// service made with `service create` on an overlay network is a record in
// the cluster store (store/cluster_services.cc), under no host's lease, and
// every host makes it from that record: the same ID, VIP, ports and backends
// (its own containers and the others' through the tunnel), its published
// ports on this host's uplinks. Changes go to the store first (one
// transaction each) and then here; the other hosts follow the record
// through the view (sync_mesh_services). Health: each host probes its own
// backends (health_targets) and publishes the ones that are down
// (publish_mesh_health), which every host's table leaves out
// (unhealthy_verdict). A host that dies takes none of this with it but its
// backends, which leave every table as its endpoints leave the view.
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/service_mesh.h"
#include "daemon/controller.h"
#include "daemon/log.h"

namespace bpfnet::daemon {

namespace {

// Service `name` (just made by create_service) as the cluster's: its ID.
void make_global(core::State& state, const std::string& name, const std::string& id) {
  for (core::Service& svc : state.services)
    if (svc.name == name) {
      svc.id = id;
      svc.global = true;
    }
}

}  // namespace

std::string Controller::create_mesh_service(core::ServiceCreate request) {
  Cluster& cluster = require_cluster();
  const std::string network_id = state_.get_network(request.network).id;
  request.network = network_id;
  // Every local check (name, ports, this host's published ports, VIP) first,
  // with a VIP no host has given out; then the record and the VIP in one
  // transaction (a name or VIP another host took meanwhile is refused).
  const std::string& self = cluster.host().name;
  // A config-file service of this name on another host (local to each host
  // that defines it, sharing one VIP): names are the cluster's. (A service
  // of the cluster of this name is refused by the transaction below.)
  const bool of_the_cluster = cluster.services().contains(request.name);
  std::set<core::Ipv4> taken;
  for (const auto& [ip, holder] : cluster.registry().addresses(network_id)) {
    taken.insert(ip);
    if (!of_the_cluster && holder.owner == store::vip_owner(request.name) && holder.host != self)
      throw core::UserError(
          fmt::format("service with name {} already exists on host {} (from its config file)",
                      request.name, holder.host));
  }
  core::State scratch = state_;
  core::Service made = core::create_service(scratch, request, ids_, port_environment(), taken);
  made.global = true;
  cluster.registry().create_service(store::ServiceRecord{self, made});
  try {
    update([&](core::State& next) {
      core::create_service(next, core::recreate_request(made), ids_, port_environment());
      make_global(next, made.name, made.id);
    });
  } catch (...) {
    cluster.registry().remove_service(made.name, made.id);
    throw;
  }
  return made.id;
}

void Controller::remove_mesh_service(const core::Service& service) {
  Cluster& cluster = require_cluster();
  const std::string name = service.name;
  cluster.registry().remove_service(name, service.id);
  update([&](core::State& next) { core::remove_service(next, name); });
  mesh_problems_.erase(name);
}

void Controller::change_service(const std::string& name,
                                const std::function<void(core::State&)>& change) {
  const core::Service* service = state_.find_service(name);
  if (!service || !service->global) {
    update(change);
    return;
  }
  Cluster& cluster = require_cluster();
  const std::string self = cluster.host().name;
  const std::string id = service->id;
  core::State next = state_;
  change(next);  // refused here: nothing changed anywhere
  const auto before = core::cluster_backends(*service, self);
  const auto after = core::cluster_backends(next.get_service(name), self);
  cluster.registry().update_service(name, id, [&](store::ServiceRecord& record) {
    core::merge_backend_change(record.service.backends, before, after);
  });
  commit(std::move(next));
}

std::vector<std::string> Controller::mesh_problems(const std::string& name) const {
  auto it = mesh_problems_.find(name);
  return it == mesh_problems_.end() ? std::vector<std::string>{} : it->second;
}

void Controller::note_mesh_problems(const std::string& name, std::vector<std::string> problems) {
  std::vector<std::string>& had = mesh_problems_[name];
  for (const auto& problem : problems)
    if (std::find(had.begin(), had.end(), problem) == had.end())
      error(fmt::format("service {} of the cluster: {}", name, problem));
  had = std::move(problems);
  if (had.empty()) mesh_problems_.erase(name);
}

void Controller::apply_mesh_service(const store::ServiceRecord& record,
                                    const std::vector<core::RemoteContainer>& remote) {
  const core::Service& wanted = record.service;
  const std::string& name = wanted.name;
  std::vector<std::string> problems;
  const core::Service* here = state_.find_service(name);
  if (here && !here->global)
    throw core::UserError(
        fmt::format("not made on this host: a service of this host is named {}", name));
  const core::Network* network = state_.network_by_id(wanted.network_id);
  if (!network)
    throw core::UserError(fmt::format("not made on this host yet: its network {} is not here",
                                      wanted.network_id.substr(0, 12)));
  if (!here) {
    core::ServiceCreate request = core::recreate_request(wanted);
    auto make = [&](core::State& next) {
      core::create_service(next, request, ids_, port_environment());
      make_global(next, name, wanted.id);
    };
    try {
      update(make);
    } catch (const core::UserError& e) {
      // Its published ports taken here (a container's, a local service's):
      // the service is still balanced here by VIP and the other hosts still
      // publish; this host says why in inspect.
      if (request.publish.empty()) throw;
      problems.push_back(
          fmt::format("its published ports are not bound on this host: {}", e.what()));
      request.publish.clear();
      update(make);
    }
    info(fmt::format("service {} of the cluster (created on host {}): made here, VIP {}", name,
                     record.created_by, wanted.vip.to_string()));
  } else if (here->published != wanted.published) {
    // Made here while its published ports were taken: bound once free.
    try {
      update([&](core::State& next) {
        core::ensure_service(next, core::recreate_request(wanted), ids_, port_environment());
      });
      info(fmt::format("service {} of the cluster: its published ports are bound here now", name));
    } catch (const core::UserError& e) {
      problems.push_back(
          fmt::format("its published ports are not bound on this host: {}", e.what()));
    }
  }
  core::State next = state_;
  for (auto& problem :
       core::set_cluster_backends(next, name, wanted.backends, cluster_->host().name, remote))
    problems.push_back(std::move(problem));
  if (next != state_) commit(std::move(next));
  note_mesh_problems(name, std::move(problems));
}

void Controller::sync_mesh_services() {
  if (!cluster_ || !cluster_->started()) return;
  const std::map<std::string, store::ServiceRecord> records = cluster_->services();
  std::vector<std::string> gone;
  for (const core::Service& svc : state_.services) {
    if (!svc.global) continue;
    auto it = records.find(svc.name);
    if (it == records.end() || it->second.service.id != svc.id) gone.push_back(svc.name);
  }
  for (const std::string& name : gone) {
    try {
      update([&](core::State& next) { core::remove_service(next, name); });
      mesh_problems_.erase(name);
      info(fmt::format("service {} left the cluster: removed here", name));
    } catch (const std::exception& e) {
      warn(fmt::format("service {} left the cluster but stays here: {}", name, e.what()));
    }
  }
  const std::vector<core::RemoteContainer> remote = remote_containers();
  for (const auto& [name, record] : records) {
    try {
      apply_mesh_service(record, remote);
    } catch (const std::exception& e) {
      note_mesh_problems(name, {e.what()});
    }
  }
}

void Controller::publish_mesh_health() {
  if (!cluster_ || !cluster_->started()) return;
  // Only the ones that are down: no record is healthy (core/health.h).
  std::map<store::ClusterView::BackendKey, store::BackendHealthRecord> wanted;
  for (const core::Service& svc : state_.services) {
    if (!svc.global) continue;
    for (const core::ServiceBackend& be : svc.backends) {
      const core::Endpoint* ep = state_.endpoint(svc.network_id, be.container);
      auto health = health_.find(be.id);
      if (!ep || health == health_.end() || health->second.healthy) continue;
      wanted[{svc.id, ep->id}] =
          store::BackendHealthRecord{cluster_->host().name, false, health->second.last_error};
    }
  }
  for (auto it = published_mesh_health_.begin(); it != published_mesh_health_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    cluster_->registry().withdraw_backend_health(it->first.first, it->first.second);
    it = published_mesh_health_.erase(it);
  }
  for (const auto& [key, health] : wanted) {
    auto had = published_mesh_health_.find(key);
    if (had != published_mesh_health_.end() && had->second == health) continue;
    cluster_->registry().publish_backend_health(key.first, key.second, health);
    published_mesh_health_[key] = health;
  }
}

}  // namespace bpfnet::daemon
