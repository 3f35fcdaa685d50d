#include "daemon/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "bpfnet_abi.h"
#include "core/drop_reasons.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/inspect.h"

namespace bpfnet::daemon {

namespace {

using nlohmann::json;

void warn(const std::string& msg) { std::cerr << "bpfnetd: warning: " << msg << std::endl; }

// Request argument accessors: a wrong type is the client's mistake, named.
std::string arg_string(const json& args, const char* key) {
  if (!args.is_object() || !args.contains(key))
    throw core::UserError(fmt::format("request: missing argument \"{}\"", key));
  if (!args[key].is_string())
    throw core::UserError(fmt::format("request: argument \"{}\" must be a string", key));
  return args[key].get<std::string>();
}

std::optional<std::string> opt_string(const json& args, const char* key) {
  if (!args.is_object() || !args.contains(key) || args[key].is_null()) return std::nullopt;
  return arg_string(args, key);
}

bool opt_bool(const json& args, const char* key) {
  if (!args.is_object() || !args.contains(key) || args[key].is_null()) return false;
  if (!args[key].is_boolean())
    throw core::UserError(fmt::format("request: argument \"{}\" must be true or false", key));
  return args[key].get<bool>();
}

std::map<std::string, std::string> opt_string_map(const json& args, const char* key) {
  std::map<std::string, std::string> out;
  if (!args.is_object() || !args.contains(key) || args[key].is_null()) return out;
  if (!args[key].is_object())
    throw core::UserError(fmt::format("request: argument \"{}\" must be an object", key));
  for (const auto& [k, v] : args[key].items()) {
    if (!v.is_string())
      throw core::UserError(fmt::format("request: {}.{} must be a string", key, k));
    out[k] = v.get<std::string>();
  }
  return out;
}

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

std::vector<std::string> Controller::uplink_names(const core::State& state) const {
  std::set<std::string> names(state.uplinks.begin(), state.uplinks.end());
  names.insert(options_.uplinks.begin(), options_.uplinks.end());
  return {names.begin(), names.end()};
}

HostFacts Controller::host_facts(const core::State& state, bool strict) {
  HostFacts facts;
  for (const auto& name : uplink_names(state)) {
    try {
      UplinkInfo u = plumbing_.uplink(name);
      facts.uplinks[u.ifindex] = u;
    } catch (const core::UserError& e) {
      if (strict) throw;
      warn(e.what());
    }
  }
  facts.addresses = plumbing_.host_addresses();
  return facts;
}

void Controller::attach_uplinks() {
  if (!host_.uplinks.empty()) plumbing_.enable_forwarding();
  for (const auto& [ifindex, up] : host_.uplinks) datapath_->attach_uplink(ifindex, options_.xdp);
}

void Controller::write_maps(const core::State& state) {
  datapath::MapDelta delta = datapath::diff(datapath_->read_maps(), project(state, links_, host_));
  if (delta.delete_backends.empty()) {
    datapath_->apply(delta);
    write_tables(state);
    return;
  }
  // A backend leaves: the tables stop naming it before its entry goes.
  datapath::MapDelta deletes;
  deletes.delete_backends.swap(delta.delete_backends);
  datapath_->apply(delta);
  write_tables(state);
  datapath_->apply(deletes);
}

std::set<uint32_t> Controller::unhealthy_backends() const {
  std::set<uint32_t> out;
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

void Controller::purge_flows_to(const std::set<uint32_t>& backend_ips) {
  if (backend_ips.empty()) return;
  std::vector<std::array<uint8_t, 16>> doomed;
  for (const auto& e : datapath_->read_conntrack()) {
    bool forward = !(e.flags & BPFNET_CT_F_REPLY);
    if (forward && (e.flags & BPFNET_CT_F_LB) && backend_ips.contains(e.rewrite_daddr)) {
      doomed.push_back(e.key);
      doomed.push_back(e.peer);
    }
  }
  datapath_->delete_conntrack(doomed);
}

std::map<uint32_t, core::BackendRuntime> Controller::backend_runtime() {
  std::map<uint32_t, uint64_t> flows_by_ip;
  for (const auto& e : datapath_->read_conntrack())
    if (!(e.flags & BPFNET_CT_F_REPLY) && (e.flags & BPFNET_CT_F_LB))
      flows_by_ip[e.rewrite_daddr]++;
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
      out[be.id] = rt;
    }
  return out;
}

void Controller::update_health_targets() {
  if (!checker_) return;
  std::vector<HealthTarget> targets;
  std::set<uint32_t> live;
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      const core::Endpoint* ep = state_.endpoint(svc.network_id, be.container);
      if (!ep) continue;
      live.insert(be.id);
      // The first TCP port of the service is probed (an HTTP check needs TCP).
      uint16_t port = svc.ports.front().second;
      for (const auto& [proto, p] : svc.ports)
        if (proto == core::Proto::kTcp) {
          port = p;
          break;
        }
      targets.push_back(HealthTarget{
          be.id, ep->ip.value, port, svc.health.type == core::HealthCheck::kHttp, svc.health.path,
          svc.health.expect, svc.health.interval_ms, svc.health.timeout_ms});
    }
  for (auto it = health_.begin(); it != health_.end();)
    it = live.contains(it->first) ? std::next(it) : health_.erase(it);
  checker_->set_targets(std::move(targets));
}

bool Controller::record_health(const HealthResult& result) {
  for (const auto& svc : state_.services)
    for (const auto& be : svc.backends) {
      if (be.id != result.backend_id) continue;
      core::HealthState& h = health_[be.id];
      if (!core::record(h, svc.health, result.ok, result.error)) return false;
      warn(fmt::format("service {}: backend {} is now {}{}", svc.name, be.container,
                       h.healthy ? "healthy" : "unhealthy",
                       h.healthy ? "" : " (" + h.last_error + ")"));
      write_tables(state_);
      if (!h.healthy)
        if (const core::Endpoint* ep = state_.endpoint(svc.network_id, be.container))
          purge_flows_to({ep->ip.value});
      return true;
    }
  return false;
}

std::vector<core::Cidr> Controller::routes_for_pools() { return plumbing_.host_routes(); }

void Controller::load(const std::optional<core::Config>& config) {
  std::optional<core::State> persisted = store_.load();
  core::State next = persisted ? *persisted : core::initial_state(ids_, now_());
  if (config)
    core::apply_config(next, *config, routes_for_pools(), plumbing_.port_environment(), ids_,
                       now_());
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
    core::remove_docker_endpoint(state_, ep.network_id, ep.id);
  }
}

void Controller::reconcile_all() {
  host_ = host_facts(state_, /*strict=*/true);
  attach_uplinks();
  if (!options_.cgroup.empty()) datapath_->attach_cgroup(options_.cgroup, plumbing_.netns_cookie());
  forget_dead_docker_endpoints();
  converge(state_, state_, /*reattach=*/true);
  std::set<std::string> wanted;
  for (const auto& net : state_.networks)
    if (!net.builtin) wanted.insert(net.dummy_ifname);
  for (const auto& ep : state_.endpoints) {
    wanted.insert(ep.host_ifname);
    // Docker may not have moved the container side yet (or failed to: then
    // its Leave removes the pair).
    if (ep.docker) wanted.insert(ep.ifname);
  }
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

datapath::MapContents Controller::project(const core::State& state,
                                          const std::map<std::string, HostLink>& links,
                                          const HostFacts& host) {
  datapath::MapContents out;
  for (const auto& [ifindex, up] : host.uplinks)
    out.uplinks[ifindex] = datapath::UplinkEntry{ifindex, up.ip.value, up.mac};
  for (const auto& addr : host.addresses) out.host_addrs[addr.value] = 0;
  for (const auto& net : state.networks) {
    if (net.builtin || !net.subnet) continue;
    uint32_t flags = 0;
    if (net.parsed.icc) flags |= BPFNET_NET_F_ICC;
    // Internal networks never masquerade (Docker), whatever the option says.
    if (net.parsed.masquerade && !net.internal) flags |= BPFNET_NET_F_MASQUERADE;
    if (net.internal) flags |= BPFNET_NET_F_INTERNAL;
    out.networks[net.index] = datapath::NetworkEntry{
        net.index, net.subnet->network().value, net.subnet->prefix_len, net.gateway.value,
        flags,     net.parsed.effective_mtu()};
  }
  for (const auto& ep : state.endpoints) {
    auto link = links.find(ep.id);
    const core::Network* net = state.network_by_id(ep.network_id);
    if (link == links.end() || !net) continue;
    out.add_endpoint(datapath::EndpointEntry{link->second.ifindex, net->index, ep.ip.value,
                                             ep.mac.bytes, link->second.mac});
    for (const auto& b : ep.ports)
      out.add_portmap(datapath::PortMapEntry{b.host_ip.value, b.host_port,
                                             core::ip_protocol_number(b.proto), ep.ip.value,
                                             b.container_port});
  }
  for (const auto& svc : state.services) {
    const core::Network* net = state.network_by_id(svc.network_id);
    if (!net) continue;
    for (const auto& [proto, port] : svc.ports)
      out.add_service(datapath::ServiceEntry{svc.vip.value, port, core::ip_protocol_number(proto),
                                             svc.index, svc.table_size,
                                             svc.affinity_timeout_s.value_or(0)});
    out.vips[svc.vip.value] = net->index;
    for (const auto& b : svc.published)
      out.add_portmap(datapath::PortMapEntry{b.host_ip.value, b.host_port,
                                             core::ip_protocol_number(b.proto), svc.vip.value,
                                             b.container_port});
    for (const auto& be : svc.backends)
      if (const core::Endpoint* ep = state.endpoint(svc.network_id, be.container))
        out.backends[be.id] = ep->ip.value;
  }
  return out;
}

void Controller::converge(const core::State& from, const core::State& to, bool reattach) {
  for (const auto& net : to.networks)
    if (!net.builtin) plumbing_.ensure_network(net);

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
      link = plumbing_.plumb_docker_endpoint(*to.network_by_id(ep.network_id), ep);
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
      link = plumbing_.plumb_endpoint(net, ep, wants_default_route(to, ep));
      fresh = true;
    }
    if (fresh || reattach || !datapath_->endpoint_attached(link->ifindex))
      datapath_->attach_endpoint(link->ifindex);
    links_[ep.id] = *link;
  }

  write_maps(to);

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
  purge_flows_to(gone);
  update_health_targets();
}

void Controller::update(const std::function<void(core::State&)>& edit) {
  core::State next = state_;
  edit(next);
  commit(std::move(next));
}

json Controller::handle(const std::string& op, const json& args) {
  if (op == "ping") return json{{"version", BPFNET_VERSION}};

  if (op == "network.create") {
    core::NetworkCreate req;
    req.name = arg_string(args, "name");
    if (auto d = opt_string(args, "driver")) req.driver = *d;
    req.subnet = opt_string(args, "subnet");
    req.gateway = opt_string(args, "gateway");
    req.ip_range = opt_string(args, "ip_range");
    req.internal = opt_bool(args, "internal");
    req.options = opt_string_map(args, "options");
    core::State next = state_;
    std::string id = core::create_network(next, req, routes_for_pools(), ids_, now_()).id;
    commit(std::move(next));
    return core::network_inspect(state_, *state_.network_by_id(id));
  }
  if (op == "network.ls") {
    std::vector<const core::Network*> nets;
    for (const auto& n : state_.networks) nets.push_back(&n);
    std::sort(nets.begin(), nets.end(), [](auto* a, auto* b) { return a->name < b->name; });
    json out = json::array();
    for (const auto* n : nets) out.push_back(core::network_inspect(state_, *n));
    return out;
  }
  if (op == "network.inspect") {
    return core::network_inspect(state_, state_.get_network(arg_string(args, "name")));
  }
  if (op == "network.rm") {
    core::State next = state_;
    core::Network removed = core::remove_network(next, arg_string(args, "name"));
    commit(std::move(next));
    return json{{"id", removed.id}};
  }
  if (op == "network.connect") {
    core::ConnectRequest req;
    req.network = arg_string(args, "network");
    req.container = arg_string(args, "container");
    req.netns = arg_string(args, "netns");
    req.ip = opt_string(args, "ip");
    req.mac = opt_string(args, "mac");
    core::State next = state_;
    std::string id = core::connect(next, req, ids_).id;
    plumbing_.check_netns(req.netns);
    commit(std::move(next));
    return core::endpoint_json(state_, *find_endpoint(state_, id));
  }
  if (op == "network.disconnect") {
    core::State next = state_;
    core::remove_endpoint(next, arg_string(args, "network"), arg_string(args, "container"));
    commit(std::move(next));
    return json::object();
  }
  if (op == "port.add") {
    std::string container = arg_string(args, "container");
    if (!args.contains("specs") || !args["specs"].is_array() || args["specs"].empty())
      throw core::UserError("request: argument \"specs\" must be a non-empty array of strings");
    std::vector<std::string> specs;
    for (const auto& spec : args["specs"]) {
      if (!spec.is_string()) throw core::UserError("request: specs must be strings");
      specs.push_back(spec.get<std::string>());
    }
    core::State next = state_;
    auto added = core::add_ports(next, container, specs, opt_string(args, "network"),
                                 plumbing_.port_environment());
    commit(std::move(next));
    json bindings = json::array();
    for (const auto& b : added)
      bindings.push_back(core::binding_json(state_, *core::binding_owner(state_, b), b));
    return json{{"container", container}, {"bindings", bindings}};
  }
  if (op == "port.ls") return core::ports_json(state_, opt_string(args, "container"));
  if (op == "port.rm") {
    std::string container = arg_string(args, "container");
    core::State next = state_;
    auto removed = core::remove_ports(next, container, arg_string(args, "spec"));
    json out = json::array();
    for (const auto& b : removed)
      out.push_back(core::binding_json(state_, *core::binding_owner(state_, b), b));
    commit(std::move(next));
    return json{{"container", container}, {"removed", out}};
  }
  if (op == "service.create") {
    core::ServiceCreate req = core::service_create_from_json(args, "request", "");
    core::State next = state_;
    std::string id = core::create_service(next, req, ids_, plumbing_.port_environment()).id;
    commit(std::move(next));
    return core::service_inspect(state_, state_.get_service(id), backend_runtime());
  }
  if (op == "service.add-backend" || op == "service.rm-backend" || op == "service.drain") {
    std::string name = arg_string(args, "name");
    std::string container = arg_string(args, "container");
    core::State next = state_;
    if (op == "service.add-backend") {
      int64_t weight = 1;
      if (args.contains("weight")) {
        if (!args["weight"].is_number_integer())
          throw core::UserError("request: argument \"weight\" must be an integer");
        weight = args["weight"].get<int64_t>();
      }
      core::add_backend(next, name, container, weight);
    } else if (op == "service.rm-backend") {
      core::remove_backend(next, name, container);
    } else {
      core::drain_backend(next, name, container);
    }
    std::string id = next.get_service(name).id;
    commit(std::move(next));
    return core::service_inspect(state_, state_.get_service(id), backend_runtime());
  }
  if (op == "service.ls") return core::services_json(state_, backend_runtime());
  if (op == "service.inspect")
    return core::service_inspect(state_, state_.get_service(arg_string(args, "name")),
                                 backend_runtime());
  if (op == "service.rm") {
    core::State next = state_;
    core::Service removed = core::remove_service(next, arg_string(args, "name"));
    commit(std::move(next));
    return json{{"id", removed.id}};
  }
  if (op == "stats") return stats();
  throw core::UserError(fmt::format("unknown request \"{}\"", op));
}

json Controller::stats() {
  struct Counters {
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0;
  };
  std::map<uint32_t, Counters> by_if;
  std::map<uint8_t, std::pair<uint64_t, uint64_t>> drops;
  for (const auto& row : datapath_->read_metrics()) {
    Counters& c = by_if[row.ifindex];
    if (row.reason != BPFNET_OK) {
      c.drops += row.packets;
      drops[row.reason].first += row.packets;
      drops[row.reason].second += row.bytes;
    } else if (row.dir == BPFNET_DIR_TO_CONTAINER) {
      c.rx_packets += row.packets;
      c.rx_bytes += row.bytes;
    } else {
      c.tx_packets += row.packets;
      c.tx_bytes += row.bytes;
    }
  }
  json endpoints = json::array();
  for (const auto& ep : state_.endpoints) {
    const core::Network* net = state_.network_by_id(ep.network_id);
    auto link = links_.find(ep.id);
    Counters c;
    if (link != links_.end()) c = by_if[link->second.ifindex];
    endpoints.push_back(json{{"container", ep.container},
                             {"network", net ? net->name : ep.network_id},
                             {"ifname", ep.ifname},
                             {"host_ifname", ep.host_ifname},
                             {"ip", ep.ip.to_string()},
                             {"rx_packets", c.rx_packets},
                             {"rx_bytes", c.rx_bytes},
                             {"tx_packets", c.tx_packets},
                             {"tx_bytes", c.tx_bytes},
                             {"drops", c.drops}});
  }
  json drop_rows = json::array();
  for (const auto& [reason, pb] : drops)
    drop_rows.push_back(json{{"reason", std::string(core::drop_reason_name(reason))},
                             {"code", reason},
                             {"packets", pb.first},
                             {"bytes", pb.second}});
  size_t ct_entries = datapath_->read_conntrack().size();
  uint32_t ct_capacity = datapath_->conntrack_capacity();
  json conntrack{{"entries", ct_entries},
                 {"capacity", ct_capacity},
                 {"pressure", ct_capacity ? double(ct_entries) / ct_capacity : 0.0}};
  return json{{"endpoints", endpoints}, {"drops", drop_rows}, {"conntrack", conntrack}};
}

size_t Controller::gc_conntrack(uint64_t now_ns) {
  auto entries = datapath_->read_conntrack();
  std::map<std::array<uint8_t, 16>, uint64_t> expiry;
  for (const auto& e : entries) expiry[e.key] = e.expires_ns;
  std::vector<std::array<uint8_t, 16>> doomed;
  for (const auto& e : entries) {
    if (e.expires_ns > now_ns) continue;
    auto peer = expiry.find(e.peer);
    // A flow lives while either direction does: one-way UDP streams keep
    // their reply entry even when nothing comes back for a while.
    if (peer == expiry.end() || peer->second <= now_ns) doomed.push_back(e.key);
  }
  datapath_->delete_conntrack(doomed);
  return doomed.size();
}

void Controller::tick(uint64_t now_ns) {
  if (checker_)
    for (const auto& r : checker_->take_results()) record_health(r);
  if (last_gc_ns_ != 0 && now_ns - last_gc_ns_ < gc_interval_ns) return;
  last_gc_ns_ = now_ns;
  gc_conntrack(now_ns);
  // Host addresses come and go (DHCP, an uplink readdressed or recreated): keep up.
  HostFacts facts = host_facts(state_, /*strict=*/false);
  if (facts == host_) return;
  bool uplinks_changed = facts.uplinks != host_.uplinks;
  host_ = std::move(facts);
  if (uplinks_changed) attach_uplinks();
  write_maps(state_);
}

}  // namespace bpfnet::daemon
