// ClusterRegistry: services across hosts. A service's host publishes a
// check for each of its backends on other hosts; the backend's host probes
// it and publishes its health. Both under the writer's lease: a host that
// dies takes its checks (its services) and its backends' health with it.
#include "store/cluster_keys.h"
#include "store/cluster_registry.h"

namespace bpfnet::store {

void ClusterRegistry::put_owned(const std::string& key, const std::string& value) {
  store_.put(key, value, require_lease());
  std::lock_guard lock(mutex_);
  owned_.records[key] = value;
}

void ClusterRegistry::erase_owned(const std::string& key) {
  LeaseId lease = require_lease();
  // Only while it is ours: never another host's record.
  store_.commit(Txn{{Compare{key, "", Compare::Target::kLease, Compare::Result::kEqual, lease}},
                    {Operation::erase(key)},
                    {}});
  std::lock_guard lock(mutex_);
  owned_.records.erase(key);
}

void ClusterRegistry::publish_check(const std::string& service_id, const CheckRecord& check) {
  CheckRecord record = check;
  record.service_host = options_.host.name;
  put_owned(keys::check(service_id, record.endpoint_id), to_json(record));
}

void ClusterRegistry::withdraw_check(const std::string& service_id,
                                     const std::string& endpoint_id) {
  erase_owned(keys::check(service_id, endpoint_id));
}

void ClusterRegistry::publish_backend_health(const std::string& service_id,
                                             const std::string& endpoint_id,
                                             BackendHealthRecord health) {
  health.host = options_.host.name;
  put_owned(keys::backend(service_id, endpoint_id), to_json(health));
}

void ClusterRegistry::withdraw_backend_health(const std::string& service_id,
                                              const std::string& endpoint_id) {
  erase_owned(keys::backend(service_id, endpoint_id));
}

}  // namespace bpfnet::store
