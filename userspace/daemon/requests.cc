// The control socket's requests: one row per op in kRequests, each with its
// handler above it, grouped by concern (daemon, networks, published ports,
// services).
#include "daemon/requests.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/engine.h"
#include "core/error.h"
#include "core/inspect.h"
#include "core/service.h"
#include "daemon/request_args.h"
#include "datapath/conntrack.h"
#include "datapath/counters.h"

namespace bpfnet::daemon {

namespace {

using nlohmann::json;

// --- daemon ---------------------------------------------------------------

json ping(Controller&, const RequestArgs&) { return json{{"version", BPFNET_VERSION}}; }

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

json stats(Controller& ctl, const RequestArgs&) {
  const datapath::CounterSummary counters = datapath::summarize(ctl.datapath().read_metrics());
  json drops = json::array();
  for (const auto& d : counters.drops)
    drops.push_back(
        json{{"reason", d.reason}, {"code", d.code}, {"packets", d.packets}, {"bytes", d.bytes}});
  const datapath::ConntrackUsage ct = datapath::conntrack_usage(ctl.datapath());
  json conntrack{{"entries", ct.entries}, {"capacity", ct.capacity}, {"pressure", ct.pressure()}};
  return json{
      {"endpoints", endpoint_stats(ctl, counters)}, {"drops", drops}, {"conntrack", conntrack}};
}

// --- networks and published ports ----------------------------------------

json network_create(Controller& ctl, const RequestArgs& args) {
  core::NetworkCreate req;
  req.name = args.string("name");
  if (auto d = args.opt_string("driver")) req.driver = *d;
  req.subnet = args.opt_string("subnet");
  req.gateway = args.opt_string("gateway");
  req.ip_range = args.opt_string("ip_range");
  req.internal = args.opt_bool("internal");
  req.options = args.opt_string_map("options");
  std::string id;
  ctl.update([&](core::State& next) {
    id = core::create_network(next, req, ctl.host_routes(), ctl.ids(), ctl.now()).id;
  });
  return core::network_inspect(ctl.state(), *ctl.state().network_by_id(id));
}

json network_ls(Controller& ctl, const RequestArgs&) {
  std::vector<const core::Network*> nets;
  for (const auto& n : ctl.state().networks) nets.push_back(&n);
  std::sort(nets.begin(), nets.end(), [](auto* a, auto* b) { return a->name < b->name; });
  json out = json::array();
  for (const auto* n : nets) out.push_back(core::network_inspect(ctl.state(), *n));
  return out;
}

json network_inspect(Controller& ctl, const RequestArgs& args) {
  return core::network_inspect(ctl.state(), ctl.state().get_network(args.string("name")));
}

json network_rm(Controller& ctl, const RequestArgs& args) {
  std::string id;
  ctl.update([&](core::State& next) { id = core::remove_network(next, args.string("name")).id; });
  return json{{"id", id}};
}

json network_connect(Controller& ctl, const RequestArgs& args) {
  core::ConnectRequest req;
  req.network = args.string("network");
  req.container = args.string("container");
  req.netns = args.string("netns");
  req.ip = args.opt_string("ip");
  req.mac = args.opt_string("mac");
  std::string id;
  ctl.update([&](core::State& next) {
    id = core::connect(next, req, ctl.ids()).id;
    ctl.check_netns(req.netns);
  });
  for (const auto& ep : ctl.state().endpoints)
    if (ep.id == id) return core::endpoint_json(ctl.state(), ep);
  return json::object();
}

json network_disconnect(Controller& ctl, const RequestArgs& args) {
  ctl.update([&](core::State& next) {
    core::remove_endpoint(next, args.string("network"), args.string("container"));
  });
  return json::object();
}

json bindings_json(const core::State& state, const std::vector<core::PortBinding>& bindings) {
  json out = json::array();
  for (const auto& b : bindings)
    out.push_back(core::binding_json(state, *core::binding_owner(state, b), b));
  return out;
}

json port_add(Controller& ctl, const RequestArgs& args) {
  std::string container = args.string("container");
  std::vector<std::string> specs = args.string_array("specs");
  std::vector<core::PortBinding> added;
  ctl.update([&](core::State& next) {
    added =
        core::add_ports(next, container, specs, args.opt_string("network"), ctl.port_environment());
  });
  return json{{"container", container}, {"bindings", bindings_json(ctl.state(), added)}};
}

json port_ls(Controller& ctl, const RequestArgs& args) {
  return core::ports_json(ctl.state(), args.opt_string("container"));
}

json port_rm(Controller& ctl, const RequestArgs& args) {
  std::string container = args.string("container");
  json removed;
  ctl.update([&](core::State& next) {
    // Described while their owner still exists.
    removed = bindings_json(ctl.state(), core::remove_ports(next, container, args.string("spec")));
  });
  return json{{"container", container}, {"removed", removed}};
}

// --- services ---------------------------------------------------------------

json inspect(Controller& ctl, const std::string& id) {
  return core::service_inspect(ctl.state(), ctl.state().get_service(id), ctl.backend_runtime());
}

json service_create(Controller& ctl, const RequestArgs& args) {
  core::ServiceCreate req = core::service_create_from_json(args.json(), "request", "");
  std::string id;
  ctl.update([&](core::State& next) {
    id = core::create_service(next, req, ctl.ids(), ctl.port_environment()).id;
  });
  return inspect(ctl, id);
}

// A change to one backend of a service; answers the service as it is after.
template <typename Change>
json change_backend(Controller& ctl, const RequestArgs& args, Change change) {
  std::string name = args.string("name");
  std::string container = args.string("container");
  std::string id;
  ctl.update([&](core::State& next) {
    change(next, name, container);
    id = next.get_service(name).id;
  });
  return inspect(ctl, id);
}

json service_add_backend(Controller& ctl, const RequestArgs& args) {
  return change_backend(ctl, args, [&](core::State& next, const auto& name, const auto& container) {
    core::add_backend(next, name, container, args.opt_integer("weight").value_or(1));
  });
}

json service_rm_backend(Controller& ctl, const RequestArgs& args) {
  return change_backend(ctl, args, core::remove_backend);
}

json service_drain(Controller& ctl, const RequestArgs& args) {
  return change_backend(ctl, args, core::drain_backend);
}

json service_ls(Controller& ctl, const RequestArgs&) {
  return core::services_json(ctl.state(), ctl.backend_runtime());
}

json service_inspect(Controller& ctl, const RequestArgs& args) {
  return inspect(ctl, ctl.state().get_service(args.string("name")).id);
}

json service_rm(Controller& ctl, const RequestArgs& args) {
  std::string id;
  ctl.update([&](core::State& next) { id = core::remove_service(next, args.string("name")).id; });
  return json{{"id", id}};
}

constexpr RequestRow kRequests[] = {
    {"ping", ping},
    {"stats", stats},
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
    if (row.op == op) return row.handle(controller, RequestArgs(args));
  throw core::UserError(fmt::format("unknown request \"{}\"", op));
}

}  // namespace bpfnet::daemon
