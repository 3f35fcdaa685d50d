#include "store/fake_store.h"

#include <algorithm>
#include <utility>

namespace bpfnet::store {

namespace {

// The stores this thread is delivering events of: a callback that writes to
// the same store leaves the new events to the delivery loop already running,
// so no callback is re-entered.
thread_local std::vector<const FakeStore*> delivering_stores;

bool has_prefix(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

bool compare_values(int64_t actual, Compare::Result result, int64_t operand) {
  switch (result) {
    case Compare::Result::kEqual:
      return actual == operand;
    case Compare::Result::kNotEqual:
      return actual != operand;
    case Compare::Result::kGreater:
      return actual > operand;
    case Compare::Result::kLess:
      return actual < operand;
  }
  return false;
}

int64_t target_of(const KeyValue& kv, Compare::Target target) {
  switch (target) {
    case Compare::Target::kCreateRevision:
      return kv.create_revision;
    case Compare::Target::kModRevision:
      return kv.mod_revision;
    case Compare::Target::kLease:
      return kv.lease;
  }
  return 0;
}

}  // namespace

ManualClock::time_point ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void ManualClock::advance(std::chrono::milliseconds by) {
  std::lock_guard lock(mutex_);
  now_ += by;
}

struct FakeStore::Watcher {
  std::string prefix;
  int64_t next_revision = 0;
  WatchCallback callback;
  bool alive = true;  // guarded by delivery_mutex_
};

class FakeStore::FakeWatch final : public Watch {
 public:
  FakeWatch(FakeStore& store, std::shared_ptr<Watcher> watcher)
      : store_(store), watcher_(std::move(watcher)) {}
  ~FakeWatch() override {
    std::lock_guard delivery(store_.delivery_mutex_);
    watcher_->alive = false;
    std::lock_guard lock(store_.mutex_);
    std::erase(store_.watchers_, watcher_);
  }

 private:
  FakeStore& store_;
  std::shared_ptr<Watcher> watcher_;
};

FakeStore::FakeStore(Clock clock) : clock_(std::move(clock)) {}

FakeStore::~FakeStore() = default;

std::chrono::steady_clock::time_point FakeStore::now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void FakeStore::check_available_locked() const {
  if (!available_) throw StoreUnavailable("fake store is down");
}

void FakeStore::expire_leases_locked() {
  auto now = this->now();
  std::vector<LeaseId> due;
  for (const auto& [id, lease] : leases_) {
    if (lease.expires <= now) due.push_back(id);
  }
  for (LeaseId id : due) {
    // As etcd: all of a lease's keys go in one revision.
    auto keys = std::move(leases_.at(id).keys);
    leases_.erase(id);
    if (keys.empty()) continue;
    ++revision_;
    for (const auto& key : keys) erase_locked(key);
  }
}

void FakeStore::put_locked(const std::string& key, const std::string& value, LeaseId lease) {
  if (lease != 0 && !leases_.contains(lease)) {
    throw LeaseNotFound();
  }
  auto [it, inserted] = kvs_.try_emplace(key, KeyValue{key, "", 0, 0, 0});
  KeyValue& kv = it->second;
  if (kv.lease != 0 && kv.lease != lease) leases_.at(kv.lease).keys.erase(key);
  if (inserted) kv.create_revision = revision_;
  kv.value = value;
  kv.mod_revision = revision_;
  kv.lease = lease;
  if (lease != 0) leases_.at(lease).keys.insert(key);
  history_.push_back(WatchEvent{WatchEvent::Type::kPut, key, value, revision_, lease});
}

void FakeStore::erase_locked(const std::string& key) {
  auto it = kvs_.find(key);
  if (it == kvs_.end()) return;
  if (it->second.lease != 0) {
    if (auto lease = leases_.find(it->second.lease); lease != leases_.end()) {
      lease->second.keys.erase(key);
    }
  }
  kvs_.erase(it);
  history_.push_back(WatchEvent{WatchEvent::Type::kDelete, key, "", revision_, 0});
}

bool FakeStore::holds_locked(const Compare& compare) const {
  if (compare.range_end.empty()) {
    auto it = kvs_.find(compare.key);
    KeyValue kv = it == kvs_.end() ? KeyValue{} : it->second;
    return compare_values(target_of(kv, compare.target), compare.result, compare.operand);
  }
  auto first = kvs_.lower_bound(compare.key);
  // "\0" as range_end: to the end of the keyspace, as etcd.
  auto last =
      compare.range_end == std::string(1, '\0') ? kvs_.end() : kvs_.lower_bound(compare.range_end);
  if (first == last) return compare_values(0, compare.result, compare.operand);
  return std::all_of(first, last, [&](const auto& entry) {
    return compare_values(target_of(entry.second, compare.target), compare.result, compare.operand);
  });
}

std::optional<KeyValue> FakeStore::get(const std::string& key) {
  std::optional<KeyValue> found;
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    if (auto it = kvs_.find(key); it != kvs_.end()) found = it->second;
  }
  deliver();
  return found;
}

RangeResult FakeStore::range_prefix(std::string_view prefix) {
  RangeResult result;
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    for (auto it = kvs_.lower_bound(std::string(prefix));
         it != kvs_.end() && has_prefix(it->first, prefix); ++it) {
      result.kvs.push_back(it->second);
    }
    result.revision = revision_;
  }
  deliver();
  return result;
}

int64_t FakeStore::put(const std::string& key, const std::string& value, LeaseId lease) {
  TxnResult result = commit(Txn{{}, {Operation::put(key, value, lease)}, {}});
  return result.revision;
}

bool FakeStore::erase(const std::string& key) {
  bool existed = false;
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    existed = kvs_.contains(key);
    if (existed) {
      ++revision_;
      erase_locked(key);
    }
  }
  deliver();
  return existed;
}

TxnResult FakeStore::commit(const Txn& txn) {
  TxnResult result;
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    for (const auto& op : txn.on_success) {
      if (op.kind == Operation::Kind::kPut && op.lease != 0 && !leases_.contains(op.lease)) {
        throw LeaseNotFound();
      }
    }
    result.succeeded = std::all_of(txn.compares.begin(), txn.compares.end(),
                                   [&](const Compare& c) { return holds_locked(c); });
    if (result.succeeded) {
      bool writes = !txn.on_success.empty();
      if (writes) ++revision_;
      for (const auto& op : txn.on_success) {
        if (op.kind == Operation::Kind::kPut) {
          put_locked(op.key, op.value, op.lease);
        } else {
          erase_locked(op.key);
        }
      }
    } else {
      for (const auto& key : txn.on_failure_get) {
        auto it = kvs_.find(key);
        result.failure_reads.push_back(it == kvs_.end() ? std::nullopt
                                                        : std::optional<KeyValue>(it->second));
      }
    }
    result.revision = revision_;
  }
  deliver();
  return result;
}

LeaseId FakeStore::grant_lease(std::chrono::seconds ttl) {
  LeaseId id = 0;
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    id = next_lease_++;
    leases_[id] = Lease{ttl, now() + ttl, {}};
  }
  deliver();
  return id;
}

std::optional<std::chrono::seconds> FakeStore::keep_alive(LeaseId lease) {
  std::optional<std::chrono::seconds> ttl;
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    auto it = leases_.find(lease);
    if (it != leases_.end()) {
      it->second.expires = now() + it->second.ttl;
      ttl = it->second.ttl;
    }
  }
  deliver();
  return ttl;
}

void FakeStore::revoke_lease(LeaseId lease) {
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    expire_leases_locked();
    auto it = leases_.find(lease);
    if (it != leases_.end()) {
      it->second.expires = now();
      expire_leases_locked();
    }
  }
  deliver();
}

std::unique_ptr<Watch> FakeStore::watch_prefix(std::string_view prefix, int64_t from_revision,
                                               WatchCallback callback) {
  auto watcher = std::make_shared<Watcher>();
  watcher->prefix = std::string(prefix);
  watcher->callback = std::move(callback);
  {
    std::lock_guard lock(mutex_);
    check_available_locked();
    watcher->next_revision = from_revision > 0 ? from_revision : revision_ + 1;
    watchers_.push_back(watcher);
  }
  auto watch = std::make_unique<FakeWatch>(*this, watcher);
  deliver();
  return watch;
}

void FakeStore::deliver() {
  if (std::find(delivering_stores.begin(), delivering_stores.end(), this) !=
      delivering_stores.end()) {
    return;
  }
  std::lock_guard delivery(delivery_mutex_);
  delivering_stores.push_back(this);
  struct PopOnExit {
    ~PopOnExit() { delivering_stores.pop_back(); }
  } pop_on_exit;
  struct Batch {
    std::shared_ptr<Watcher> watcher;
    std::vector<WatchEvent> events;
  };
  for (;;) {
    std::vector<Batch> batches;
    {
      std::lock_guard lock(mutex_);
      if (holding_events_) break;
      for (const auto& watcher : watchers_) {
        if (watcher->next_revision > revision_) continue;
        Batch batch{watcher, {}};
        if (watcher->next_revision < compacted_) {
          batch.events.push_back(WatchEvent{WatchEvent::Type::kCompacted, "", "", compacted_, 0});
          watcher->next_revision = INT64_MAX;  // a compacted watch is over
        } else {
          auto from = std::lower_bound(
              history_.begin(), history_.end(), watcher->next_revision,
              [](const WatchEvent& event, int64_t revision) { return event.revision < revision; });
          for (auto it = from; it != history_.end(); ++it) {
            if (has_prefix(it->key, watcher->prefix)) batch.events.push_back(*it);
          }
          watcher->next_revision = revision_ + 1;
        }
        if (!batch.events.empty()) batches.push_back(std::move(batch));
      }
    }
    if (batches.empty()) break;
    for (auto& batch : batches) {
      if (batch.watcher->alive) batch.watcher->callback(batch.events);
    }
  }
}

void FakeStore::tick() {
  {
    std::lock_guard lock(mutex_);
    expire_leases_locked();
  }
  deliver();
}

void FakeStore::set_available(bool available) {
  std::lock_guard lock(mutex_);
  available_ = available;
}

void FakeStore::hold_events(bool hold) {
  {
    std::lock_guard lock(mutex_);
    holding_events_ = hold;
  }
  deliver();
}

void FakeStore::compact(int64_t revision) {
  {
    std::lock_guard lock(mutex_);
    compacted_ = std::max(compacted_, std::min(revision, revision_));
    std::erase_if(history_, [&](const WatchEvent& event) { return event.revision < compacted_; });
  }
  deliver();
}

int64_t FakeStore::revision() const {
  std::lock_guard lock(mutex_);
  return revision_;
}

size_t FakeStore::lease_count() const {
  std::lock_guard lock(mutex_);
  return leases_.size();
}

}  // namespace bpfnet::store
