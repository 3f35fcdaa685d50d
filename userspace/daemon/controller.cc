#include "daemon/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>

#include "core/default_bridge.h"
#include "core/engine.h"
#include "core/error.h"
#include "daemon/log.h"
#include "daemon/requests.h"
#include "datapath/conntrack.h"
#include "datapath/projection.h"

namespace bpfnet::daemon {

namespace {

const core::Endpoint* find_endpoint(const core::State& s, const std::string& id) {
  for (const auto& ep : s.endpoints)
    if (ep.id == id) return &ep;
  return nullptr;
}

// Docker gives a container its default route through its first network that
// has a gateway; internal networks have none.
bool wants_default_route(const core::State& s, const core::Endpoint& ep) {
  for (const auto& other : s.endpoints) {
    if (other.container != ep.container) continue;
    const core::Network* net = s.network_by_id(other.network_id);
    bool routed = net && !net->internal;
    if (&other == &ep) return routed;
    if (routed) return false;
  }
  return false;
}

}  // namespace

Controller::Controller(StateStore& store, Plumbing& plumbing, core::IdSource& ids, Clock now,
                       ControllerOptions options)
    : store_(store),
      plumbing_(plumbing),
      ids_(ids),
      now_(std::move(now)),
      options_(std::move(options)) {}

std::vector<core::UplinkSpec> Controller::uplink_specs(const core::State& state) const {
  std::map<std::string, core::UplinkSpec> by_name;
  for (const auto* texts : {&state.uplinks, &options_.uplinks})
    for (const std::string& text : *texts) {
      core::UplinkSpec spec = core::parse_uplink_spec(text);
      by_name[spec.name] = spec;
    }
  std::vector<core::UplinkSpec> out;
  for (auto& [name, spec] : by_name) out.push_back(std::move(spec));
  return out;
}

HostFacts Controller::host_facts(const core::State& state, bool strict, bool with_remote) {
  HostFacts facts;
  for (const auto& spec : uplink_specs(state)) {
    try {
      UplinkInfo u = plumbing_.uplink(spec.name);
      facts.uplinks[u.ifindex] = u;
    } catch (const core::UserError& e) {
      if (strict) throw;
      warn(e.what());
    }
  }
  facts.addresses = plumbing_.host_addresses();
  if (!options_.underlay.empty()) {
    try {
      facts.underlay_mtu = plumbing_.uplink(options_.underlay).mtu;
    } catch (const core::UserError& e) {
      if (strict) throw;
      warn(e.what());
    }
  }
  if (cluster_ && with_remote) facts.remote_endpoints = cluster_->remote_endpoints();
  facts.lb_addresses = host_.lb_addresses;  // the cluster's to change (sync_lb_addresses)
  return facts;
}

void Controller::attach_underlay() {
  std::optional<AddressLink> link;
  if (options_.vxlan_in_bpf) link = plumbing_.address_link(cluster_->host().underlay);
  if (underlay_link_ && *underlay_link_ == link) return;
  if (options_.vxlan_in_bpf && !link)
    warn(
        fmt::format("underlay address {} is on no interface: overlay traffic goes through the "
                    "VXLAN device only",
                    cluster_->host().underlay.to_string()));
  datapath_->attach_underlay(link ? link->ifindex : 0, link ? link->prefix_len : 0);
  underlay_link_ = link;
}

void Controller::attach_uplinks() {
  if (!host_.uplinks.empty()) plumbing_.enable_forwarding();
  uplinks_.clear();
  for (const auto& spec : uplink_specs(state_)) {
    UplinkStatus& status = uplinks_.emplace_back(UplinkStatus{spec, std::nullopt, false, ""});
    for (const auto& [ifindex, up] : host_.uplinks)
      if (up.name == spec.name) status.link = up;
    if (!status.link) {
      status.reason = "no such interface, or no IPv4 address";
      continue;
    }
    core::UplinkMode mode = spec.mode;
    std::string forced_by = fmt::format("{}:{}", spec.name, core::uplink_mode_name(spec.mode));
    if (mode == core::UplinkMode::kAuto && !options_.xdp) {
      mode = core::UplinkMode::kTc;
      forced_by = "--no-xdp";
    }
    core::UplinkHook hook = core::choose_uplink_hook(mode, status.link->driver, forced_by);
    try {
      datapath_->attach_uplink(status.link->ifindex, hook.xdp);
    } catch (const datapath::DatapathError& e) {
      // A driver we expected XDP from refused it: tc alone is correct everywhere.
      if (!hook.xdp || mode == core::UplinkMode::kXdp) throw;
      warn(fmt::format("uplink {}: {}: falling back to tc", spec.name, e.what()));
      hook = core::UplinkHook{false, fmt::format("{} (XDP refused: {})", hook.reason, e.what())};
      datapath_->attach_uplink(status.link->ifindex, false);
    }
    status.xdp = hook.xdp;
    status.reason = hook.reason;
  }
}

void Controller::write_maps(const core::State& state) {
  datapath::MapDelta delta =
      datapath::diff(datapath_->read_maps(), datapath::project(state, links_, host_));
  // A backend leaves: the tables stop naming it before its entry goes.
  datapath::MapDelta backend_deletes;
  backend_deletes.backends.deletes.swap(delta.backends.deletes);
  datapath_->apply(delta);
  write_tables(state);
  if (!backend_deletes.empty()) datapath_->apply(backend_deletes);
  // Flows of containers and published ports that just went go with them.
  datapath::purge_flows_of(*datapath_, delta, flow_end_sink());
}

std::set<uint32_t> Controller::unhealthy_backends() const {
  std::set<uint32_t> out = remote_backends_out();
  for (const auto& [id, h] : health_)
    if (!h.healthy) out.insert(id);
  return out;
}

void Controller::write_tables(const core::State& state) {
  std::set<uint32_t> wanted;
  const std::set<uint32_t> unhealthy = unhealthy_backends();
  for (const auto& svc : state.services) {
    wanted.insert(svc.index);
    std::vector<uint32_t> want =
        core::maglev_table(core::maglev_input(svc, unhealthy), svc.table_size);
    std::vector<uint32_t> have = datapath_->read_maglev(svc.index);
    std::vector<std::pair<uint32_t, uint32_t>> changes;
    if (have.size() != want.size()) {
      for (uint32_t slot = 0; slot < want.size(); ++slot) changes.emplace_back(slot, want[slot]);
    } else {
      // Only the slots that change (Katran's delta writes).
      for (const auto& c : core::maglev_delta(have, want)) changes.emplace_back(c.slot, c.backend);
    }
    if (!changes.empty()) datapath_->write_maglev(svc.index, svc.table_size, changes);
  }
  for (uint32_t index : datapath_->maglev_indexes())
    if (!wanted.contains(index)) datapath_->delete_maglev(index);
}

std::set<uint32_t> Controller::removed_backend_ips(const core::State& from, const core::State& to) {
  std::set<uint32_t> before, after;
  auto collect = [](const core::State& s, std::set<uint32_t>& out) {
    for (const auto& svc : s.services)
      for (const auto& be : svc.backends)
        if (const core::Endpoint* ep = s.endpoint(svc.network_id, be.container))
          out.insert(ep->ip.value);
  };
  collect(from, before);
  collect(to, after);
  std::set<uint32_t> gone;
  for (uint32_t ip : before)
    if (!after.contains(ip)) gone.insert(ip);
  return gone;
}

std::map<uint32_t, core::BackendRuntime> Controller::backend_runtime() {
  std::map<uint32_t, uint64_t> flows_by_ip = datapath::lb_flows_by_backend(*datapath_);
  std::map<uint32_t, core::BackendRuntime> out;
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      core::BackendRuntime rt;
      auto h = health_.find(be.id);
      if (h != health_.end()) {
        rt.healthy = h->second.healthy;
        rt.last_error = h->second.last_error;
      }
      if (const core::Endpoint* ep = state_.endpoint(svc.network_id, be.container))
        rt.flows = flows_by_ip[ep->ip.value];
      remote_backend_runtime(svc, be, flows_by_ip, rt);
      out[be.id] = rt;
    }
  return out;
}

std::vector<HealthTarget> Controller::health_targets() const {
  std::vector<HealthTarget> targets;
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      const core::Endpoint* ep = state_.endpoint(svc.network_id, be.container);
      const uint16_t port = core::health_check_port(svc);
      if (!ep || port == 0) continue;
      targets.push_back(health_target(be.id, ep->ip.value, port, svc.health));
    }
  for (const auto& [id, probe] : remote_probes_) targets.push_back(probe.target);
  return targets;
}

void Controller::update_health_targets() {
  std::set<uint32_t> live;
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends)
      if (state_.endpoint(svc.network_id, be.container)) live.insert(be.id);
  for (auto it = health_.begin(); it != health_.end();)
    it = live.contains(it->first) ? std::next(it) : health_.erase(it);
  if (checker_) checker_->set_targets(health_targets());
}

bool Controller::record_health(const HealthResult& result) {
  if (result.backend_id >= kFirstRemoteProbeId) return record_remote_probe(result);
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      if (be.id != result.backend_id) continue;
      core::HealthState& h = health_[be.id];
      if (!core::record(h, svc.health, result.ok, result.error)) return false;
      warn(fmt::format("service {}: backend {} is now {}{}", svc.name, be.container,
                       h.healthy ? "healthy" : "unhealthy",
                       h.healthy ? "" : " (" + h.last_error + ")"));
      write_tables(state_);
      if (svc.global) {
        try {
          publish_mesh_health();
        } catch (const std::exception& e) {
          // Published at a later tick (sync_across_hosts retries).
          warn(fmt::format("cluster: publishing a backend's health: {}", e.what()));
        }
      }
      if (!h.healthy)
        if (const core::Endpoint* ep = state_.endpoint(svc.network_id, be.container))
          datapath::purge_lb_flows_to(*datapath_, {ep->ip.value}, flow_end_sink());
      return true;
    }
  return false;
}

void Controller::load(const std::optional<core::Config>& config) {
  std::optional<core::State> persisted = store_.load();
  core::State next = persisted ? *persisted : core::initial_state(ids_, now_());
  // Docker's default network comes first, as dockerd makes it before any
  // other: then automatic subnets of the config follow it, and it avoids the
  // config's explicit ones.
  std::vector<core::Cidr> avoid = plumbing_.host_routes();
  if (config)
    for (const auto& net : config->networks)
      if (net.subnet)
        if (auto cidr = core::Cidr::try_parse(*net.subnet)) avoid.push_back(*cidr);
  for (const std::string& line :
       core::ensure_default_bridge(next, options_.default_bridge, avoid, ids_, now_()))
    info(line);
  if (config) {
    core::Config here = *config;
    defer_cluster_services(next, here);
    core::apply_config(next, here, plumbing_.host_routes(), plumbing_.port_environment(), ids_,
                       now_());
    for (const auto& entry : config->services)
      if (entry.service.vip) config_vips_.insert(entry.service.name);
  }
  // New endpoints (from the config) must name namespaces that exist, and
  // every uplink must exist with an address.
  for (const auto& ep : next.endpoints)
    if (!persisted || !find_endpoint(*persisted, ep.id)) plumbing_.check_netns(ep.netns);
  host_ = host_facts(next, /*strict=*/true);
  state_ = std::move(next);
}

void Controller::forget_dead_docker_endpoints() {
  std::vector<core::Endpoint> dead;
  for (const auto& ep : state_.endpoints)
    if (ep.docker && ep.plumbed() && !plumbing_.host_link(ep.host_ifname)) dead.push_back(ep);
  for (const auto& ep : dead) {
    warn(
        fmt::format("forgetting Docker endpoint {} on network {} ({}): its veth is gone, so its "
                    "sandbox went while bpfnetd was down",
                    ep.id.substr(0, 12), ep.network_id.substr(0, 12), ep.ip.to_string()));
    core::remove_docker_endpoint(state_, state_.network_by_id(ep.network_id)->docker_id(), ep.id);
  }
}

std::set<std::string> Controller::wanted_links(const core::State& state) {
  std::set<std::string> wanted;
  for (const auto& net : state.networks)
    if (!net.builtin) wanted.insert(net.dummy_ifname);
  for (const auto& ep : state.endpoints) {
    wanted.insert(ep.host_ifname);
    // Docker may not have moved the container side yet (or failed to: then
    // its Leave removes the pair).
    if (ep.docker) wanted.insert(ep.ifname);
  }
  return wanted;
}

void Controller::reconcile_all() {
  host_ = host_facts(state_, /*strict=*/true);
  forget_dead_docker_endpoints();
  converge(state_, state_, /*reattach=*/true);
  attach_uplinks();
  if (!options_.cgroup.empty()) datapath_->attach_cgroup(options_.cgroup, plumbing_.netns_cookie());
  if (cluster_) {
    datapath_->attach_overlay(
        plumbing_.ensure_vxlan_device(host_.underlay_mtu ? host_.underlay_mtu : core::kDefaultMtu),
        cluster_->host().underlay.value);
    underlay_link_.reset();  // attach_overlay cleared nothing, but a restart re-attaches
    attach_underlay();
  }
  const core::PortEnvironment ports = plumbing_.port_environment();
  nat_ports_ = core::masquerade_ports(ports.ephemeral_low, ports.ephemeral_high);
  if (nat_ports_ == core::kDefaultNatPorts)
    warn(
        fmt::format("ip_local_port_range {}-{} leaves fewer than {} ports outside it: masquerade "
                    "uses {}-{}, which host sockets may use too",
                    ports.ephemeral_low, ports.ephemeral_high, core::kMinNatPorts, nat_ports_.min,
                    nat_ports_.max));
  datapath_->set_nat_ports(nat_ports_.min, nat_ports_.max);
  const std::set<std::string> wanted = wanted_links(state_);
  for (const auto& name : plumbing_.managed_links()) {
    if (wanted.contains(name)) continue;
    warn("removing " + name + ": not in the persisted state");
    plumbing_.delete_link(name);
  }
  std::set<uint32_t> live;
  for (const auto& [id, link] : links_) live.insert(link.ifindex);
  for (const auto& [ifindex, up] : host_.uplinks) live.insert(ifindex);
  std::set<uint32_t> stale;
  for (const auto& row : datapath_->read_metrics())
    if (!live.contains(row.ifindex)) stale.insert(row.ifindex);
  for (uint32_t ifindex : stale) datapath_->forget_metrics(ifindex);
  store_.save(state_);
  update_health_targets();
}

core::Network Controller::sized(const core::Network& net) const {
  core::Network out = net;
  out.parsed.mtu = net.parsed.effective_mtu(host_.default_mtu_of(net));
  return out;
}

void Controller::converge(const core::State& from, const core::State& to, bool reattach) {
  const auto started = std::chrono::steady_clock::now();
  struct Timed {  // counted on every way out, exceptions included
    ReconcileTiming& timing;
    std::chrono::steady_clock::time_point started;
    ~Timed() {
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      ++timing.count;
      timing.total_seconds += seconds;
      timing.last_seconds = seconds;
    }
  } timed{reconcile_timing_, started};
  for (const auto& net : to.networks)
    if (!net.builtin) plumbing_.ensure_network(sized(net));

  for (const auto& ep : from.endpoints) {
    const core::Endpoint* next = find_endpoint(to, ep.id);
    if (!ep.plumbed() || (next && next->plumbed())) continue;
    plumbing_.unplumb_endpoint(ep);
    auto it = links_.find(ep.id);
    if (it != links_.end()) {
      datapath_->forget_metrics(it->second.ifindex);
      links_.erase(it);
    }
    if (ep.docker || !wants_default_route(from, ep)) continue;
    // The container lost its gateway network: the next one takes over.
    for (const auto& other : to.endpoints) {
      if (other.container != ep.container || !wants_default_route(to, other)) continue;
      if (plumbing_.host_link(other.host_ifname) && plumbing_.netns_exists(other.netns))
        plumbing_.set_default_route(*to.network_by_id(other.network_id), other);
    }
  }

  std::vector<uint32_t> to_attach;
  for (const auto& ep : to.endpoints) {
    if (!ep.plumbed()) {
      links_.erase(ep.id);
      continue;
    }
    std::optional<HostLink> link = plumbing_.host_link(ep.host_ifname);
    bool fresh = false;
    if (!link && ep.docker) {
      const core::Endpoint* before = find_endpoint(from, ep.id);
      if (before && before->plumbed()) {
        // The pair died with its sandbox: the container side cannot be
        // recreated in a namespace Docker owns. Docker's Leave follows.
        warn(fmt::format("Docker endpoint {}: veth {} is gone", ep.id.substr(0, 12),
                         ep.host_ifname));
        links_.erase(ep.id);
        continue;
      }
      link = plumbing_.plumb_docker_endpoint(sized(*to.network_by_id(ep.network_id)), ep);
      fresh = true;
    }
    if (!link) {
      if (!plumbing_.netns_exists(ep.netns)) {
        warn(
            fmt::format("container {} on network {}: namespace {} is gone; endpoint kept until "
                        "`network disconnect`",
                        ep.container, ep.network_id.substr(0, 12), ep.netns));
        links_.erase(ep.id);
        continue;
      }
      const core::Network& net = *to.network_by_id(ep.network_id);
      link = plumbing_.plumb_endpoint(sized(net), ep, wants_default_route(to, ep));
      fresh = true;
    }
    if (fresh || reattach || !datapath_->endpoint_attached(link->ifindex))
      to_attach.push_back(link->ifindex);
    links_[ep.id] = *link;
  }

  // Maps first, programs after: a program swapped in (a new build, perhaps
  // with maps recreated empty at load) finds every entry already there.
  write_maps(to);
  for (uint32_t ifindex : to_attach) datapath_->attach_endpoint(ifindex);

  for (const auto& net : from.networks)
    if (!net.builtin && !to.network_by_id(net.id)) plumbing_.remove_network(net);
}

void Controller::commit(core::State next) {
  const std::set<uint32_t> gone = removed_backend_ips(state_, next);
  try {
    converge(state_, next, false);
    store_.save(next);
  } catch (const std::exception& e) {
    try {
      converge(next, state_, false);
    } catch (const std::exception& undo) {
      warn(std::string("rolling back a failed change: ") + undo.what());
    }
    throw;
  }
  state_ = std::move(next);
  // A backend taken out of its service loses its flows (UDP rebalances on
  // the next packet, TCP gets reset by the backend it lands on).
  datapath::purge_lb_flows_to(*datapath_, gone, flow_end_sink());
  update_health_targets();
}

std::vector<datapath::FlowRecord>* Controller::flow_end_sink() {
  if (!wants_flow_ends || !flows_ended || !wants_flow_ends()) return nullptr;
  return &flow_ends_;
}

void Controller::report_flow_ends(uint64_t now_ns) {
  if (flow_ends_.empty()) return;
  std::vector<datapath::FlowRecord> ended;
  ended.swap(flow_ends_);
  if (flows_ended) flows_ended(ended, now_ns);
}

void Controller::update(const std::function<void(core::State&)>& edit) {
  core::State next = state_;
  edit(next);
  commit(std::move(next));
}

nlohmann::json Controller::handle(const std::string& op, const nlohmann::json& args) {
  return handle_request(*this, op, args);
}

void Controller::tick(uint64_t now_ns) {
  if (checker_)
    for (const auto& r : checker_->take_results()) record_health(r);
  // Syncs apply the view's changes alone: an entry lost behind the daemon's
  // back (deleted by hand, a write that never landed) would stay lost. Now
  // and then, everything from the view, as every sync did before.
  if (cluster_ && last_cluster_full_ns_ == 0) last_cluster_full_ns_ = now_ns;
  if (cluster_ && now_ns - last_cluster_full_ns_ >= cluster_full_interval_ns) {
    cluster_->mark_full();
    last_cluster_full_ns_ = now_ns;
  }
  sync_cluster();
  // Flows purged since the last tick (by requests, some on the Docker
  // plugin's thread): told from here, the control socket's thread.
  report_flow_ends(now_ns);
  if (last_gc_ns_ != 0 && now_ns - last_gc_ns_ < gc_interval_ns) return;
  last_gc_ns_ = now_ns;
  datapath::gc_conntrack(*datapath_, now_ns, flow_end_sink());
  report_flow_ends(now_ns);
  // Host addresses come and go (DHCP, an uplink readdressed or recreated): keep up.
  if (cluster_) attach_underlay();
  // The remote endpoints are sync_cluster's to keep (by the view's
  // changes): compared without them, no copy of every remote endpoint.
  HostFacts facts = host_facts(state_, /*strict=*/false, /*with_remote=*/false);
  std::map<uint32_t, datapath::RemoteEndpointFact> remote;
  remote.swap(host_.remote_endpoints);
  const bool same = facts == host_;
  host_.remote_endpoints.swap(remote);
  if (same) return;
  bool uplinks_changed = facts.uplinks != host_.uplinks;
  facts.remote_endpoints.swap(host_.remote_endpoints);
  host_ = std::move(facts);
  if (uplinks_changed) {
    attach_uplinks();
    // An uplink filter added on the underlay interface goes before the
    // underlay's: put the underlay's first again.
    if (cluster_) {
      underlay_link_.reset();
      attach_underlay();
    }
  }
  write_maps(state_);
}

}  // namespace bpfnet::daemon
