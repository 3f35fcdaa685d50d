#include "store/etcd_store.h"

#include <utility>

#include "store/etcd_cluster.h"
#include "store/etcd_watch.h"

namespace bpfnet::store {

namespace {

// Compare's enums carry etcd's numbers, so they convert by value.
using EtcdCompare = etcdserverpb::Compare;
static_assert(static_cast<int>(Compare::Result::kEqual) == EtcdCompare::EQUAL);
static_assert(static_cast<int>(Compare::Result::kGreater) == EtcdCompare::GREATER);
static_assert(static_cast<int>(Compare::Result::kLess) == EtcdCompare::LESS);
static_assert(static_cast<int>(Compare::Result::kNotEqual) == EtcdCompare::NOT_EQUAL);
static_assert(static_cast<int>(Compare::Target::kCreateRevision) == EtcdCompare::CREATE);
static_assert(static_cast<int>(Compare::Target::kModRevision) == EtcdCompare::MOD);
static_assert(static_cast<int>(Compare::Target::kLease) == EtcdCompare::LEASE);

KeyValue from_proto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.lease()};
}

etcdserverpb::Compare to_proto(const Compare& compare) {
  etcdserverpb::Compare out;
  out.set_key(compare.key);
  if (!compare.range_end.empty()) out.set_range_end(compare.range_end);
  out.set_result(static_cast<etcdserverpb::Compare::CompareResult>(compare.result));
  out.set_target(static_cast<etcdserverpb::Compare::CompareTarget>(compare.target));
  switch (compare.target) {
    case Compare::Target::kCreateRevision:
      out.set_create_revision(compare.operand);
      break;
    case Compare::Target::kModRevision:
      out.set_mod_revision(compare.operand);
      break;
    case Compare::Target::kLease:
      out.set_lease(compare.operand);
      break;
  }
  return out;
}

void to_proto(const Operation& op, etcdserverpb::RequestOp& out) {
  if (op.kind == Operation::Kind::kPut) {
    auto* put = out.mutable_request_put();
    put->set_key(op.key);
    put->set_value(op.value);
    put->set_lease(op.lease);
  } else {
    out.mutable_request_delete_range()->set_key(op.key);
  }
}

}  // namespace

EtcdStore::EtcdStore(EtcdOptions options)
    : cluster_(std::make_shared<EtcdCluster>(std::move(options))) {}

EtcdStore::~EtcdStore() = default;

std::optional<KeyValue> EtcdStore::get(const std::string& key) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  etcdserverpb::RangeResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.kv->Range(&context, request, &response);
  });
  if (response.kvs_size() == 0) return std::nullopt;
  return from_proto(response.kvs(0));
}

RangeResult EtcdStore::range_prefix(std::string_view prefix) {
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(prefix));
  request.set_range_end(prefix_range_end(prefix));
  request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  request.set_sort_target(etcdserverpb::RangeRequest::KEY);
  etcdserverpb::RangeResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.kv->Range(&context, request, &response);
  });
  RangeResult result;
  result.revision = response.header().revision();
  result.kvs.reserve(response.kvs_size());
  for (const auto& kv : response.kvs()) result.kvs.push_back(from_proto(kv));
  return result;
}

int64_t EtcdStore::put(const std::string& key, const std::string& value, LeaseId lease) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.kv->Put(&context, request, &response);
  });
  return response.header().revision();
}

bool EtcdStore::erase(const std::string& key) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  etcdserverpb::DeleteRangeResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.kv->DeleteRange(&context, request, &response);
  });
  return response.deleted() > 0;
}

TxnResult EtcdStore::commit(const Txn& txn) {
  etcdserverpb::TxnRequest request;
  for (const auto& compare : txn.compares) *request.add_compare() = to_proto(compare);
  for (const auto& op : txn.on_success) to_proto(op, *request.add_success());
  for (const auto& key : txn.on_failure_get) {
    request.add_failure()->mutable_request_range()->set_key(key);
  }
  etcdserverpb::TxnResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.kv->Txn(&context, request, &response);
  });
  TxnResult result;
  result.succeeded = response.succeeded();
  result.revision = response.header().revision();
  if (!result.succeeded) {
    for (const auto& op : response.responses()) {
      const auto& range = op.response_range();
      result.failure_reads.push_back(
          range.kvs_size() > 0 ? std::optional<KeyValue>(from_proto(range.kvs(0))) : std::nullopt);
    }
  }
  return result;
}

LeaseId EtcdStore::grant_lease(std::chrono::seconds ttl) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl.count());
  etcdserverpb::LeaseGrantResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.lease->LeaseGrant(&context, request, &response);
  });
  if (!response.error().empty()) throw std::runtime_error("etcd: " + response.error());
  return response.id();
}

std::optional<std::chrono::seconds> EtcdStore::keep_alive(LeaseId lease) {
  // etcd has keep-alive only as a stream; one request and one answer on a
  // stream of its own is what `etcdctl lease keep-alive --once` does.
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseKeepAliveResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    auto stream = m.lease->LeaseKeepAlive(&context);
    if (!stream->Write(request) || !stream->Read(&response)) {
      stream->WritesDone();
      grpc::Status status = stream->Finish();
      return status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream closed")
                         : status;
    }
    stream->WritesDone();
    stream->Finish();  // the server ends the stream at our half-close
    return grpc::Status::OK;
  });
  if (response.ttl() <= 0) return std::nullopt;
  return std::chrono::seconds(response.ttl());
}

void EtcdStore::revoke_lease(LeaseId lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  try {
    cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
      return m.lease->LeaseRevoke(&context, request, &response);
    });
  } catch (const LeaseNotFound&) {
    // Already gone: what the caller wanted.
  }
}

std::unique_ptr<Watch> EtcdStore::watch_prefix(std::string_view prefix, int64_t from_revision,
                                               WatchCallback callback) {
  if (from_revision <= 0) {
    // "From now on" pinned to a revision, so a reconnect before the first
    // event still loses nothing.
    etcdserverpb::RangeRequest request;
    request.set_key(std::string(prefix));
    request.set_range_end(prefix_range_end(prefix));
    request.set_count_only(true);
    etcdserverpb::RangeResponse response;
    cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
      return m.kv->Range(&context, request, &response);
    });
    from_revision = response.header().revision() + 1;
  }
  return std::make_unique<EtcdWatch>(cluster_, std::string(prefix), from_revision,
                                     std::move(callback));
}

void EtcdStore::compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  etcdserverpb::CompactionResponse response;
  cluster_->call([&](EtcdMember& m, grpc::ClientContext& context) {
    return m.kv->Compact(&context, request, &response);
  });
}

}  // namespace bpfnet::store
