// This host's membership of a cluster (bpfnetd --store): its registration
// under a lease, the cluster's writes (ClusterRegistry) and its local copy of
// the cluster (ClusterView), and what the controller needs from them in its
// own terms (core networks, the datapath's remote endpoints).
//
// Threads: the view's watch thread only raises a flag (take_changes) and
// signals wake_fd(); the controller reads the view from its own thread, under
// its own lock, so no store callback ever waits for the controller.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/state.h"
#include "datapath/host_facts.h"
#include "store/cluster_registry.h"
#include "store/cluster_view.h"
#include "store/store.h"

namespace bpfnet::daemon {

// One remote endpoint that became reachable (or changed) or went, as the
// view reported it; applied in order (a changed one: removed, then added).
struct RemoteEndpointChange {
  uint32_t ip = 0;  // host order
  datapath::RemoteEndpointFact fact;
  bool removed = false;
};

// What changed in the view since the last take_changes().
struct ClusterChanges {
  bool any = false;
  // Reconcile everything from the view (start, a resync, a renewed lease):
  // `remote` is then not the whole story.
  bool full = false;
  bool networks = false;                     // overlay networks came, changed or went
  bool backends = false;                     // checks or backend health (services across hosts)
  std::vector<RemoteEndpointChange> remote;  // other hosts' endpoints, in order
};

struct ClusterOptions {
  store::HostRecord host;  // name and underlay address
  std::chrono::seconds lease_ttl{10};
  // Where the lease ID is kept between runs, so that a restarted bpfnetd
  // takes its lease (and with it its addresses and endpoints) over.
  std::string lease_file;
  bool keep_alive_thread = true;  // tests on a FakeStore refresh by hand
};

class Cluster {
 public:
  Cluster(store::Store& store, ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Registers the host (resuming the saved lease) and starts following the
  // cluster. Throws StoreUnavailable while the store is away (call again
  // later: started() stays false) and core::UserError when another live
  // host has this host's name.
  void start(const std::vector<core::Cidr>& local_subnets);
  bool started() const { return started_; }
  // Graceful stop: the host's records go at once (its lease is revoked).
  void stop();

  store::ClusterRegistry& registry() { return *registry_; }
  const store::HostRecord& host() const { return options_.host; }
  // What changed in the view since the last call (everything, `full`,
  // when the cluster was just started or the view re-read the store).
  ClusterChanges take_changes();
  // The next take_changes() says full: everything reconciled from the view
  // (the daemon's periodic check against what may have changed behind its
  // back).
  void mark_full();
  // An eventfd that becomes readable when the view changes, so that the
  // daemon's loop syncs at once instead of at its next periodic tick (a
  // remote endpoint reaches the tunnel map within a watch round trip).
  // take_changes() drains it.
  int wake_fd() const { return wake_fd_; }
  // Periodic upkeep: re-reads the store after a cut-off watch, and renews a
  // lost lease. Returns the endpoints another host took meanwhile.
  std::vector<store::EndpointRecord> upkeep();

  // The overlay networks the cluster has, as this host mirrors them.
  std::vector<core::Network> networks() const;
  // Every host's endpoints on one overlay network, as the view has them.
  std::vector<store::EndpointRecord> endpoints(const std::string& network_id) const;
  // Services across hosts, by (service ID, endpoint ID), as the view has
  // them: the checks services' hosts ask for, and the backends' health.
  std::map<store::ClusterView::BackendKey, store::CheckRecord> checks() const;
  std::map<store::ClusterView::BackendKey, store::BackendHealthRecord> backend_health() const;
  // The cluster's services (routing mesh), by name.
  std::map<std::string, store::ServiceRecord> services() const;
  // Other hosts' endpoints, by address (host order): the tunnel map.
  std::map<uint32_t, datapath::RemoteEndpointFact> remote_endpoints() const;

 private:
  store::Store& store_;
  ClusterOptions options_;
  std::unique_ptr<store::ClusterRegistry> registry_;
  std::unique_ptr<store::ClusterView> view_;
  // From the view's listener (its watch thread): notes the changes and
  // wakes the daemon's loop.
  void note_changes(const store::ViewChanges& changes);
  void mark_changed();

  std::mutex changes_mutex_;
  ClusterChanges pending_;  // under changes_mutex_
  std::atomic<bool> changed_{false};
  int wake_fd_ = -1;
  bool started_ = false;
};

// An overlay network as a core network (index and dummy left for
// core::mirror_overlay_network) and back.
core::Network network_from_record(const store::NetworkRecord& record);
store::NetworkRecord record_from_network(const core::Network& network);

}  // namespace bpfnet::daemon
