// The controller's side of the cluster (see Controller's "cluster" section):
// overlay networks and their endpoints, whose truth is the cluster store.
// Every change goes to the store first (where two hosts could race, it is
// one etcd transaction) and then to this host's State, so a refused change
// (a taken address, a network in use on another host, the store away)
// changes nothing here.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/docker_ipam.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/overlay.h"
#include "daemon/controller.h"
#include "daemon/log.h"

namespace bpfnet::daemon {
namespace {

// Docker's endpoints on overlay networks, by ID, as the cluster records them.
std::map<std::string, store::EndpointRecord> docker_overlay_endpoints(const core::State& state,
                                                                      const std::string& host) {
  std::map<std::string, store::EndpointRecord> out;
  for (const auto& ep : state.endpoints) {
    const core::Network* net = state.network_by_id(ep.network_id);
    if (!ep.docker || !net || !net->overlay()) continue;
    out.emplace(ep.id, store::EndpointRecord{net->id, ep.id, ep.container, host, ep.ip, ep.mac});
  }
  return out;
}

}  // namespace

Cluster& Controller::require_cluster() {
  if (!cluster_)
    throw core::UserError(
        "overlay networks need a cluster store: start bpfnetd with --store "
        "etcd://HOST:2379[,HOST:2379...]");
  if (!cluster_->started())
    throw core::UserError(
        fmt::format("store unavailable: not joined to the cluster yet{}",
                    cluster_problem_.empty() ? "" : " (" + cluster_problem_ + ")"));
  return *cluster_;
}

std::vector<core::Cidr> Controller::local_subnets() const {
  std::vector<core::Cidr> out;
  for (const auto& net : state_.networks)
    if (net.subnet && !net.overlay()) out.push_back(*net.subnet);
  // Docker's local pools, their network created or not.
  for (const auto& pool : state_.ipam_pools)
    if (pool.overlay_network_id.empty() &&
        std::find(out.begin(), out.end(), pool.pool) == out.end())
      out.push_back(pool.pool);
  return out;
}

std::string Controller::create_overlay_network(const core::NetworkCreate& request) {
  Cluster& cluster = require_cluster();
  // Every local check first (name, subnet, gateway, range, options), on a
  // scratch copy: the network's fields as they will be.
  core::State scratch = state_;
  core::Network net = core::create_network(scratch, request, plumbing_.host_routes(), ids_, now_());
  store::NetworkRecord record = record_from_network(net);
  record = cluster.registry().create_network(record, local_subnets());
  try {
    update([&](core::State& next) {
      core::mirror_overlay_network(next, network_from_record(record));
    });
  } catch (...) {
    cluster.registry().remove_network(record.id);
    throw;
  }
  return record.id;
}

void Controller::remove_overlay_network(const core::Network& network) {
  Cluster& cluster = require_cluster();
  // Local refusals (services) first: they need no store.
  core::State scratch = state_;
  core::remove_network(scratch, network.id);
  cluster.registry().remove_network(network.id);
  const std::string id = network.id;
  update([&](core::State& next) { core::remove_network(next, id); });
}

std::string Controller::connect_overlay(core::ConnectRequest request,
                                        const core::Network& network) {
  Cluster& cluster = require_cluster();
  // Local checks (name, namespace, an endpoint already there, an address
  // taken here) before an address is taken in the cluster.
  {
    core::State scratch = state_;
    core::connect(scratch, request, ids_);
    plumbing_.check_netns(request.netns);
  }
  std::optional<core::Ipv4> wanted;
  if (request.ip) wanted = core::Ipv4::parse(*request.ip);
  const std::string network_id = network.id;
  const core::Ipv4 ip = cluster.registry().allocate_address(network_id, request.container, wanted);
  request.ip = ip.to_string();
  std::string id;
  try {
    update([&](core::State& next) { id = core::connect(next, request, ids_).id; });
  } catch (...) {
    cluster.registry().release_address(network_id, ip);
    throw;
  }
  const core::Endpoint& ep = *state_.endpoint_by_id(id);
  try {
    cluster.registry().publish_endpoint(
        store::EndpointRecord{network_id, ep.id, ep.container, cluster.host().name, ep.ip, ep.mac});
  } catch (...) {
    const std::string container = ep.container;
    update([&](core::State& next) { core::remove_endpoint(next, network_id, container); });
    cluster.registry().release_address(network_id, ip);
    throw;
  }
  return id;
}

void Controller::disconnect_overlay(const core::Endpoint& endpoint) {
  Cluster& cluster = require_cluster();
  const core::Endpoint ep = endpoint;
  {
    // Local refusals (a Docker container's endpoint) before the store's.
    core::State scratch = state_;
    core::remove_endpoint(scratch, ep.network_id, ep.container);
  }
  cluster.registry().withdraw_endpoint(ep.network_id, ep.id);
  cluster.registry().release_address(ep.network_id, ep.ip);
  try {
    update([&](core::State& next) { core::remove_endpoint(next, ep.network_id, ep.container); });
  } catch (...) {
    // Still here: so it is in the cluster again, and nothing changed.
    cluster.registry().allocate_address(ep.network_id, ep.container, ep.ip);
    cluster.registry().publish_endpoint(store::EndpointRecord{ep.network_id, ep.id, ep.container,
                                                              cluster.host().name, ep.ip, ep.mac});
    throw;
  }
}

void Controller::update_docker(const std::function<void(core::State&)>& edit) {
  core::State next = state_;
  edit(next);
  const std::string host = cluster_ ? cluster_->host().name : "";
  const auto before = docker_overlay_endpoints(state_, host);
  const auto after = docker_overlay_endpoints(next, host);
  std::vector<store::EndpointRecord> added, removed;
  for (const auto& [id, record] : after)
    if (!before.contains(id)) added.push_back(record);
  for (const auto& [id, record] : before)
    if (!after.contains(id)) removed.push_back(record);
  if (added.empty() && removed.empty()) {
    commit(std::move(next));
    return;
  }
  Cluster& cluster = require_cluster();
  std::vector<store::EndpointRecord> published, withdrawn;
  try {
    for (const auto& record : added) {
      cluster.registry().publish_endpoint(record);
      published.push_back(record);
    }
    for (const auto& record : removed) {
      cluster.registry().withdraw_endpoint(record.network_id, record.endpoint_id);
      withdrawn.push_back(record);
    }
    commit(std::move(next));
  } catch (...) {
    // Back as it was in the cluster too (best effort: the store may be the
    // reason it failed).
    try {
      for (const auto& record : published)
        cluster.registry().withdraw_endpoint(record.network_id, record.endpoint_id);
      for (const auto& record : withdrawn) cluster.registry().publish_endpoint(record);
    } catch (const std::exception& e) {
      warn(fmt::format("cluster: undoing a refused Docker change: {}", e.what()));
    }
    throw;
  }
}

core::Ipv4 Controller::take_cluster_address(const std::string& network_id, const std::string& owner,
                                            std::optional<core::Ipv4> wanted) {
  return require_cluster().registry().allocate_address(network_id, owner, wanted);
}

void Controller::release_cluster_address(const std::string& network_id, core::Ipv4 ip) {
  require_cluster().registry().release_address(network_id, ip);
}

void Controller::drop_overlay_endpoints(const std::vector<std::string>& endpoint_ids,
                                        const std::string& why) {
  if (endpoint_ids.empty()) return;
  update([&](core::State& next) {
    for (const auto& id : endpoint_ids) {
      const core::Endpoint* ep = next.endpoint_by_id(id);
      if (!ep) continue;
      warn(fmt::format("container {} leaves overlay network {} ({}): {}", ep->container,
                       ep->network_id.substr(0, 12), ep->ip.to_string(), why));
      if (ep->docker) {
        core::remove_docker_endpoint(next, next.network_by_id(ep->network_id)->docker_id(), id);
      } else {
        core::remove_endpoint(next, ep->network_id, ep->container);
      }
    }
  });
}

void Controller::republish_endpoints() {
  Cluster& cluster = *cluster_;
  // Docker's global pools first: what they handed out is taken again (a new
  // lease after a long absence lost it; a resumed one still holds it), so
  // that Docker's endpoints can be published on those addresses below.
  for (const auto& pool : state_.ipam_pools) {
    if (pool.overlay_network_id.empty()) continue;
    for (const auto& [ip, owner] : pool.addresses) {
      if (owner == core::kGatewayOwner) continue;
      try {
        cluster.registry().allocate_address(pool.overlay_network_id, owner, ip);
      } catch (const core::UserError& e) {
        warn(fmt::format("Docker IPAM pool {}: {} is no longer this host's in the cluster: {}",
                         pool.id, ip.to_string(), e.what()));
      }
    }
  }
  // bpfnetctl's endpoints all at once (a few transactions, not two round
  // trips per endpoint: a host joining with 200 endpoints is everywhere
  // within a second); Docker's one by one on their pools' addresses.
  std::vector<store::EndpointRecord> records;
  std::set<std::string> overlays;
  for (const auto& ep : state_.endpoints) {
    const core::Network* net = state_.network_by_id(ep.network_id);
    if (!net || !net->overlay() || ep.docker) continue;
    records.push_back(
        store::EndpointRecord{net->id, ep.id, ep.container, cluster.host().name, ep.ip, ep.mac});
  }
  std::vector<std::string> lost;
  for (const auto& [record, why] : cluster.registry().republish(records)) {
    warn(why);
    lost.push_back(record.endpoint_id);
  }
  for (const auto& [id, record] : docker_overlay_endpoints(state_, cluster.host().name)) {
    try {
      cluster.registry().publish_endpoint(record);
    } catch (const core::UserError& e) {
      warn(e.what());
      lost.push_back(id);
    }
  }
  // Records of this host's (a resumed lease) whose endpoint the state lost:
  // a Docker container that died while bpfnetd was down.
  for (const auto& net : state_.networks) {
    if (!net.overlay()) continue;
    for (const auto& record : cluster.registry().endpoints(net.id)) {
      if (record.host == cluster.host().name && !state_.endpoint_by_id(record.endpoint_id))
        cluster.registry().withdraw_endpoint(net.id, record.endpoint_id);
    }
  }
  drop_overlay_endpoints(lost, "its address or network is gone from the cluster");
}

void Controller::sync_cluster() {
  if (!cluster_) return;
  bool lb_changed = false;
  try {
    if (!cluster_->started()) {
      cluster_->start(local_subnets());
      published_subnets_ = local_subnets();
      republish_endpoints();
      claim_service_vips();
      std::cerr << fmt::format("bpfnetd: joined the cluster as {} ({})", cluster_->host().name,
                               cluster_->host().underlay.to_string())
                << std::endl;
    }
    std::vector<std::string> lost;
    for (const auto& ep : cluster_->upkeep()) lost.push_back(ep.endpoint_id);
    drop_overlay_endpoints(lost, "another host took its address while this one was cut off");
    if (std::vector<core::Cidr> subnets = local_subnets(); subnets != published_subnets_) {
      cluster_->registry().set_local_subnets(subnets);
      published_subnets_ = std::move(subnets);
    }
    lb_changed = sync_lb_addresses();
    cluster_problem_.clear();
  } catch (const std::exception& e) {
    // The store is away (or our name is taken): forwarding goes on as it
    // is; changes are refused until it answers.
    if (cluster_problem_ != e.what()) warn(fmt::format("cluster: {}", e.what()));
    cluster_problem_ = e.what();
    return;
  }
  ClusterChanges changes = cluster_->take_changes();
  if (!changes.any && !tunnels_behind_) {
    // A service of the cluster not whole here (a published port taken, a
    // backend not here yet): tried again at each sync, not only at the
    // cluster's next change (a port may be freed here).
    if (!mesh_problems_.empty()) sync_mesh_services();
    if (lb_changed) write_maps(state_);
    sync_across_hosts(/*view_changed=*/false);
    return;
  }
  apply_cluster_changes(changes, lb_changed);
  if (!deferred_services_.empty()) apply_deferred_services();
  sync_mesh_services();
  // A service of the cluster made or removed here just now: this host's lb
  // address on its overlay at once (it balances to other hosts from it).
  try {
    if (sync_lb_addresses()) write_maps(state_);
  } catch (const std::exception& e) {
    warn(fmt::format("cluster: {}", e.what()));
  }
  sync_across_hosts(/*view_changed=*/true);
}

void Controller::mirror_cluster_networks() {
  core::State next = state_;
  const std::vector<core::Network> wanted = cluster_->networks();
  for (const auto& net : wanted) {
    try {
      core::mirror_overlay_network(next, net);
    } catch (const core::UserError& e) {
      warn(fmt::format("overlay network {} not mirrored here: {}", net.name, e.what()));
    }
  }
  std::vector<std::string> gone;
  for (const auto& net : next.networks) {
    bool known = std::any_of(wanted.begin(), wanted.end(),
                             [&](const core::Network& w) { return w.id == net.id; });
    if (net.overlay() && !known) gone.push_back(net.id);
  }
  for (const auto& id : gone) {
    try {
      core::remove_network(next, id);
    } catch (const core::UserError& e) {
      warn(fmt::format("overlay network {} left the cluster but stays here: {}", id.substr(0, 12),
                       e.what()));
    }
  }
  if (next != state_)
    commit(std::move(next));
  else
    write_maps(state_);
}

void Controller::sync_across_hosts(bool view_changed) {
  try {
    if (view_changed) retake_shared_vips();
    sync_backend_checks(view_changed);
    sync_remote_probes();
    publish_probe_states();
    publish_mesh_health();
  } catch (const std::exception& e) {
    // Tried again at the next sync (said once).
    if (backend_health_problem_ != e.what())
      warn(fmt::format("cluster: services' backend health: {}", e.what()));
    backend_health_problem_ = e.what();
    purge_remote_backends_out();
    return;
  }
  backend_health_problem_.clear();
  purge_remote_backends_out();
}

void Controller::describe_overlay(const core::Network& network, nlohmann::json& inspect) const {
  if (!cluster_) return;
  const std::string& self = cluster_->host().name;
  nlohmann::json& containers = inspect["Containers"];
  for (auto& [key, container] : containers.items()) container["Host"] = self;
  for (const auto& ep : cluster_->endpoints(network.id)) {
    if (ep.host == self) continue;
    containers[ep.endpoint_id] = {
        {"Name", ep.container},
        {"EndpointID", ep.endpoint_id},
        {"MacAddress", ep.mac.to_string()},
        {"IPv4Address", fmt::format("{}/{}", ep.ip.to_string(), network.subnet->prefix_len)},
        {"IPv6Address", ""},
        {"Host", ep.host},
    };
  }
}

void Controller::leave_cluster() {
  if (!cluster_) return;
  try {
    cluster_->stop();
  } catch (const std::exception& e) {
    warn(fmt::format("cluster: leaving: {} (this host's records go when its lease expires)",
                     e.what()));
  }
}

}  // namespace bpfnet::daemon
