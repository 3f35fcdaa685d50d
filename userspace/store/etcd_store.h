// The Store over etcd's v3 gRPC API, with failover between the cluster's
// members and a deadline on every call.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace bpfnet::store {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "host:port", tried in this order first
  // One attempt on one member.
  std::chrono::milliseconds attempt_timeout{1500};
  // A whole call, all attempts on all members: after it, StoreUnavailable.
  std::chrono::milliseconds call_timeout{3000};
};

class EtcdCluster;

class EtcdStore final : public Store {
 public:
  // Connects lazily: no call here blocks, an unreachable cluster shows at
  // the first operation.
  explicit EtcdStore(EtcdOptions options);
  ~EtcdStore() override;

  // Watch events come from a thread of the watch's own, one batch per etcd
  // watch response. After a member goes away the watch reconnects to
  // another one from the revision after the last delivered.
  BPFNET_STORE_OVERRIDES

  // Compacts the store's history up to `revision` (tests of kCompacted).
  void compact(int64_t revision);

 private:
  std::shared_ptr<EtcdCluster> cluster_;
};

}  // namespace bpfnet::store
