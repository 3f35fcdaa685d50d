#include "daemon/metrics.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/drop_reasons.h"
#include "core/nat_ports.h"
#include "core/service.h"
#include "daemon/controller.h"
#include "daemon/requests.h"
#include "datapath/conntrack.h"

namespace bpfnet::daemon {
namespace {

using core::MetricFamily;
using core::MetricType;
using nlohmann::json;

MetricFamily counter(std::string name, std::string help) {
  return MetricFamily{std::move(name), std::move(help), MetricType::kCounter, {}};
}
MetricFamily gauge(std::string name, std::string help) {
  return MetricFamily{std::move(name), std::move(help), MetricType::kGauge, {}};
}

double number(const json& value) { return value.is_number() ? value.get<double>() : 0.0; }

void add_endpoints(std::vector<MetricFamily>& out, const json& endpoints) {
  auto packets = counter("bpfnet_endpoint_packets_total",
                         "Packets forwarded to (rx) and from (tx) each container endpoint.");
  auto bytes = counter("bpfnet_endpoint_bytes_total",
                       "Bytes forwarded to (rx) and from (tx) each container endpoint.");
  auto drops =
      counter("bpfnet_endpoint_dropped_packets_total", "Packets dropped at each endpoint.");
  for (const json& ep : endpoints) {
    std::vector<std::pair<std::string, std::string>> id = {{"container", ep.value("container", "")},
                                                           {"network", ep.value("network", "")}};
    for (const char* dir : {"rx", "tx"}) {
      auto labels = id;
      labels.emplace_back("direction", dir);
      packets.add(number(ep[fmt::format("{}_packets", dir)]), labels);
      bytes.add(number(ep[fmt::format("{}_bytes", dir)]), labels);
    }
    drops.add(number(ep["drops"]), id);
  }
  out.push_back(std::move(packets));
  out.push_back(std::move(bytes));
  out.push_back(std::move(drops));
}

// Every reason this build knows, counted or not, so that rate() and alerts
// see a series from the start.
void add_drops(std::vector<MetricFamily>& out, const json& drops) {
  auto packets = counter("bpfnet_drops_total", "Packets dropped by the datapath, by reason.");
  auto bytes = counter("bpfnet_dropped_bytes_total", "Bytes dropped by the datapath, by reason.");
  for (unsigned code = 1; code < 256; ++code) {
    std::string reason(core::drop_reason_name(code));
    if (reason.starts_with("reason-")) continue;  // codes are not contiguous
    double p = 0, b = 0;
    for (const json& d : drops)
      if (d.value("code", 0u) == code) {
        p = number(d["packets"]);
        b = number(d["bytes"]);
      }
    packets.add(p, {{"reason", reason}});
    bytes.add(b, {{"reason", reason}});
  }
  out.push_back(std::move(packets));
  out.push_back(std::move(bytes));
}

void add_services(std::vector<MetricFamily>& out, const json& services) {
  auto count = gauge("bpfnet_services", "Load-balanced services.");
  auto backends = gauge("bpfnet_service_backends", "Backends of each service, by state.");
  auto up = gauge("bpfnet_service_backend_up",
                  "1 while a backend takes new flows (healthy, not draining), else 0.");
  auto flows = gauge("bpfnet_service_backend_flows", "Flows the datapath holds to each backend.");
  count.add(static_cast<double>(services.size()));
  for (const json& svc : services) {
    std::string name = svc.value("Name", "");
    std::map<std::string, double> by_state = {{"healthy", 0}, {"unhealthy", 0}, {"draining", 0}};
    for (const json& be : svc.value("Backends", json::array())) {
      std::string state = be.value("State", "");
      by_state[state] += 1;
      std::vector<std::pair<std::string, std::string>> labels = {
          {"service", name}, {"backend", be.value("Container", "")}};
      up.add(state == "healthy" ? 1 : 0, labels);
      flows.add(number(be["Flows"]), labels);
    }
    for (const auto& [state, n] : by_state) backends.add(n, {{"service", name}, {"state", state}});
  }
  for (auto* family : {&count, &backends, &up, &flows}) out.push_back(std::move(*family));
}

// Ports in use per address masquerade takes them on: every uplink's address
// (0 while none is taken, so that the series exists from the start) and any
// other address SNAT flows hold ports on.
void add_masquerade_ports(std::vector<MetricFamily>& out, Controller& ctl) {
  auto in_use = gauge("bpfnet_masquerade_ports_in_use",
                      "Source ports masqueraded flows hold, per address they took them on "
                      "(of bpfnet_masquerade_ports per address).");
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the datapath's clock (bpf_ktime_get_ns)
  const uint64_t now_ns = uint64_t(ts.tv_sec) * 1'000'000'000ULL + uint64_t(ts.tv_nsec);
  std::map<uint32_t, uint32_t> by_address =
      core::masquerade_ports_in_use(datapath::read_flow_halves(ctl.datapath()), now_ns);
  for (const UplinkStatus& up : ctl.uplinks())
    if (up.link && up.link->ip.value != 0) by_address.try_emplace(up.link->ip.value, 0);
  for (const auto& [address, ports] : by_address)
    in_use.add(ports, {{"address", core::Ipv4{address}.to_string()}});
  out.push_back(std::move(in_use));
}

}  // namespace

void RequestCounters::count(std::string_view verb, bool ok) {
  const auto table = requests();
  bool known = std::any_of(table.begin(), table.end(),
                           [&](const RequestRow& row) { return row.op == verb; });
  ++counts_[{known ? std::string(verb) : "unknown", ok}];
}

void RequestCounters::count_docker(std::string_view target, unsigned status) {
  std::string_view method = target.substr(target.starts_with('/') ? 1 : 0);
  ++counts_[{status == 404 ? "docker:unknown" : fmt::format("docker:{}", method), status == 200}];
}

std::vector<MetricFamily> collect_metrics(Controller& ctl, const RequestCounters& requests) {
  std::vector<MetricFamily> out;
  out.push_back(gauge("bpfnet_build_info", "bpfnetd's version; always 1.")
                    .add(1, {{"version", BPFNET_VERSION}}));
  const core::State& state = ctl.state();
  size_t networks = 0, published = 0;
  for (const auto& net : state.networks) networks += net.builtin ? 0 : 1;
  for (const auto& ep : state.endpoints) published += ep.ports.size();
  for (const auto& svc : state.services) published += svc.published.size();
  out.push_back(gauge("bpfnet_networks", "Networks (builtin host and none not counted).")
                    .add(static_cast<double>(networks)));
  out.push_back(gauge("bpfnet_endpoints", "Container endpoints on this host.")
                    .add(static_cast<double>(state.endpoints.size())));
  out.push_back(gauge("bpfnet_published_ports", "Published ports (containers' and services').")
                    .add(static_cast<double>(published)));

  const json stats = ctl.handle("stats", json::object());
  add_endpoints(out, stats["endpoints"]);
  add_drops(out, stats["drops"]);
  const json& ct = stats["conntrack"];
  out.push_back(gauge("bpfnet_conntrack_entries", "Conntrack entries (two per flow).")
                    .add(number(ct["entries"])));
  out.push_back(gauge("bpfnet_conntrack_capacity", "Conntrack entries the map holds at most.")
                    .add(number(ct["capacity"])));
  out.push_back(gauge("bpfnet_conntrack_pressure_ratio", "Conntrack entries / capacity.")
                    .add(number(ct["pressure"])));
  const json& nat = stats["masquerade"];
  out.push_back(
      gauge("bpfnet_masquerade_ports", "Source ports masquerade allocates from, on each address.")
          .add(number(nat["ports"])));
  add_masquerade_ports(out, ctl);

  add_services(out, core::services_json(state, ctl.backend_runtime()));

  const auto& timing = ctl.reconcile_timing();
  out.push_back(counter("bpfnet_reconciles_total",
                        "Times interfaces and maps were brought to the state (start, changes).")
                    .add(static_cast<double>(timing.count)));
  out.push_back(counter("bpfnet_reconcile_seconds_total", "Time spent reconciling.")
                    .add(timing.total_seconds));
  out.push_back(gauge("bpfnet_reconcile_last_duration_seconds", "The last reconcile's duration.")
                    .add(timing.last_seconds));

  auto verbs =
      counter("bpfnet_requests_total",
              "Requests answered, by verb (docker:Method for the Docker plugin) and result.");
  for (const auto& [key, n] : requests.counts())
    verbs.add(static_cast<double>(n),
              {{"verb", key.first}, {"result", key.second ? "ok" : "error"}});
  out.push_back(std::move(verbs));

  if (auto healthy = ctl.store_healthy())
    out.push_back(gauge("bpfnet_store_up", "1 while the cluster store (etcd) answers, else 0.")
                      .add(*healthy ? 1 : 0));
  return out;
}

HttpReply metrics_http(const HttpRequest& request, const std::function<std::string()>& render) {
  if (request.target != "/metrics" && request.target != "/")
    return HttpReply{404, "text/plain; charset=utf-8", "bpfnetd serves /metrics\n"};
  if (request.method != "GET" && request.method != "HEAD")
    return HttpReply{405, "text/plain; charset=utf-8", "use GET\n"};
  return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", render()};
}

}  // namespace bpfnet::daemon
