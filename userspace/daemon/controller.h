// The control-plane façade: turns requests into a new desired state (core),
// brings interfaces and maps to it (plumbing, datapath), and persists it.
//
// Every mutating request: compute the next State on a copy (all validation
// happens here, nothing touched yet) -> converge interfaces and maps from the
// current State to it -> persist it atomically -> adopt it. If converging
// fails, the kernel side is converged back to the current State and the
// error is returned, so a failed request changes nothing. A crash between
// converge and persist leaves interfaces the next start removes (they are
// not in the persisted state) and maps it rewrites.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "core/config.h"
#include "core/default_bridge.h"
#include "core/health.h"
#include "core/nat_ports.h"
#include "core/service.h"
#include "core/state.h"
#include "core/uplinks.h"
#include "daemon/cluster.h"
#include "daemon/health_checker.h"
#include "daemon/plumbing.h"
#include "daemon/state_store.h"
#include "datapath/event_decode.h"
#include "datapath/host_facts.h"
#include "datapath/port.h"

namespace bpfnet::daemon {

using datapath::HostFacts;

struct ControllerOptions {
  // --uplink NAME[:auto|xdp|tc], in addition to the state's (and winning
  // over the state's mode for the same interface).
  std::vector<std::string> uplinks;
  bool xdp = true;     // false: --no-xdp, every `auto` uplink gets tc only
  std::string cgroup;  // cgroup v2 dir for socket hooks; empty: none
  // --underlay: the interface overlay traffic leaves by (its MTU sizes
  // overlay networks); empty: none, or given by address only.
  std::string underlay;
  // --overlay-encap: VXLAN encapsulated and decapsulated in BPF on the
  // underlay interface (true), or only through the VXLAN device.
  bool vxlan_in_bpf = true;
  // Docker's default `bridge` network (--bip, --bridge none).
  core::DefaultBridgeSettings default_bridge;
};

// An uplink as `bpfnetctl uplink ls` shows it: the hook it got and why.
struct UplinkStatus {
  core::UplinkSpec spec;
  std::optional<UplinkInfo> link;  // none: the interface (or its address) is missing
  bool xdp = false;
  std::string reason;
};

class Controller {
 public:
  using Clock = std::function<std::string()>;  // RFC 3339 "now"

  Controller(StateStore& store, Plumbing& plumbing, core::IdSource& ids, Clock now,
             ControllerOptions options = {});

  // The datapath is loaded only after load() has validated everything, so a
  // bad config or state file leaves even the pinned maps untouched.
  void set_datapath(datapath::DatapathPort& datapath) { datapath_ = &datapath; }
  // Where service backends are probed; none (tests): every backend healthy.
  void set_health_checker(HealthChecker* checker) { checker_ = checker; }
  // Feeds one probe result (from the checker) into the backend's rise/fall
  // state; a flip rewrites its service's table, and a backend that went down
  // loses its flows. Returns true on a flip.
  bool record_health(const HealthResult& result);
  // What the checker probes: this host's backends, and this host's
  // containers that other hosts' services balance to (IDs from
  // kFirstRemoteProbeId up).
  std::vector<HealthTarget> health_targets() const;
  static constexpr uint32_t kFirstRemoteProbeId = 0x80000000u;

  // Loads the persisted state and applies `config` to it, all validated
  // before anything is touched. Throws core::UserError on invalid input.
  void load(const std::optional<core::Config>& config);
  // Brings interfaces and maps to the loaded state: reattaches programs on
  // every endpoint (atomic replace), recreates what is missing, removes what
  // bpfnet created that the state no longer has. Conntrack is left alone.
  // A joined Docker endpoint whose veth is gone is forgotten (removed from
  // the state, freeing its address): the pair died with its sandbox while
  // bpfnetd was down, and Docker never joins an endpoint twice.
  void reconcile_all();

  // One control request (userspace/README.md; the ops are daemon/requests.h's
  // table). Throws core::UserError.
  nlohmann::json handle(const std::string& op, const nlohmann::json& args);

  // A change of the state, from a control request or the Docker plugin:
  // `edit` changes a copy of the state (throwing to refuse), which is then
  // converged, persisted and adopted; on any failure nothing changes.
  void update(const std::function<void(core::State&)>& edit);
  // What such an edit needs from the host and the daemon.
  core::PortEnvironment port_environment() { return plumbing_.port_environment(); }
  std::vector<core::Cidr> host_routes() { return plumbing_.host_routes(); }
  void check_netns(const std::string& netns) { plumbing_.check_netns(netns); }
  Plumbing& plumbing() { return plumbing_; }
  core::IdSource& ids() { return ids_; }
  std::string now() { return now_(); }

  // What answers read: the datapath (counters, conntrack), the host veth of
  // each plumbed endpoint, and each backend's health and flows.
  datapath::DatapathPort& datapath() { return *datapath_; }
  const std::map<std::string, HostLink>& links() const { return links_; }
  // The masquerade source ports, from the host's ip_local_port_range at start.
  core::NatPortSpan nat_ports() const { return nat_ports_; }
  std::map<uint32_t, core::BackendRuntime> backend_runtime();

  const core::State& state() const { return state_; }
  // Bringing interfaces and maps to a state: at start and on every change.
  struct ReconcileTiming {
    uint64_t count = 0;
    double total_seconds = 0;
    double last_seconds = 0;
  };
  const ReconcileTiming& reconcile_timing() const { return reconcile_timing_; }
  // nullopt without a cluster store; else whether the last sync reached it.
  std::optional<bool> store_healthy() const {
    if (!cluster_) return std::nullopt;
    return cluster_problem_.empty();
  }
  // Every uplink, by name, as of the last reconcile (or uplink change).
  const std::vector<UplinkStatus>& uplinks() const { return uplinks_; }

  // What disagrees between the state, the host's links and the maps (the
  // `doctor` request): one line per problem, none when all agree. Reads
  // only: it changes nothing. (daemon/doctor.cc)
  std::vector<std::string> doctor();

  // --- The cluster (bpfnetd --store; daemon/controller_cluster.cc) ---------
  void set_cluster(Cluster* cluster) { cluster_ = cluster; }
  // Overlay networks: created and removed in the store first, then mirrored
  // here (as every other host mirrors them from its view); addresses taken
  // cluster-wide, endpoints published for the other hosts' tunnel maps.
  // Without a cluster, each throws UserError naming --store.
  std::string create_overlay_network(const core::NetworkCreate& request);
  void remove_overlay_network(const core::Network& network);
  std::string connect_overlay(core::ConnectRequest request, const core::Network& network);
  void disconnect_overlay(const core::Endpoint& endpoint);
  // A change by Docker's network driver (daemon/docker_driver.cc): as
  // update(), and the Docker endpoints it adds to or removes from an overlay
  // network (through the overlay's Docker face, core/docker_overlay.h) are
  // published in or withdrawn from the cluster, as connect_overlay and
  // disconnect_overlay do, so that every host's tunnel map follows. Their
  // addresses are not taken here: Docker's IPAM (the overlay's global pool)
  // took them in the cluster for this host. On any failure nothing changes.
  void update_docker(const std::function<void(core::State&)>& edit);
  // Docker's IPAM driver's global pools (daemon/docker_ipam.cc): an address
  // of overlay network `network_id` taken (`wanted`, else the cluster's
  // pick) or released in the cluster store, under this host's lease.
  core::Ipv4 take_cluster_address(const std::string& network_id, const std::string& owner,
                                  std::optional<core::Ipv4> wanted);
  void release_cluster_address(const std::string& network_id, core::Ipv4 ip);
  // `network inspect` of an overlay network: each container says its host,
  // and the other hosts' containers are listed too.
  void describe_overlay(const core::Network& network, nlohmann::json& inspect) const;
  // Joins the cluster once the store answers, then keeps the mirrored
  // networks and the tunnel map as the cluster says (each tick).
  void sync_cluster();
  // Graceful stop: this host's records leave the cluster at once.
  void leave_cluster();
  // Services across hosts (daemon/controller_lb.cc): this host's name in the
  // cluster ("" without one) and the containers of the other hosts, the
  // backends `service add-backend SERVICE CONTAINER@HOST` may name.
  std::string cluster_host_name() const;
  // service.create and service.rm. On an overlay network the service is
  // the cluster's (routing mesh, daemon/controller_mesh.cc): made and
  // removed on every host, its VIP an address of the cluster's IPAM.
  std::string create_service(core::ServiceCreate request);
  std::string remove_service(const std::string& name);
  // service.add-backend, rm-backend, drain: `change` edits a copy of the
  // state; a change of the cluster's service goes to its record first, so
  // every host makes it.
  void change_service(const std::string& name, const std::function<void(core::State&)>& change);
  // Why the cluster's service `name` is not whole on this host (its
  // published ports taken here, a backend not known here), for inspect.
  std::vector<std::string> mesh_problems(const std::string& name) const;
  std::vector<core::RemoteContainer> remote_containers() const;

  // Periodic work: conntrack GC, host address changes. `now_ns` is
  // CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns().
  void tick(uint64_t now_ns);

 private:
  void commit(core::State next);
  // Docker endpoints whose veth went while bpfnetd was down (see reconcile_all).
  void forget_dead_docker_endpoints();
  void converge(const core::State& from, const core::State& to, bool reattach);
  // `net` with its MTU resolved (its own, else what the uplinks carry), as
  // its interfaces are created.
  core::Network sized(const core::Network& net) const;
  std::vector<core::UplinkSpec> uplink_specs(const core::State& state) const;
  // Every interface bpfnet made in the host namespace that `state` accounts for.
  static std::set<std::string> wanted_links(const core::State& state);
  // doctor()'s parts.
  void check_links(std::vector<std::string>& problems);
  void check_maps(std::vector<std::string>& problems);
  // `strict`: a missing uplink is an error (start); else it is skipped
  // with a warning until it comes back (periodic refresh).
  // `with_remote`: the cluster's remote endpoints read whole (at start);
  // else left empty (sync_cluster keeps host_'s up to date by changes).
  HostFacts host_facts(const core::State& state, bool strict, bool with_remote = true);
  void attach_uplinks();
  // The BPF tunnel path on the interface the underlay address is on (again
  // when that changes); the VXLAN device alone when none has it.
  void attach_underlay();
  void write_maps(const core::State& state);
  void write_tables(const core::State& state);
  std::set<uint32_t> unhealthy_backends() const;
  void update_health_targets();
  // Backend ids that `from` has and `to` no longer has (by address).
  static std::set<uint32_t> removed_backend_ips(const core::State& from, const core::State& to);

  StateStore& store_;
  Plumbing& plumbing_;
  datapath::DatapathPort* datapath_ = nullptr;
  core::IdSource& ids_;
  Clock now_;
  ControllerOptions options_;
  core::State state_;
  std::map<std::string, HostLink> links_;  // endpoint id -> its host veth
  HostFacts host_;                         // as of the last reconcile/tick
  core::NatPortSpan nat_ports_;            // written to the datapath by reconcile_all
  std::vector<UplinkStatus> uplinks_;      // the hooks attach_uplinks() chose
  // What attach_underlay() last gave the datapath; unset: nothing yet.
  std::optional<std::optional<AddressLink>> underlay_link_;
  HealthChecker* checker_ = nullptr;
  std::map<uint32_t, core::HealthState> health_;  // by backend id
  uint64_t last_gc_ns_ = 0;
  uint64_t last_cluster_full_ns_ = 0;
  // Where bpfnetd's own conntrack removals put their flow ends while a
  // monitor listens to flows (nullptr otherwise: nothing is collected), and
  // their hand-over to flows_ended, from tick() only: the monitors' sockets
  // belong to the control socket's thread, not the Docker plugin's.
  std::vector<datapath::FlowRecord>* flow_end_sink();
  void report_flow_ends(uint64_t now_ns);
  std::vector<datapath::FlowRecord> flow_ends_;
  Cluster* cluster_ = nullptr;
  std::vector<core::Cidr> published_subnets_;  // as last told to the cluster
  std::string cluster_problem_;                // the last warning, not repeated
  ReconcileTiming reconcile_timing_;

  Cluster& require_cluster();
  std::vector<core::Cidr> local_subnets() const;
  // After joining: this host's overlay endpoints, published again (a new
  // lease) or taken over (the saved one); one another host took is dropped.
  // The addresses of Docker's global pools are taken again first, then
  // Docker's endpoints on overlays published on them; records of this
  // host's that the state no longer has are withdrawn.
  void republish_endpoints();
  void drop_overlay_endpoints(const std::vector<std::string>& endpoint_ids, const std::string& why);
  // This host's own address ("lb" endpoint) on each overlay network that has
  // a service here, taken and published or released as services come and
  // go. Returns whether host_.lb_addresses changed.
  bool sync_lb_addresses();
  // A config-file service on an overlay network: local to this host, with
  // the VIP the cluster gives (the same service's on another host, else one
  // no host has given out).
  std::string create_config_overlay_service(core::ServiceCreate request);
  // --- Services of the cluster (daemon/controller_mesh.cc) ---------------
  std::string create_mesh_service(core::ServiceCreate request);
  void remove_mesh_service(const core::Service& service);
  // Each service record of the cluster made, changed or removed here.
  void sync_mesh_services();
  void apply_mesh_service(const store::ServiceRecord& record,
                          const std::vector<core::RemoteContainer>& remote);
  // Logs the problems not logged before; mesh_problems() says them.
  void note_mesh_problems(const std::string& name, std::vector<std::string> problems);
  // This host's backends of the cluster's services that are down, in the
  // store for the other hosts (withdrawn when back up or gone).
  void publish_mesh_health();
  std::map<std::string, std::vector<std::string>> mesh_problems_;  // by service name
  std::map<store::ClusterView::BackendKey, store::BackendHealthRecord> published_mesh_health_;
  // After joining: each service on an overlay network holds its VIP in the
  // cluster's IPAM, as service.create takes it; a service another host
  // defines too gets that host's VIP, and one whose VIP another host gave
  // out moves to a free one (a VIP the config file states stays, with a
  // warning). So a service of the config file, whose VIP was picked before
  // the cluster answered, ends as one `service create` made.
  void claim_service_vips();
  // A VIP this host shares with another host's same service, held in the
  // cluster by that host: taken here when that host lets it go (its service
  // removed, its lease expired), so no host hands it out while this host
  // still balances on it. Tried on each change of the cluster view.
  void retake_shared_vips();
  // Remote backends out of the Maglev tables until they are back: the ones
  // the cluster view lacks (their host or container is gone) and the ones
  // their host's probes found unhealthy (daemon/controller_remote_health.cc).
  std::set<uint32_t> remote_backends_out() const;
  bool has_remote_backends() const;
  // --- Health across hosts (daemon/controller_remote_health.cc) ---------
  // Each backend is probed by its own host: this host publishes a check
  // for each remote backend of its services (withdrawn when it goes), probes
  // its own containers that other hosts' checks name, and publishes their
  // health on every flip (and again if the store refused it).
  // sync_across_hosts does that (and, when the view changed, retakes shared
  // VIPs) at each sync; a refusal of the store is warned once and retried.
  void sync_across_hosts(bool view_changed);
  // --- The view's changes to the maps (daemon/controller_cluster_sync.cc)
  // Applies what changed in the view since the last sync: the remote
  // endpoints' tunnel entries one by one; everything (the overlay networks
  // mirrored, the whole projection) when the view re-read the store, when
  // networks change, or when a service balances to a touched network's
  // remote endpoints.
  void apply_cluster_changes(const ClusterChanges& changes, bool lb_changed);
  // The cluster's overlay networks in the state (commit), or the maps
  // rewritten from it when the state stays as it is.
  void mirror_cluster_networks();
  bool remote_backends_on(const std::set<std::string>& network_ids) const;
  // Writes the tunnel entries of the addresses in `before` (each entry as
  // the maps have it) as host_.remote_endpoints now says: only those that
  // differ.
  void write_tunnels(const std::map<uint32_t, std::optional<datapath::TunnelEntry>>& before);
  // A write of the view's changes failed: each sync reconciles everything
  // until one succeeds.
  bool tunnels_behind_ = false;
  // What remote `backend`'s own host says of it for `svc`, if unhealthy.
  const store::BackendHealthRecord* unhealthy_verdict(const core::Service& svc,
                                                      const core::RemoteContainer& backend) const;
  void sync_backend_checks(bool view_changed);
  void sync_remote_probes();
  void publish_probe_states();
  bool record_remote_probe(const HealthResult& result);
  // Flows to remote backends that just went out (unhealthy or gone), purged
  // as a local backend's are; remembers each remote backend's address.
  void purge_remote_backends_out();
  struct RemoteProbe {
    store::ClusterView::BackendKey key;  // (service ID, endpoint ID)
    store::CheckRecord check;
    HealthTarget target;
    core::HealthState state;
    std::optional<bool> published_healthy;  // as the store has it (none: no record)
  };
  std::map<uint32_t, RemoteProbe> remote_probes_;  // by probe ID (kFirstRemoteProbeId up)
  uint32_t next_remote_probe_id_ = 0;
  std::map<store::ClusterView::BackendKey, store::CheckRecord> published_checks_;
  // The cluster's checks and backend health as of the last view change.
  std::map<store::ClusterView::BackendKey, store::CheckRecord> cluster_checks_;
  std::map<store::ClusterView::BackendKey, store::BackendHealthRecord> cluster_health_;
  std::map<uint32_t, uint32_t> remote_backend_ips_;  // backend ID -> last known address
  std::set<uint32_t> remote_out_;                    // as of the last purge
  std::set<std::string> config_vips_;                // services whose VIP the config file states
  // --- The config file's services on overlays (daemon/controller_config.cc)
  // A service of the config file on a network neither this host's state nor
  // the config has, when there is a cluster: an overlay created on another
  // host, which a host that has never joined knows only after its first
  // sync. Such services are moved out of `config` into deferred_services_
  // and made by apply_deferred_services once the cluster's networks are
  // mirrored here, with their VIP from the cluster (as service.create).
  void defer_cluster_services(const core::State& state, core::Config& config);
  // Each deferred service whose network is now here is made (and its
  // backends added); one whose network the cluster lacks is logged as an
  // error once and waits for it (the rest of the host runs on).
  void apply_deferred_services();
  std::vector<core::ConfigService> deferred_services_;
  // What was logged about waiting services (a missing network, a refusal): once each.
  std::set<std::string> deferred_reported_;
  std::string backend_health_problem_;  // the last warning, not repeated
  // A remote backend's address and flows (or why it is out) in `rt`.
  void remote_backend_runtime(const core::Service& svc, const core::ServiceBackend& be,
                              std::map<uint32_t, uint64_t>& flows_by_ip,
                              core::BackendRuntime& rt) const;

 public:
  uint64_t gc_interval_ns = 5'000'000'000ULL;
  // How often the tunnel map and the rest of the cluster's share of the maps
  // are reconciled from the view as a whole, not only by its changes.
  uint64_t cluster_full_interval_ns = 30'000'000'000ULL;
  // The flows bpfnetd removes (conntrack GC, and purges when a container,
  // published port or backend goes), as monitor flow events (MonitorHub):
  // collected only while wants_flow_ends() says someone listens.
  std::function<bool()> wants_flow_ends;
  std::function<void(const std::vector<datapath::FlowRecord>&, uint64_t now_ns)> flows_ended;
};

}  // namespace bpfnet::daemon
