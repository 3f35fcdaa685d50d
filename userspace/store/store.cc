#include "store/store.h"

#include <utility>

namespace bpfnet::store {

StoreUnavailable::StoreUnavailable(std::string_view why)
    : std::runtime_error("store unavailable: " + std::string(why)) {}

Compare Compare::absent(std::string key) {
  return Compare{std::move(key), "", Target::kCreateRevision, Result::kEqual, 0};
}

Compare Compare::prefix_empty(std::string_view prefix) {
  return Compare{std::string(prefix), prefix_range_end(prefix), Target::kCreateRevision,
                 Result::kEqual, 0};
}

Compare Compare::mod_revision_is(std::string key, int64_t revision) {
  return Compare{std::move(key), "", Target::kModRevision, Result::kEqual, revision};
}

Compare Compare::prefix_unchanged_since(std::string_view prefix, int64_t revision) {
  return Compare{std::string(prefix), prefix_range_end(prefix), Target::kModRevision, Result::kLess,
                 revision + 1};
}

Operation Operation::put(std::string key, std::string value, LeaseId lease) {
  return Operation{Kind::kPut, std::move(key), std::move(value), lease};
}

Operation Operation::erase(std::string key) {
  return Operation{Kind::kDelete, std::move(key), "", 0};
}

std::optional<KeyValue> Store::create_if_absent(const std::string& key, const std::string& value,
                                                LeaseId lease) {
  TxnResult result =
      commit(Txn{{Compare::absent(key)}, {Operation::put(key, value, lease)}, {key}});
  if (result.succeeded) return std::nullopt;
  // The compare and the read are one atomic step, so the key is there; an
  // empty record only guards against a store that breaks that promise.
  if (result.failure_reads.empty() || !result.failure_reads.front())
    return KeyValue{key, "", 0, 0, 0};
  return result.failure_reads.front();
}

bool Store::compare_and_swap(const std::string& key, int64_t mod_revision, const std::string& value,
                             LeaseId lease) {
  Compare compare =
      mod_revision == 0 ? Compare::absent(key) : Compare::mod_revision_is(key, mod_revision);
  return commit(Txn{{std::move(compare)}, {Operation::put(key, value, lease)}, {}}).succeeded;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // Every byte 0xff (or empty): to the end of the keyspace, etcd's "\0".
  return std::string(1, '\0');
}

}  // namespace bpfnet::store
