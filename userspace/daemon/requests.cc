// The control socket's requests: one row per op in kRequests, each with its
// handler above it, grouped by concern (daemon, networks, published ports,
// services).
#include "daemon/requests.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>

#include "core/engine.h"
#include "core/error.h"
#include "core/flows.h"
#include "core/flows_wire.h"
#include "core/inspect.h"
#include "core/json_fields.h"
#include "core/names.h"
#include "core/service.h"
#include "daemon/json_text.h"
#include "datapath/conntrack.h"
#include "datapath/counters.h"

namespace bpfnet::daemon {

namespace {

using nlohmann::json;

// --- daemon ---------------------------------------------------------------

json ping(Controller&, core::JsonFields&) { return json{{"version", BPFNET_VERSION}}; }

json endpoint_stats(Controller& ctl, const datapath::CounterSummary& counters) {
  json endpoints = json::array();
  for (const auto& ep : ctl.state().endpoints) {
    const core::Network* net = ctl.state().network_by_id(ep.network_id);
    datapath::InterfaceCounters c;
    auto link = ctl.links().find(ep.id);
    if (link != ctl.links().end()) {
      auto it = counters.by_ifindex.find(link->second.ifindex);
      if (it != counters.by_ifindex.end()) c = it->second;
    }
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
  return endpoints;
}

json stats(Controller& ctl, core::JsonFields&) {
  const datapath::CounterSummary counters = datapath::summarize(ctl.datapath().read_metrics());
  json drops = json::array();
  for (const auto& d : counters.drops)
    drops.push_back(
        json{{"reason", d.reason}, {"code", d.code}, {"packets", d.packets}, {"bytes", d.bytes}});
  // Masquerade's port span and how many new flows found no free port in it;
  // the conntrack's fill and how many new flows it refused, full.
  uint64_t exhausted = 0, ct_full = 0;
  for (const auto& d : counters.drops) {  // names are stable (bpfnet_abi.h)
    if (d.reason == "nat-no-port") exhausted = d.packets;
    if (d.reason == "ct-full") ct_full = d.packets;
  }
  const datapath::ConntrackUsage ct = datapath::conntrack_usage(ctl.datapath());
  json conntrack{{"entries", ct.entries},
                 {"capacity", ct.capacity},
                 {"pressure", ct.pressure()},
                 {"full_drops", ct_full}};
  const core::NatPortSpan nat = ctl.nat_ports();
  json masquerade{{"port_min", nat.min},
                  {"port_max", nat.max},
                  {"ports", nat.size()},
                  {"no_port_drops", exhausted}};
  return json{{"endpoints", endpoint_stats(ctl, counters)},
              {"drops", drops},
              {"conntrack", conntrack},
              {"masquerade", masquerade}};
}

// bpfnetctl flows: the conntrack joined with the state (core/flows.h).
json flows(Controller& ctl, core::JsonFields& args) {
  core::FlowQuery query;
  query.container = args.optional_string("container").value_or("");
  query.network = args.optional_string("network").value_or("");
  query.service = args.optional_string("service").value_or("");
  query.proto = args.optional_string("proto").value_or("");
  const std::string format = args.optional_string("format").value_or("objects");
  if (format != "objects" && format != "rows")
    throw core::UserError(fmt::format("flows: invalid format \"{}\" (objects or rows)", format));
  const core::FlowFilter filter = core::flow_filter(ctl.state(), query);
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the datapath's clock (bpf_ktime_get_ns)
  const uint64_t now_ns = uint64_t(ts.tv_sec) * 1'000'000'000ULL + uint64_t(ts.tv_nsec);
  const std::vector<core::FlowRow> rows =
      core::join_flows(datapath::read_flow_halves(ctl.datapath()), ctl.state(), filter, now_ns);
  return json_text_result(format == "rows" ? core::flows_rows_text(rows)
                                           : core::flows_json_text(rows));
}

json doctor(Controller& ctl, core::JsonFields&) {
  const std::vector<std::string> problems = ctl.doctor();
  return json{{"ok", problems.empty()}, {"problems", problems}};
}

json uplink_ls(Controller& ctl, core::JsonFields&) {
  json out = json::array();
  for (const UplinkStatus& u : ctl.uplinks()) {
    json row{{"name", u.spec.name},
             {"requested", core::uplink_mode_name(u.spec.mode)},
             {"mode", u.link ? (u.xdp ? "xdp" : "tc") : "none"},
             {"reason", u.reason}};
    if (u.link) {
      row["ifindex"] = u.link->ifindex;
      row["driver"] = u.link->driver;
      row["address"] = u.link->ip.to_string();
    }
    out.push_back(std::move(row));
  }
  return out;
}

// --- networks and published ports ----------------------------------------

json network_create(Controller& ctl, core::JsonFields& args) {
  const core::NetworkCreate req = core::read_network_create(args);
  std::string id;
  if (req.driver == core::kDriverOverlay)
    id = ctl.create_overlay_network(req);
  else
    ctl.update([&](core::State& next) {
      id = core::create_network(next, req, ctl.host_routes(), ctl.ids(), ctl.now()).id;
    });
  return core::network_inspect(ctl.state(), *ctl.state().network_by_id(id));
}

json network_ls(Controller& ctl, core::JsonFields&) {
  std::vector<const core::Network*> nets;
  for (const auto& n : ctl.state().networks) nets.push_back(&n);
  std::sort(nets.begin(), nets.end(), [](auto* a, auto* b) { return a->name < b->name; });
  json out = json::array();
  for (const auto* n : nets) out.push_back(core::network_inspect(ctl.state(), *n));
  return out;
}

json network_inspect(Controller& ctl, core::JsonFields& args) {
  const core::Network& net = ctl.state().get_network(args.required_string("name"));
  json out = core::network_inspect(ctl.state(), net);
  if (net.overlay()) ctl.describe_overlay(net, out);
  return out;
}

json network_rm(Controller& ctl, core::JsonFields& args) {
  const core::Network& net = ctl.state().get_network(args.required_string("name"));
  if (net.overlay()) {
    std::string overlay_id = net.id;
    ctl.remove_overlay_network(net);
    return json{{"id", overlay_id}};
  }
  std::string id;
  ctl.update(
      [&](core::State& next) { id = core::remove_network(next, args.required_string("name")).id; });
  return json{{"id", id}};
}

// Docker's builtin networks take no endpoint: "none" is a namespace with
// loopback only (bpfnet brings it up and records nothing: there is nothing
// of bpfnet's in it), "host" is the host's own namespace.
json connect_builtin(Controller& ctl, const core::Network& net, const core::ConnectRequest& req) {
  if (net.name == core::kHostNetworkName)
    throw core::UserError(
        "a container on the host network shares the host's network namespace: there is nothing "
        "to connect (run it in the host's namespace instead)");
  core::validate_container_name(req.container);
  if (auto eps = ctl.state().endpoints_of_container(req.container); !eps.empty())
    throw core::UserError(fmt::format(
        "container {} is connected to network {}: a container on none has loopback only "
        "(disconnect it first)",
        req.container, ctl.state().network_by_id(eps.front()->network_id)->name));
  ctl.plumbing().loopback_only(req.netns);
  return json{{"container", req.container}, {"network", net.name}, {"netns", req.netns}};
}

json network_connect(Controller& ctl, core::JsonFields& args) {
  core::ConnectRequest req;
  req.network = args.required_string("network");
  req.container = args.required_string("container");
  req.netns = args.required_string("netns");
  req.ip = args.optional_string("ip");
  req.mac = args.optional_string("mac");
  req.ifname = args.optional_string("ifname");
  if (const core::Network& net = ctl.state().get_network(req.network); net.builtin)
    return connect_builtin(ctl, net, req);
  std::string id;
  if (const core::Network& net = ctl.state().get_network(req.network); net.overlay())
    id = ctl.connect_overlay(req, net);
  else
    ctl.update([&](core::State& next) {
      id = core::connect(next, req, ctl.ids()).id;
      ctl.check_netns(req.netns);
    });
  for (const auto& ep : ctl.state().endpoints)
    if (ep.id == id) return core::endpoint_json(ctl.state(), ep);
  return json::object();
}

json network_disconnect(Controller& ctl, core::JsonFields& args) {
  const std::string network = args.required_string("network");
  const std::string container = args.required_string("container");
  const core::Network& net = ctl.state().get_network(network);
  if (const core::Endpoint* ep = ctl.state().endpoint(net.id, container); ep && net.overlay()) {
    ctl.disconnect_overlay(*ep);
    return json::object();
  }
  ctl.update([&](core::State& next) { core::remove_endpoint(next, network, container); });
  return json::object();
}

json bindings_json(const core::State& state, const std::vector<core::PortBinding>& bindings) {
  json out = json::array();
  for (const auto& b : bindings)
    out.push_back(core::binding_json(state, *core::binding_owner(state, b), b));
  return out;
}

json port_add(Controller& ctl, core::JsonFields& args) {
  std::string container = args.required_string("container");
  std::vector<std::string> specs =
      args.optional_string_array("specs").value_or(std::vector<std::string>{});
  if (specs.empty()) args.fail("specs", "expected a non-empty array of strings");
  std::vector<core::PortBinding> added;
  ctl.update([&](core::State& next) {
    added = core::add_ports(next, container, specs, args.optional_string("network"),
                            ctl.port_environment());
  });
  return json{{"container", container}, {"bindings", bindings_json(ctl.state(), added)}};
}

json port_ls(Controller& ctl, core::JsonFields& args) {
  return core::ports_json(ctl.state(), args.optional_string("container"));
}

json port_rm(Controller& ctl, core::JsonFields& args) {
  std::string container = args.required_string("container");
  json removed;
  ctl.update([&](core::State& next) {
    // Described while their owner still exists.
    removed = bindings_json(ctl.state(),
                            core::remove_ports(next, container, args.required_string("spec")));
  });
  return json{{"container", container}, {"removed", removed}};
}

// --- services ---------------------------------------------------------------

json inspect(Controller& ctl, const std::string& id) {
  const core::Service& service = ctl.state().get_service(id);
  json out = core::service_inspect(ctl.state(), service, ctl.backend_runtime());
  if (service.global) out["Problems"] = ctl.mesh_problems(service.name);
  return out;
}

json service_create(Controller& ctl, core::JsonFields& args) {
  core::ServiceCreate req = core::read_service_create(args);
  args.reject_unknown_keys();
  return inspect(ctl, ctl.create_service(std::move(req)));
}

// A change to one backend of a service; answers the service as it is after.
template <typename Change>
json change_backend(Controller& ctl, core::JsonFields& args, Change change) {
  std::string name = args.required_string("name");
  std::string container = args.required_string("container");
  ctl.change_service(name, [&](core::State& next) { change(next, name, container); });
  return inspect(ctl, ctl.state().get_service(name).id);
}

json service_add_backend(Controller& ctl, core::JsonFields& args) {
  return change_backend(ctl, args, [&](core::State& next, const auto& name, const auto& container) {
    // Beyond int64: the largest, which add_backend refuses naming it.
    const uint64_t weight = args.optional_unsigned("weight").value_or(1);
    core::add_backend(next, name, container,
                      weight > uint64_t{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(weight),
                      ctl.cluster_host_name(), ctl.remote_containers());
  });
}

json service_rm_backend(Controller& ctl, core::JsonFields& args) {
  return change_backend(ctl, args, core::remove_backend);
}

json service_drain(Controller& ctl, core::JsonFields& args) {
  return change_backend(ctl, args, core::drain_backend);
}

json service_ls(Controller& ctl, core::JsonFields&) {
  return core::services_json(ctl.state(), ctl.backend_runtime());
}

json service_inspect(Controller& ctl, core::JsonFields& args) {
  return inspect(ctl, ctl.state().get_service(args.required_string("name")).id);
}

json service_rm(Controller& ctl, core::JsonFields& args) {
  return json{{"id", ctl.remove_service(args.required_string("name"))}};
}

constexpr RequestRow kRequests[] = {
    {"ping", ping},
    {"stats", stats},
    {"flows", flows},
    {"doctor", doctor},
    {"uplink.ls", uplink_ls},
    {"network.create", network_create},
    {"network.ls", network_ls},
    {"network.inspect", network_inspect},
    {"network.rm", network_rm},
    {"network.connect", network_connect},
    {"network.disconnect", network_disconnect},
    {"port.add", port_add},
    {"port.ls", port_ls},
    {"port.rm", port_rm},
    {"service.create", service_create},
    {"service.add-backend", service_add_backend},
    {"service.rm-backend", service_rm_backend},
    {"service.drain", service_drain},
    {"service.ls", service_ls},
    {"service.inspect", service_inspect},
    {"service.rm", service_rm},
};

}  // namespace

std::span<const RequestRow> requests() { return kRequests; }

json handle_request(Controller& controller, const std::string& op, const json& args) {
  for (const RequestRow& row : kRequests)
    if (row.op == op) {
      static const json kNoArgs = json::object();
      core::JsonFields fields(args.is_null() ? kNoArgs : args, "request", "");
      return row.handle(controller, fields);
    }
  throw core::UserError(fmt::format("unknown request \"{}\"", op));
}

}  // namespace bpfnet::daemon
