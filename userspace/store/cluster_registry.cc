// ClusterRegistry: the host's registration and lease, and its endpoints.
// Networks and addresses are in cluster_networks.cc.
#include "store/cluster_registry.h"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "core/error.h"
#include "store/cluster_keys.h"

namespace bpfnet::store {

ClusterRegistry::ClusterRegistry(Store& store, RegistryOptions options)
    : store_(store), options_(std::move(options)) {}

ClusterRegistry::~ClusterRegistry() {
  std::unique_ptr<LeaseKeeper> keeper;
  {
    std::lock_guard lock(mutex_);
    keeper = std::move(keeper_);
  }
}

LeaseId ClusterRegistry::lease() const {
  std::lock_guard lock(mutex_);
  return lease_;
}

LeaseId ClusterRegistry::require_lease() const {
  std::lock_guard lock(mutex_);
  if (lease_ == 0) {
    throw std::logic_error("ClusterRegistry: register_host() first");
  }
  return lease_;
}

bool ClusterRegistry::lease_lost() const {
  std::lock_guard lock(mutex_);
  return lease_lost_;
}

void ClusterRegistry::start_keeper(LeaseId lease) {
  std::unique_ptr<LeaseKeeper> old;
  {
    std::lock_guard lock(mutex_);
    lease_ = lease;
    lease_lost_ = false;
    old = std::move(keeper_);
  }
  old.reset();  // joins its thread, outside our lock (its callback takes it)
  if (!options_.keep_alive_thread) return;
  auto keeper = std::make_unique<LeaseKeeper>(store_, lease, options_.lease_ttl, [this] {
    std::lock_guard lock(mutex_);
    lease_lost_ = true;
  });
  std::lock_guard lock(mutex_);
  keeper_ = std::move(keeper);
}

void ClusterRegistry::register_host(std::optional<LeaseId> resume) {
  const std::string key = keys::host(options_.host.name);
  const std::string value = to_json(options_.host);
  if (resume && *resume != 0 && store_.keep_alive(*resume)) {
    auto existing = store_.get(key);
    if (existing && existing->lease == *resume) {
      store_.put(key, value, *resume);
      start_keeper(*resume);
      return;
    }
  }
  LeaseId lease = store_.grant_lease(options_.lease_ttl);
  auto existing = store_.create_if_absent(key, value, lease);
  if (existing && existing->lease != lease) {
    store_.revoke_lease(lease);
    std::string where = "unknown address";
    try {
      where = host_from_json(key, existing->value).underlay.to_string();
    } catch (const core::UserError&) {
      // A record we cannot read still holds the name.
    }
    throw core::UserError(
        fmt::format("host name {} is taken by a live host at {}", options_.host.name, where));
  }
  start_keeper(lease);
}

void ClusterRegistry::stop() {
  std::unique_ptr<LeaseKeeper> keeper;
  LeaseId lease = 0;
  {
    std::lock_guard lock(mutex_);
    keeper = std::move(keeper_);
    lease = std::exchange(lease_, 0);
    owned_ = Owned{};
  }
  keeper.reset();
  if (lease != 0) store_.revoke_lease(lease);
}

bool ClusterRegistry::refresh_lease() {
  LeaseId lease = require_lease();
  bool alive = store_.keep_alive(lease).has_value();
  std::lock_guard lock(mutex_);
  if (!alive) lease_lost_ = true;
  return alive;
}

std::vector<EndpointRecord> ClusterRegistry::renew() {
  Owned owned;
  {
    std::lock_guard lock(mutex_);
    owned = owned_;
  }
  register_host();
  LeaseId lease = require_lease();
  std::vector<EndpointRecord> lost;
  std::set<std::string> lost_addresses;
  for (auto it = owned.addresses.begin(); it != owned.addresses.end();) {
    auto existing = store_.create_if_absent(it->first, it->second, lease);
    if (existing && (existing->lease != lease || existing->value != it->second)) {
      lost_addresses.insert(it->first);
      it = owned.addresses.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = owned.endpoints.begin(); it != owned.endpoints.end();) {
    const EndpointRecord& endpoint = it->second;
    if (lost_addresses.contains(keys::address(endpoint.network_id, endpoint.ip))) {
      lost.push_back(endpoint);
      it = owned.endpoints.erase(it);
      continue;
    }
    store_.put(it->first, to_json(endpoint), lease);
    ++it;
  }
  for (const auto& [key, value] : owned.records) store_.put(key, value, lease);
  std::lock_guard lock(mutex_);
  owned_ = std::move(owned);
  return lost;
}

void ClusterRegistry::set_local_subnets(std::vector<core::Cidr> subnets) {
  LeaseId lease = require_lease();
  options_.host.local_subnets = std::move(subnets);
  store_.put(keys::host(options_.host.name), to_json(options_.host), lease);
}

void ClusterRegistry::publish_endpoint(EndpointRecord endpoint) {
  LeaseId lease = require_lease();
  endpoint.host = options_.host.name;
  const std::string key = keys::endpoint(endpoint.network_id, endpoint.endpoint_id);
  const std::string address_key = keys::address(endpoint.network_id, endpoint.ip);
  const std::string network_key = keys::network(endpoint.network_id);
  Txn txn{
      {Compare{address_key, "", Compare::Target::kLease, Compare::Result::kEqual, lease},
       Compare{network_key, "", Compare::Target::kCreateRevision, Compare::Result::kGreater, 0}},
      {Operation::put(key, to_json(endpoint), lease)},
      {address_key, network_key}};
  TxnResult result = store_.commit(txn);
  if (!result.succeeded) {
    if (!result.failure_reads.at(1)) {
      throw core::UserError(fmt::format("network {} not found", endpoint.network_id));
    }
    throw core::UserError(fmt::format("address {} of network {} is not allocated to host {}",
                                      endpoint.ip.to_string(), endpoint.network_id,
                                      options_.host.name));
  }
  std::lock_guard lock(mutex_);
  owned_.endpoints[key] = std::move(endpoint);
}

bool ClusterRegistry::publish_batch(const std::vector<EndpointRecord>& batch) {
  const LeaseId lease = require_lease();
  Txn txn;
  std::vector<std::pair<std::string, std::string>> addresses;
  std::vector<std::pair<std::string, EndpointRecord>> records;
  std::set<std::string> networks;
  for (EndpointRecord endpoint : batch) {
    endpoint.host = options_.host.name;
    const std::string address_key = keys::address(endpoint.network_id, endpoint.ip);
    const std::string value = to_json(AddressRecord{options_.host.name, endpoint.container});
    txn.compares.push_back(Compare::absent(address_key));
    if (networks.insert(endpoint.network_id).second)
      txn.compares.push_back(Compare{keys::network(endpoint.network_id), "",
                                     Compare::Target::kCreateRevision, Compare::Result::kGreater,
                                     0});
    const std::string key = keys::endpoint(endpoint.network_id, endpoint.endpoint_id);
    txn.on_success.push_back(Operation::put(address_key, value, lease));
    txn.on_success.push_back(Operation::put(key, to_json(endpoint), lease));
    addresses.emplace_back(address_key, value);
    records.emplace_back(key, std::move(endpoint));
  }
  if (!store_.commit(txn).succeeded) return false;
  std::lock_guard lock(mutex_);
  for (auto& [key, value] : addresses) owned_.addresses[key] = std::move(value);
  for (auto& [key, record] : records) owned_.endpoints[key] = std::move(record);
  return true;
}

std::vector<std::pair<EndpointRecord, std::string>> ClusterRegistry::republish(
    const std::vector<EndpointRecord>& endpoints) {
  // etcd refuses a transaction of more than 128 operations (--max-txn-ops):
  // two puts per endpoint.
  constexpr size_t kBatch = 64;
  std::vector<std::pair<EndpointRecord, std::string>> refused;
  for (size_t first = 0; first < endpoints.size(); first += kBatch) {
    const std::vector<EndpointRecord> batch(
        endpoints.begin() + long(first),
        endpoints.begin() + long(std::min(endpoints.size(), first + kBatch)));
    if (publish_batch(batch)) continue;
    for (const EndpointRecord& endpoint : batch) {
      try {
        allocate_address(endpoint.network_id, endpoint.container, endpoint.ip);
        publish_endpoint(endpoint);
      } catch (const core::UserError& e) {
        refused.emplace_back(endpoint, e.what());
      }
    }
  }
  return refused;
}

void ClusterRegistry::withdraw_endpoint(const std::string& network_id,
                                        const std::string& endpoint_id) {
  LeaseId lease = require_lease();
  const std::string key = keys::endpoint(network_id, endpoint_id);
  // Only while it is ours: never another host's record.
  store_.commit(Txn{{Compare{key, "", Compare::Target::kLease, Compare::Result::kEqual, lease}},
                    {Operation::erase(key)},
                    {}});
  std::lock_guard lock(mutex_);
  owned_.endpoints.erase(key);
}

std::vector<EndpointRecord> ClusterRegistry::endpoints(const std::string& network_id) {
  std::vector<EndpointRecord> out;
  for (const auto& kv : store_.range_prefix(keys::endpoints_prefix(network_id)).kvs) {
    out.push_back(endpoint_from_json(kv.key, kv.value));
  }
  return out;
}

}  // namespace bpfnet::store
