// One etcd watch on a thread of its own, reconnecting across members.
// Internal to EtcdStore.
#pragma once

#include <memory>
#include <string>

#include "store/etcd_cluster.h"
#include "store/stoppable_thread.h"

namespace bpfnet::store {

class EtcdWatch final : public Watch {
 public:
  EtcdWatch(std::shared_ptr<EtcdCluster> cluster, std::string prefix, int64_t from_revision,
            WatchCallback callback);
  ~EtcdWatch() override;

 private:
  enum class StreamEnd { kBroken, kCompacted, kStopped };
  void run();
  // One stream on one member, until it breaks, is compacted or is stopped.
  StreamEnd stream_from(size_t member_index);

  std::shared_ptr<EtcdCluster> cluster_;
  const std::string prefix_;
  int64_t next_revision_;  // the watch thread's only
  WatchCallback callback_;
  // The stream's context, for stop() to cancel; under thread_'s lock.
  grpc::ClientContext* live_context_ = nullptr;
  StoppableThread thread_;
};

}  // namespace bpfnet::store
