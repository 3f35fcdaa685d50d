// A host's local copy of the cluster (hosts, global networks, endpoints),
// kept up to date by one watch on the whole key space, and the changes a
// datapath needs: each endpoint with its host's underlay address and its
// network's VNI, as it becomes reachable and as it goes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/cluster_records.h"
#include "store/store.h"

namespace bpfnet::store {

// Where each item of a batch's `added` list is, by identity (the view's).
using BatchIndex = std::unordered_map<std::string, size_t>;

// An endpoint is reachable once its record, its host's record and its
// network's record are all known; it stops being so when any of them goes.
struct RemoteEndpoint {
  EndpointRecord endpoint;
  core::Ipv4 underlay;  // of endpoint.host
  uint32_t vni = 0;     // of endpoint.network_id

  bool operator==(const RemoteEndpoint&) const = default;
};

struct ViewChanges {
  // Endpoints that became reachable or changed (address, MAC, host, VNI):
  // program them; `removed` came first for a changed one.
  std::vector<RemoteEndpoint> added;
  std::vector<RemoteEndpoint> removed;
  std::vector<NetworkRecord> networks_added;  // or changed
  std::vector<NetworkRecord> networks_removed;
  std::vector<HostRecord> hosts_added;  // or changed
  std::vector<HostRecord> hosts_removed;
  // A check or a backend's health (services across hosts) came, changed or
  // went: read them again (checks(), backend_health()).
  bool backends_changed = false;
  // A service of the cluster (routing mesh) came, changed or went: read
  // them again (services()).
  bool services_changed = false;
  // An address of the cluster's IPAM was released (or, after a resync, may
  // have been while the view was not watching): a host sharing a service's
  // VIP with the host that held it takes it again (Controller::
  // retake_shared_vips), so no host hands the VIP out meanwhile.
  bool addresses_released = false;
  // The view re-read the whole store (at start, after a compaction cut the
  // watch off, after the store was away): what it missed meanwhile is in
  // the lists above, but a host applying changes incrementally reconciles
  // everything once more, so that nothing drifts.
  bool resynced = false;

  bool empty() const;
};

class ClusterView {
 public:
  // Called after each batch of store events that changed something, from
  // the store's watch thread (or the writer's thread with FakeStore), one
  // call at a time. The view's accessors may be used inside it.
  using Listener = std::function<void(const ViewChanges&)>;

  ClusterView(Store& store, Listener listener);
  ~ClusterView();
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  // Reads everything, reports it as added, then follows the watch. Throws
  // StoreUnavailable when the store cannot be read; call again later.
  void start();
  // After a compaction cut the watch off and the re-read failed (the store
  // was away), the view is stale until this succeeds; the daemon calls it
  // from its periodic loop. Returns whether the view is live.
  bool resync_if_needed();

  std::map<std::string, HostRecord> hosts() const;
  std::map<std::string, NetworkRecord> networks() const;
  // Every reachable endpoint, by store key.
  std::map<std::string, RemoteEndpoint> endpoints() const;
  // Calls `visit` with each reachable endpoint, under the view's lock (no
  // copy of the whole view: a host syncs it on every change, and at 10,000
  // endpoints the copy was most of a sync). `visit` must not call the view.
  void for_each_endpoint(const std::function<void(const RemoteEndpoint&)>& visit) const;
  // Services across hosts, by (service ID, endpoint ID): the backends each
  // service's host asks their hosts to probe, and what those hosts say.
  using BackendKey = std::pair<std::string, std::string>;
  std::map<BackendKey, CheckRecord> checks() const;
  std::map<BackendKey, BackendHealthRecord> backend_health() const;
  // The cluster's services (routing mesh), by name.
  std::map<std::string, ServiceRecord> services() const;
  // Records the view could not read (skipped, counted).
  size_t bad_records() const;
  // The lowest `count` addresses of `pool` that no record under the
  // network's ipam/ prefix holds and `skip` does not exclude, as the view
  // has them (one walk of the pool against the taken set, no store read):
  // the candidates of an automatic allocation, whose create-if-absent
  // transaction stays the arbiter. nullopt while the view is stale or not
  // yet read: read the store instead.
  std::optional<std::vector<core::Ipv4>> free_addresses(const std::string& network_id,
                                                        const core::Cidr& pool,
                                                        const std::function<bool(core::Ipv4)>& skip,
                                                        size_t count) const;

 private:
  void on_events(const std::vector<WatchEvent>& events);
  // Re-reads the whole prefix, turns the difference into changes, and
  // watches on from the read's revision.
  void resync(bool throw_when_away);
  void apply(const WatchEvent& event, ViewChanges& changes);
  void apply_endpoint(const WatchEvent& event, const std::string& network_id, ViewChanges& changes);
  void apply_address(const WatchEvent& event, const std::string& network_id,
                     const std::string& address, ViewChanges& changes);
  // Reports the endpoint at `key` as added/removed/changed as its records say.
  void reevaluate(const std::string& key, ViewChanges& changes);
  void reevaluate_group(const std::map<std::string, std::set<std::string>>& index,
                        const std::string& name, ViewChanges& changes);

  Store& store_;
  Listener listener_;
  mutable std::mutex mutex_;
  std::map<std::string, HostRecord> hosts_;                 // by name
  std::map<std::string, NetworkRecord> networks_;           // by ID
  std::map<std::string, EndpointRecord> endpoint_records_;  // by key
  std::map<std::string, std::set<std::string>> endpoints_by_host_;
  std::map<std::string, std::set<std::string>> endpoints_by_network_;
  std::map<std::string, RemoteEndpoint> reachable_;  // by key
  std::map<BackendKey, CheckRecord> checks_;
  std::map<BackendKey, BackendHealthRecord> backend_health_;
  std::map<std::string, ServiceRecord> services_;  // by name
  // Addresses taken under ipam/, by network ID (network_id -> addresses).
  std::map<std::string, std::set<core::Ipv4>> addresses_;
  // The batch being built (under mutex_): where its added items are.
  struct {
    BatchIndex endpoints, networks, hosts;
  } batch_;
  size_t bad_records_ = 0;
  bool stale_ = false;
  bool synced_ = false;  // a resync has read the store (later ones may have missed deletions)
  bool stopping_ = false;
  // Serialises listener calls (watch thread vs. resync from the caller).
  std::mutex listener_mutex_;
  std::unique_ptr<Watch> watch_;
  std::unique_ptr<Watch> retired_watch_;  // the compacted one, ended
};

}  // namespace bpfnet::store
