// The cluster store: a revisioned key-value store with transactions, leases
// and watches, shaped after etcd's v3 API. An interface, so the multi-host
// logic on top (ClusterRegistry) is tested against FakeStore and runs against
// EtcdStore unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bpfnet::store {

// The store could not be reached or did not answer in time. The message
// starts with "store unavailable: " and says why, so callers can refuse a
// change with it verbatim.
struct StoreUnavailable : std::runtime_error {
  explicit StoreUnavailable(std::string_view why);
};

// A put named a lease the store no longer has (it expired or was revoked).
struct LeaseNotFound : std::runtime_error {
  LeaseNotFound() : std::runtime_error("etcdserver: requested lease not found") {}
};

// A lease ID as etcd gives it; 0 is "no lease".
using LeaseId = int64_t;

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  LeaseId lease = 0;

  bool operator==(const KeyValue&) const = default;
};

// What a range read returns: the keys and the store's revision at the read,
// from which a watch continues without a gap.
struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key
  int64_t revision = 0;
};

// One condition of a transaction, as etcd's Compare: `target` of `key` (or of
// every key in [key, range_end) when range_end is set) compared with
// `operand`. An absent key, and an empty range, compare as revision 0, so
// "create_revision == 0" means "absent" and, over a prefix, "no key at all".
struct Compare {
  // etcd's numbers (CompareTarget, CompareResult).
  enum class Target { kCreateRevision = 1, kModRevision = 2, kLease = 4 };
  enum class Result { kEqual = 0, kGreater = 1, kLess = 2, kNotEqual = 3 };
  std::string key;
  std::string range_end;  // empty: just `key`
  Target target = Target::kModRevision;
  Result result = Result::kEqual;
  int64_t operand = 0;

  static Compare absent(std::string key);
  static Compare prefix_empty(std::string_view prefix);
  static Compare mod_revision_is(std::string key, int64_t revision);
  // No key under `prefix` was created or changed after `revision`.
  static Compare prefix_unchanged_since(std::string_view prefix, int64_t revision);
};

// A write inside a transaction: a put (with an optional lease) or a delete.
struct Operation {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
  LeaseId lease = 0;

  static Operation put(std::string key, std::string value, LeaseId lease = 0);
  static Operation erase(std::string key);
};

// If every compare holds, apply `on_success`; otherwise read `on_failure_get`
// (to tell the caller what stood in the way). Atomic, one revision.
struct Txn {
  std::vector<Compare> compares;
  std::vector<Operation> on_success;
  std::vector<std::string> on_failure_get;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // One entry per on_failure_get key, nullopt where it is absent.
  std::vector<std::optional<KeyValue>> failure_reads;
};

struct WatchEvent {
  // kCompacted: the revisions the watch needed are gone (compaction); no more
  // events come from this watch, the caller re-reads (range) and watches
  // again from the range's revision + 1. `revision` is the compaction point.
  enum class Type { kPut, kDelete, kCompacted };
  Type type = Type::kPut;
  std::string key;
  std::string value;  // empty for deletes
  int64_t revision = 0;
  LeaseId lease = 0;
};

// Called with each batch of events in revision order, from a thread of the
// store's (EtcdStore) or from the writer's thread (FakeStore). Events of one
// revision always arrive in one batch.
using WatchCallback = std::function<void(const std::vector<WatchEvent>&)>;

// A running watch; destroying it stops it (no callback runs after the
// destructor returns).
class Watch {
 public:
  virtual ~Watch() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Every call either completes or throws StoreUnavailable within the store's
  // deadline (a few seconds).
  virtual std::optional<KeyValue> get(const std::string& key) = 0;
  virtual RangeResult range_prefix(std::string_view prefix) = 0;
  // Returns the revision of the write.
  virtual int64_t put(const std::string& key, const std::string& value, LeaseId lease = 0) = 0;
  // Returns whether the key existed.
  virtual bool erase(const std::string& key) = 0;
  virtual TxnResult commit(const Txn& txn) = 0;

  // A lease lives `ttl` after its grant or its last keep-alive; revoking or
  // expiring it deletes every key attached to it.
  virtual LeaseId grant_lease(std::chrono::seconds ttl) = 0;
  // One refresh. Returns the TTL granted again, or nullopt when the lease is
  // gone (expired or revoked): its keys are gone too.
  virtual std::optional<std::chrono::seconds> keep_alive(LeaseId lease) = 0;
  // Revoking an unknown lease is not an error.
  virtual void revoke_lease(LeaseId lease) = 0;

  // Every change under `prefix` with revision >= from_revision (0: from now
  // on). The watch survives a store member going away: it resumes after the
  // last revision delivered, so no event is lost or repeated, unless that
  // revision was compacted meanwhile (kCompacted).
  virtual std::unique_ptr<Watch> watch_prefix(std::string_view prefix, int64_t from_revision,
                                              WatchCallback callback) = 0;

  // Convenience over commit: put `value` under `key` only if the key is
  // absent. Returns nullopt when created, else what is there.
  std::optional<KeyValue> create_if_absent(const std::string& key, const std::string& value,
                                           LeaseId lease = 0);
  // Put only if the key's mod revision is still `mod_revision` (0: absent).
  bool compare_and_swap(const std::string& key, int64_t mod_revision, const std::string& value,
                        LeaseId lease = 0);
};

// Declares every Store operation as an override, for the implementations'
// class definitions (one list to keep in step with the interface).
#define BPFNET_STORE_OVERRIDES                                                               \
  std::optional<KeyValue> get(const std::string& key) override;                              \
  RangeResult range_prefix(std::string_view prefix) override;                                \
  int64_t put(const std::string& key, const std::string& value, LeaseId lease = 0) override; \
  bool erase(const std::string& key) override;                                               \
  TxnResult commit(const Txn& txn) override;                                                 \
  LeaseId grant_lease(std::chrono::seconds ttl) override;                                    \
  std::optional<std::chrono::seconds> keep_alive(LeaseId lease) override;                    \
  void revoke_lease(LeaseId lease) override;                                                 \
  std::unique_ptr<Watch> watch_prefix(std::string_view prefix, int64_t from_revision,        \
                                      WatchCallback callback) override;

// The first key after every key that starts with `prefix`, as etcd's
// clientv3.GetPrefixRangeEnd: the prefix with its last byte below 0xff
// incremented (and what follows dropped).
std::string prefix_range_end(std::string_view prefix);

}  // namespace bpfnet::store
