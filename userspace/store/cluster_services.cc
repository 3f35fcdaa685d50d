// ClusterRegistry: services of the cluster (Swarm's routing mesh). Their
// records and VIPs are under no lease: a service outlives the host that
// created it (as Swarm keeps a service when a manager's node dies); its
// backends on a dead host leave every host's tables with that host's
// endpoints. Each change is one transaction, so two hosts never both create
// a name, and a backend change on one host does not undo another's.
#include <fmt/format.h>

#include "core/error.h"
#include "store/cluster_keys.h"
#include "store/cluster_registry.h"

namespace bpfnet::store {

namespace {

constexpr int kMaxAttempts = 64;

}  // namespace

void ClusterRegistry::create_service(const ServiceRecord& record) {
  const core::Service& svc = record.service;
  const std::string key = keys::service(svc.name);
  const std::string vip_key = keys::address(svc.network_id, svc.vip);
  const std::string network_key = keys::network(svc.network_id);
  const TxnResult result = store_.commit(Txn{
      {Compare::absent(key), Compare::absent(vip_key),
       Compare{network_key, "", Compare::Target::kCreateRevision, Compare::Result::kGreater, 0}},
      {Operation::put(key, to_json(record)),
       Operation::put(vip_key, to_json(AddressRecord{record.created_by, vip_owner(svc.name)}))},
      {key, vip_key, network_key}});
  if (result.succeeded) return;
  if (const auto& there = result.failure_reads.at(0)) {
    std::string host = "?";
    try {
      host = service_from_json(key, there->value).created_by;
    } catch (const core::UserError&) {
      // Unreadable: still taken.
    }
    throw core::UserError(fmt::format(
        "service with name {} already exists in the cluster (created on host {})", svc.name, host));
  }
  if (const auto& holder = result.failure_reads.at(1)) {
    std::string host = "?";
    try {
      host = address_from_json(vip_key, holder->value).host;
    } catch (const core::UserError&) {
    }
    throw core::UserError(
        fmt::format("Address already in use: {} is used by host {}", svc.vip.to_string(), host));
  }
  throw core::UserError(fmt::format("network {} not found", svc.network_id));
}

bool ClusterRegistry::remove_service(const std::string& name, const std::string& id) {
  const std::string key = keys::service(name);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto kv = store_.get(key);
    if (!kv) return false;
    const ServiceRecord record = service_from_json(key, kv->value);
    if (record.service.id != id) return false;
    Txn txn{{Compare::mod_revision_is(key, kv->mod_revision)}, {Operation::erase(key)}, {}};
    // Its VIP, while the service (no host's lease) still holds it.
    const std::string vip_key = keys::address(record.service.network_id, record.service.vip);
    if (const auto vip = store_.get(vip_key); vip && vip->lease == 0) {
      try {
        if (address_from_json(vip_key, vip->value).owner == vip_owner(name)) {
          txn.compares.push_back(Compare::mod_revision_is(vip_key, vip->mod_revision));
          txn.on_success.push_back(Operation::erase(vip_key));
        }
      } catch (const core::UserError&) {
        // Not a record of ours: left alone.
      }
    }
    if (store_.commit(txn).succeeded) return true;
  }
  throw std::runtime_error(
      fmt::format("service rm: gave up after {} conflicting attempts", kMaxAttempts));
}

void ClusterRegistry::update_service(const std::string& name, const std::string& id,
                                     const std::function<void(ServiceRecord&)>& edit) {
  const std::string key = keys::service(name);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto kv = store_.get(key);
    std::optional<ServiceRecord> record;
    if (kv) record = service_from_json(key, kv->value);
    if (!record || record->service.id != id)
      throw core::UserError(fmt::format("service {} is no longer in the cluster", name));
    edit(*record);
    if (store_.compare_and_swap(key, kv->mod_revision, to_json(*record))) return;
  }
  throw std::runtime_error(
      fmt::format("service update: gave up after {} conflicting attempts", kMaxAttempts));
}

}  // namespace bpfnet::store
