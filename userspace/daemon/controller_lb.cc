// Services across hosts (Swarm's routing mesh): a service on an overlay
// network may have backends on other hosts (CONTAINER@HOST, see
// core/remote_backend.h). A published flow this host balances to one of them
// leaves with this host's own address on that overlay, its "lb" endpoint
// (Docker swarm's lb-NETWORK): taken from the cluster's IPAM and published
// like a container's, so the backend's host accepts the packet and sends the
// reply back here, where the flow's conntrack entries are.
#include <fmt/format.h>

#include <iostream>

#include "core/error.h"
#include "daemon/controller.h"
#include "daemon/log.h"

namespace bpfnet::daemon {

using store::vip_owner;

namespace {

// The lb endpoint's "container" name, as Docker swarm names it.
std::string lb_container(const core::Network& net) { return "lb-" + net.name; }

// Docker's MAC for an address (02:42 and the address): the others answer ARP
// for it with this one.
core::Mac mac_of(core::Ipv4 ip) {
  core::Mac mac;
  mac.bytes = {0x02,
               0x42,
               static_cast<uint8_t>(ip.value >> 24),
               static_cast<uint8_t>(ip.value >> 16),
               static_cast<uint8_t>(ip.value >> 8),
               static_cast<uint8_t>(ip.value)};
  return mac;
}

// The VIP another host took for a service of this name on the network (the
// same service, defined on that host too): the service's VIP everywhere.
std::optional<core::Ipv4> shared_vip(const std::map<core::Ipv4, store::AddressRecord>& taken,
                                     const std::string& service, const std::string& self) {
  for (const auto& [ip, holder] : taken)
    if (holder.owner == vip_owner(service) && holder.host != self) return ip;
  return std::nullopt;
}

}  // namespace

std::string Controller::cluster_host_name() const {
  return cluster_ ? cluster_->host().name : std::string();
}

std::vector<core::RemoteContainer> Controller::remote_containers() const {
  std::vector<core::RemoteContainer> out;
  for (const auto& [ip, remote] : host_.remote_endpoints)
    out.push_back(core::RemoteContainer{remote.network_id, remote.container, remote.host,
                                        core::Ipv4{ip}, remote.endpoint_id});
  return out;
}

void Controller::remote_backend_runtime(const core::Service& svc, const core::ServiceBackend& be,
                                        std::map<uint32_t, uint64_t>& flows_by_ip,
                                        core::BackendRuntime& rt) const {
  if (!core::is_remote_backend(be.container)) return;
  const std::vector<core::RemoteContainer> remote = remote_containers();
  const core::RemoteContainer* found =
      core::find_remote_backend(remote, svc.network_id, be.container);
  if (!found) {
    rt.healthy = false;
    rt.last_error = "not in the cluster: its host or its container is gone";
    return;
  }
  rt.ip = found->ip.to_string();
  rt.flows = flows_by_ip[found->ip.value];
  if (const store::BackendHealthRecord* verdict = unhealthy_verdict(svc, *found)) {
    rt.healthy = false;
    rt.last_error = fmt::format("unhealthy on host {}: {}", found->host,
                                verdict->last_error.empty() ? "probe failed" : verdict->last_error);
  }
}

std::string Controller::create_service(core::ServiceCreate request) {
  const core::Network& network = state_.get_network(request.network);
  if (network.overlay()) return create_mesh_service(std::move(request));
  std::string id;
  update([&](core::State& next) {
    id = core::create_service(next, request, ids_, port_environment()).id;
  });
  return id;
}

std::string Controller::create_config_overlay_service(core::ServiceCreate request) {
  std::string id;
  Cluster& cluster = require_cluster();
  const std::string network_id = state_.get_network(request.network).id;
  // The same service on another host: its VIP (unless another is asked for).
  const std::map<core::Ipv4, store::AddressRecord> held = cluster.registry().addresses(network_id);
  const std::optional<core::Ipv4> shared = shared_vip(held, request.name, cluster.host().name);
  if (shared && !request.vip) request.vip = shared->to_string();
  // Every local check, with a VIP no host has given out, then that VIP
  // taken in the cluster (create-if-absent: a race with a connect elsewhere
  // is refused).
  std::set<core::Ipv4> taken;
  for (const auto& [ip, holder] : held) taken.insert(ip);
  core::State scratch = state_;
  const core::Ipv4 local =
      core::create_service(scratch, request, ids_, port_environment(), taken).vip;
  const bool claim = !shared || *shared != local;
  const core::Ipv4 vip =
      claim ? cluster.registry().allocate_address(network_id, vip_owner(request.name), local)
            : local;
  request.vip = vip.to_string();
  try {
    update([&](core::State& next) {
      id = core::create_service(next, request, ids_, port_environment(), taken).id;
    });
  } catch (...) {
    if (claim) cluster.registry().release_address(network_id, vip);
    throw;
  }
  return id;
}

void Controller::retake_shared_vips() {
  Cluster& cluster = *cluster_;
  for (const core::Service& svc : state_.services) {
    const core::Network* net = state_.network_by_id(svc.network_id);
    // The cluster's services hold their VIP under no host's lease.
    if (svc.global || !net || !net->overlay() || cluster.registry().holds_address(net->id, svc.vip))
      continue;
    try {
      cluster.registry().allocate_address(net->id, vip_owner(svc.name), svc.vip);
    } catch (const core::UserError&) {
      // Still held (by the host that defined the service first): as it should be.
    }
  }
}

void Controller::claim_service_vips() {
  Cluster& cluster = *cluster_;
  const std::string& self = cluster.host().name;
  const std::vector<core::Service> services = state_.services;  // update() replaces state_
  for (const core::Service& svc : services) {
    const core::Network* net = state_.network_by_id(svc.network_id);
    if (svc.global || !net || !net->overlay()) continue;
    const std::string network_id = net->id;
    try {
      const std::map<core::Ipv4, store::AddressRecord> held =
          cluster.registry().addresses(network_id);
      std::optional<core::Ipv4> vip = shared_vip(held, svc.name, self);
      if (!vip) {
        auto mine = held.find(svc.vip);
        if (mine != held.end() && mine->second.host == self &&
            mine->second.owner == vip_owner(svc.name))
          continue;  // a resumed lease
        try {
          cluster.registry().allocate_address(network_id, vip_owner(svc.name), svc.vip);
          continue;
        } catch (const core::UserError& e) {
          if (config_vips_.contains(svc.name)) {
            warn(
                fmt::format("service {}: its VIP {} (from the config file) is taken in the "
                            "cluster: {}",
                            svc.name, svc.vip.to_string(), e.what()));
            continue;
          }
          vip = cluster.registry().allocate_address(network_id, vip_owner(svc.name));
        }
      }
      if (*vip == svc.vip) continue;
      if (config_vips_.contains(svc.name)) {
        warn(
            fmt::format("service {}: VIP {} from the config file, but the cluster's VIP of "
                        "service {} on network {} is {}",
                        svc.name, svc.vip.to_string(), svc.name, net->name, vip->to_string()));
        continue;
      }
      std::cerr << fmt::format("bpfnetd: service {}: VIP {} -> {}, the cluster's", svc.name,
                               svc.vip.to_string(), vip->to_string())
                << std::endl;
      const std::string name = svc.name;
      const core::Ipv4 cluster_vip = *vip;
      update([&](core::State& next) {
        for (auto& s : next.services)
          if (s.name == name) s.vip = cluster_vip;
      });
      // The old VIP, if this host held it for this service (not another
      // service's VIP that this one's config-file pick collided with).
      if (auto old = held.find(svc.vip);
          old != held.end() && old->second.host == self && old->second.owner == vip_owner(svc.name))
        cluster.registry().release_address(network_id, svc.vip);
    } catch (const std::exception& e) {
      warn(fmt::format("service {}: its VIP in the cluster: {}", svc.name, e.what()));
    }
  }
}

std::string Controller::remove_service(const std::string& name) {
  const core::Service service = state_.get_service(name);
  if (service.global) {
    remove_mesh_service(service);
    return service.id;
  }
  update([&](core::State& next) { core::remove_service(next, name); });
  const core::Network* network = state_.network_by_id(service.network_id);
  if (network && network->overlay() && cluster_ && cluster_->started()) {
    try {
      cluster_->registry().release_address(service.network_id, service.vip);
    } catch (const std::exception& e) {
      warn(fmt::format("service {}: its VIP {} stays taken until this host's lease ends: {}",
                       service.name, service.vip.to_string(), e.what()));
    }
  }
  return service.id;
}

bool Controller::sync_lb_addresses() {
  if (!cluster_ || !cluster_->started()) return false;
  Cluster& cluster = *cluster_;
  const std::string& self = cluster.host().name;
  std::set<std::string> wanted;
  for (const auto& svc : state_.services)
    if (const core::Network* net = state_.network_by_id(svc.network_id); net && net->overlay())
      wanted.insert(net->id);
  bool changed = false;
  for (const auto& id : wanted) {
    if (host_.lb_addresses.contains(id)) continue;
    const core::Network& net = *state_.network_by_id(id);
    const std::string owner = lb_container(net);
    // A previous run's (its lease taken over): the same address again.
    store::EndpointRecord record{id, "", owner, self, core::Ipv4{}, core::Mac{}};
    std::optional<core::Ipv4> wanted_ip;
    for (const auto& ep : cluster.endpoints(id))
      if (ep.host == self && ep.container == owner) {
        record.endpoint_id = ep.endpoint_id;
        wanted_ip = ep.ip;
      }
    if (record.endpoint_id.empty()) record.endpoint_id = ids_.random_hex64();
    record.ip = cluster.registry().allocate_address(id, owner, wanted_ip);
    record.mac = mac_of(record.ip);
    cluster.registry().publish_endpoint(record);
    host_.lb_addresses[id] = record.ip;
    changed = true;
    std::cerr << fmt::format("bpfnetd: overlay network {}: services balanced from {}", net.name,
                             record.ip.to_string())
              << std::endl;
  }
  for (auto it = host_.lb_addresses.begin(); it != host_.lb_addresses.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    for (const auto& ep : cluster.endpoints(it->first))
      if (ep.host == self && ep.ip == it->second)
        cluster.registry().withdraw_endpoint(it->first, ep.endpoint_id);
    cluster.registry().release_address(it->first, it->second);
    it = host_.lb_addresses.erase(it);
    changed = true;
  }
  return changed;
}

}  // namespace bpfnet::daemon
