// One etcd watch on a thread of its own, reconnecting across members.
// Internal to EtcdStore.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/etcd_cluster.h"

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
  bool stopping();

  std::shared_ptr<EtcdCluster> cluster_;
  const std::string prefix_;
  int64_t next_revision_;  // the watch thread's only
  WatchCallback callback_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* live_context_ = nullptr;  // guarded by mutex_, for cancelling
  std::thread thread_;
};

}  // namespace bpfnet::store
