#include "store/cluster_view.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/error.h"
#include "store/cluster_keys.h"

namespace bpfnet::store {

namespace {

std::string identity(const RemoteEndpoint& e) {
  return keys::endpoint(e.endpoint.network_id, e.endpoint.endpoint_id);
}
std::string identity(const NetworkRecord& network) { return network.id; }
std::string identity(const HostRecord& host) { return host.name; }

// Within one batch the lists say where things ended up: something added and
// then removed again is neither; "removed" is applied before "added".
// `index` is where each identity is in `added` (a resync's batch holds every
// endpoint of the cluster: a search of the list per item was quadratic, and
// at 10,000 endpoints it was most of a joining host's start).
template <typename T>
void note_added(std::vector<T>& added, BatchIndex& index, const T& item) {
  auto [at, fresh] = index.emplace(identity(item), added.size());
  if (fresh) {
    added.push_back(item);
  } else {
    added[at->second] = item;
  }
}

template <typename T>
void note_removed(std::vector<T>& added, std::vector<T>& removed, BatchIndex& index,
                  const T& item) {
  auto at = index.find(identity(item));
  if (at == index.end()) {
    removed.push_back(item);
    return;
  }
  // Out of the list, the last one taking its place.
  const size_t pos = at->second;
  index.erase(at);
  if (pos + 1 != added.size()) {
    added[pos] = std::move(added.back());
    index[identity(added[pos])] = pos;
  }
  added.pop_back();
}

// Applies a put or delete of one record kind to its map, noting the change.
template <typename T, typename Parse>
bool apply_record(std::map<std::string, T>& records, const std::string& id, const WatchEvent& event,
                  Parse&& parse, std::vector<T>& added, std::vector<T>& removed,
                  BatchIndex& index) {
  auto it = records.find(id);
  if (event.type == WatchEvent::Type::kDelete) {
    if (it == records.end()) return false;
    note_removed(added, removed, index, it->second);
    records.erase(it);
    return true;
  }
  T record = parse(event.key, event.value);
  if (it != records.end() && it->second == record) return false;
  records[id] = record;
  note_added(added, index, record);
  return true;
}

// A put or delete of a record nothing else depends on; true if it changed.
template <typename Key, typename T, typename Parse>
bool apply_keyed(std::map<Key, T>& records, const Key& id, const WatchEvent& event, Parse&& parse) {
  if (event.type == WatchEvent::Type::kDelete) return records.erase(id) > 0;
  T record = parse(event.key, event.value);
  auto it = records.find(id);
  if (it != records.end() && it->second == record) return false;
  records[id] = std::move(record);
  return true;
}

}  // namespace

bool ViewChanges::empty() const {
  return added.empty() && removed.empty() && networks_added.empty() && networks_removed.empty() &&
         hosts_added.empty() && hosts_removed.empty() && !backends_changed && !services_changed &&
         !addresses_released && !resynced;
}

ClusterView::ClusterView(Store& store, Listener listener)
    : store_(store), listener_(std::move(listener)) {}

ClusterView::~ClusterView() {
  std::unique_ptr<Watch> watch;
  std::unique_ptr<Watch> retired;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    watch = std::move(watch_);
    retired = std::move(retired_watch_);
  }
  watch.reset();
  retired.reset();
}

void ClusterView::start() { resync(/*throw_when_away=*/true); }

bool ClusterView::resync_if_needed() {
  {
    std::lock_guard lock(mutex_);
    if (!stale_) return true;
  }
  resync(false);
  std::lock_guard lock(mutex_);
  return !stale_;
}

void ClusterView::on_events(const std::vector<WatchEvent>& events) {
  if (std::any_of(events.begin(), events.end(),
                  [](const WatchEvent& e) { return e.type == WatchEvent::Type::kCompacted; })) {
    resync(false);
    return;
  }
  std::lock_guard listening(listener_mutex_);
  ViewChanges changes;
  {
    std::lock_guard lock(mutex_);
    batch_ = {};
    for (const auto& event : events) apply(event, changes);
  }
  if (!changes.empty() && listener_) listener_(changes);
}

void ClusterView::resync(bool throw_when_away) {
  RangeResult all;
  try {
    all = store_.range_prefix(keys::kRoot);
  } catch (const StoreUnavailable&) {
    {
      std::lock_guard lock(mutex_);
      stale_ = true;
    }
    if (throw_when_away) throw;
    return;
  }
  {
    std::lock_guard listening(listener_mutex_);
    ViewChanges changes;
    {
      std::lock_guard lock(mutex_);
      batch_ = {};
      std::set<std::string> present;
      for (const auto& kv : all.kvs) present.insert(kv.key);
      std::vector<std::string> known;
      for (const auto& [name, host] : hosts_) known.push_back(keys::host(name));
      for (const auto& [id, network] : networks_) known.push_back(keys::network(id));
      for (const auto& [key, endpoint] : endpoint_records_) known.push_back(key);
      for (const auto& [ids, check] : checks_) known.push_back(keys::check(ids.first, ids.second));
      for (const auto& [ids, health] : backend_health_)
        known.push_back(keys::backend(ids.first, ids.second));
      for (const auto& [name, service] : services_) known.push_back(keys::service(name));
      for (const auto& [network_id, taken] : addresses_)
        for (core::Ipv4 ip : taken) known.push_back(keys::address(network_id, ip));
      for (const auto& key : known) {
        if (!present.contains(key)) {
          apply(WatchEvent{WatchEvent::Type::kDelete, key, "", all.revision, 0}, changes);
        }
      }
      for (const auto& kv : all.kvs) {
        apply(WatchEvent{WatchEvent::Type::kPut, kv.key, kv.value, kv.mod_revision, kv.lease},
              changes);
      }
      stale_ = false;
      // Addresses are not tracked: any may have gone while not watching.
      changes.addresses_released = std::exchange(synced_, true);
      changes.resynced = true;
    }
    if (!changes.empty() && listener_) listener_(changes);
  }
  // Outside listener_mutex_: FakeStore delivers on this thread.
  std::unique_ptr<Watch> watch;
  try {
    watch =
        store_.watch_prefix(keys::kRoot, all.revision + 1,
                            [this](const std::vector<WatchEvent>& events) { on_events(events); });
  } catch (const StoreUnavailable&) {
    std::lock_guard lock(mutex_);
    stale_ = true;
    if (throw_when_away) throw;
    return;
  }
  std::unique_ptr<Watch> finished;
  std::lock_guard lock(mutex_);
  if (stopping_) {
    finished = std::move(watch);
  } else {
    // The watch being replaced may be the one calling us: keep it until the
    // next replacement or the destructor, by when it has ended.
    finished = std::exchange(retired_watch_, std::move(watch_));
    watch_ = std::move(watch);
  }
}

void ClusterView::apply(const WatchEvent& event, ViewChanges& changes) {
  keys::ParsedKey parsed = keys::parse(event.key);
  try {
    switch (parsed.kind) {
      case keys::ParsedKey::Kind::kHost:
        if (apply_record(hosts_, parsed.first, event, host_from_json, changes.hosts_added,
                         changes.hosts_removed, batch_.hosts)) {
          reevaluate_group(endpoints_by_host_, parsed.first, changes);
        }
        return;
      case keys::ParsedKey::Kind::kNetwork:
        if (apply_record(networks_, parsed.first, event, network_from_json, changes.networks_added,
                         changes.networks_removed, batch_.networks)) {
          reevaluate_group(endpoints_by_network_, parsed.first, changes);
        }
        return;
      case keys::ParsedKey::Kind::kEndpoint:
        apply_endpoint(event, parsed.first, changes);
        return;
      case keys::ParsedKey::Kind::kCheck:
        changes.backends_changed |=
            apply_keyed(checks_, BackendKey{parsed.first, parsed.second}, event, check_from_json);
        return;
      case keys::ParsedKey::Kind::kBackend:
        changes.backends_changed |=
            apply_keyed(backend_health_, BackendKey{parsed.first, parsed.second}, event,
                        backend_health_from_json);
        return;
      case keys::ParsedKey::Kind::kService:
        changes.services_changed |=
            apply_keyed(services_, parsed.first, event, store::service_from_json);
        return;
      case keys::ParsedKey::Kind::kAddress:
        // Taken and released by the registry; the view keeps which are
        // taken (free_addresses) and says when one went.
        apply_address(event, parsed.first, parsed.second, changes);
        return;
      default:
        return;  // VNIs: the registry's business, not the view's
    }
  } catch (const core::UserError&) {
    ++bad_records_;
  }
}

void ClusterView::apply_address(const WatchEvent& event, const std::string& network_id,
                                const std::string& address, ViewChanges& changes) {
  const std::optional<core::Ipv4> ip = core::Ipv4::try_parse(address);
  if (event.type == WatchEvent::Type::kDelete) {
    changes.addresses_released = true;
    if (!ip) return;
    auto taken = addresses_.find(network_id);
    if (taken == addresses_.end()) return;
    taken->second.erase(*ip);
    if (taken->second.empty()) addresses_.erase(taken);
    return;
  }
  if (ip) addresses_[network_id].insert(*ip);  // else not ours to judge: allocation skips it too
}

void ClusterView::apply_endpoint(const WatchEvent& event, const std::string& network_id,
                                 ViewChanges& changes) {
  auto unindex = [&](const std::string& key) {
    auto old = endpoint_records_.find(key);
    if (old == endpoint_records_.end()) return;
    endpoints_by_host_[old->second.host].erase(key);
    endpoints_by_network_[old->second.network_id].erase(key);
    endpoint_records_.erase(old);
  };
  if (event.type == WatchEvent::Type::kDelete) {
    unindex(event.key);
  } else {
    EndpointRecord record = endpoint_from_json(event.key, event.value);
    if (record.network_id != network_id) {
      throw core::UserError(event.key + ": network_id does not match the key");
    }
    unindex(event.key);
    endpoints_by_host_[record.host].insert(event.key);
    endpoints_by_network_[record.network_id].insert(event.key);
    endpoint_records_[event.key] = std::move(record);
  }
  reevaluate(event.key, changes);
}

void ClusterView::reevaluate(const std::string& key, ViewChanges& changes) {
  std::optional<RemoteEndpoint> now;
  if (auto record = endpoint_records_.find(key); record != endpoint_records_.end()) {
    auto host = hosts_.find(record->second.host);
    auto network = networks_.find(record->second.network_id);
    if (host != hosts_.end() && network != networks_.end()) {
      now = RemoteEndpoint{record->second, host->second.underlay, network->second.vni};
    }
  }
  auto before = reachable_.find(key);
  if (before != reachable_.end() && (!now || *now != before->second)) {
    note_removed(changes.added, changes.removed, batch_.endpoints, before->second);
    reachable_.erase(before);
  }
  if (now && !reachable_.contains(key)) {
    note_added(changes.added, batch_.endpoints, *now);
    reachable_[key] = *now;
  }
}

void ClusterView::reevaluate_group(const std::map<std::string, std::set<std::string>>& index,
                                   const std::string& name, ViewChanges& changes) {
  auto group = index.find(name);
  if (group == index.end()) return;
  for (const auto& key : group->second) reevaluate(key, changes);
}

namespace {
// The view's accessors: a copy, taken under the view's lock.
template <typename T>
T locked_copy(std::mutex& mutex, const T& value) {
  std::lock_guard lock(mutex);
  return value;
}
}  // namespace

std::map<std::string, HostRecord> ClusterView::hosts() const { return locked_copy(mutex_, hosts_); }
std::map<std::string, NetworkRecord> ClusterView::networks() const {
  return locked_copy(mutex_, networks_);
}
std::map<std::string, RemoteEndpoint> ClusterView::endpoints() const {
  return locked_copy(mutex_, reachable_);
}
std::map<ClusterView::BackendKey, CheckRecord> ClusterView::checks() const {
  return locked_copy(mutex_, checks_);
}
std::map<ClusterView::BackendKey, BackendHealthRecord> ClusterView::backend_health() const {
  return locked_copy(mutex_, backend_health_);
}
std::map<std::string, ServiceRecord> ClusterView::services() const {
  return locked_copy(mutex_, services_);
}
size_t ClusterView::bad_records() const { return locked_copy(mutex_, bad_records_); }

std::optional<std::vector<core::Ipv4>> ClusterView::free_addresses(
    const std::string& network_id, const core::Cidr& pool,
    const std::function<bool(core::Ipv4)>& skip, size_t count) const {
  std::lock_guard lock(mutex_);
  if (stale_ || !synced_) return std::nullopt;
  static const std::set<core::Ipv4> kNone;
  auto found = addresses_.find(network_id);
  const std::set<core::Ipv4>& taken = found == addresses_.end() ? kNone : found->second;
  // The pool and the taken set in one walk, both in address order.
  std::vector<core::Ipv4> out;
  auto next_taken = taken.lower_bound(pool.network());
  for (uint64_t i = 0; i < pool.size() && out.size() < count; ++i) {
    const core::Ipv4 ip{static_cast<uint32_t>(pool.network().value + i)};
    while (next_taken != taken.end() && *next_taken < ip) ++next_taken;
    if (next_taken != taken.end() && *next_taken == ip) continue;
    if (!skip(ip)) out.push_back(ip);
  }
  return out;
}

void ClusterView::for_each_endpoint(const std::function<void(const RemoteEndpoint&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [key, remote] : reachable_) visit(remote);
}

}  // namespace bpfnet::store
