// The members of an etcd cluster as gRPC channels, and the failover rule every
// call follows. Internal to EtcdStore and its watches (includes gRPC).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "store/etcd_store.h"

namespace bpfnet::store {

struct EtcdMember {
  std::string endpoint;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
};

class EtcdCluster {
 public:
  explicit EtcdCluster(EtcdOptions options);

  // One call done with failover: `attempt` runs against a member with a
  // context whose deadline is set, and returns the gRPC status. Statuses
  // that say "this member cannot serve now" (unavailable, deadline, no
  // leader) move on to the next member, round and round, until the call's
  // deadline; then StoreUnavailable says why. A lease the store does not
  // know throws LeaseNotFound; any other error std::runtime_error.
  void call(const std::function<grpc::Status(EtcdMember&, grpc::ClientContext&)>& attempt);

  // Drives member `index`'s connection until it is ready or `deadline`
  // passes; returns whether it is ready. A synchronous client makes progress
  // on a connection only while some thread waits on its channel, and a
  // fail-fast call on a failed channel returns at once: without this, a
  // member that comes back is noticed only by gRPC's backup poller (every
  // 5 s), too late for a connect attempt to finish before its timeout.
  bool await_connect(size_t index, std::chrono::steady_clock::time_point deadline);

  // The member to try first, and the one after it when it failed.
  size_t preferred() const { return preferred_.load(); }
  EtcdMember& member(size_t index) { return members_[index % members_.size()]; }
  size_t size() const { return members_.size(); }
  void prefer(size_t index) { preferred_.store(index % members_.size()); }
  const EtcdOptions& options() const { return options_; }

 private:
  EtcdOptions options_;
  std::vector<EtcdMember> members_;
  std::atomic<size_t> preferred_{0};
};

// Whether a status means "try another member": the member is down, slow, or
// has no leader (etcd answers those with UNAVAILABLE).
bool is_member_failure(const grpc::Status& status);

}  // namespace bpfnet::store
