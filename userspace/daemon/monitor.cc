#include "daemon/monitor.h"

#include <fmt/format.h>
#include <net/if.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/drop_reasons.h"
#include "core/packet_summary.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ULL + uint64_t(ts.tv_nsec);
}

std::string ip_port(uint32_t ip, uint16_t port) {
  return fmt::format("{}.{}.{}.{}:{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff,
                     port);
}

std::string proto_name(uint8_t proto) {
  switch (proto) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
  }
  return std::to_string(proto);
}

// A flow event's "flow" object (userspace/README.md, "Monitor stream").
json flow_json(const datapath::FlowRecord& f, uint64_t time_ns) {
  json j{{"phase", datapath::flow_phase_name(f.phase)},
         {"proto", proto_name(f.orig.proto)},
         {"src", ip_port(f.orig.saddr, f.orig.sport)},
         {"dst", ip_port(f.orig.daddr, f.orig.dport)},
         {"xlat_src", ip_port(f.xlat.saddr, f.xlat.sport)},
         {"xlat_dst", ip_port(f.xlat.daddr, f.xlat.dport)},
         {"packets_orig", f.packets_orig},
         {"bytes_orig", f.bytes_orig},
         {"packets_reply", f.packets_reply},
         {"bytes_reply", f.bytes_reply},
         {"age_ns", time_ns > f.created_ns ? time_ns - f.created_ns : 0}};
  json nat = json::array();
  if (f.xlat.daddr != f.orig.daddr || f.xlat.dport != f.orig.dport) nat.push_back("dnat");
  if (f.xlat.saddr != f.orig.saddr || f.xlat.sport != f.orig.sport) nat.push_back("snat");
  j["nat"] = nat;
  if (f.phase != datapath::FlowPhase::kStart) j["end"] = datapath::flow_end_cause(f.phase);
  return j;
}

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) s += fmt::format("{:02x}", b);
  return s;
}

}  // namespace

// Names of what the daemon knows by ifindex and address, for one batch of
// events (the state does not change while a batch is read).
class EventNames {
 public:
  explicit EventNames(Controller& controller) : state_(controller.state()) {
    for (const auto& ep : state_.endpoints) {
      auto link = controller.links().find(ep.id);
      if (link != controller.links().end()) by_ifindex_[link->second.ifindex] = &ep;
      by_ip_[ep.ip.value] = &ep;
    }
    for (const auto& u : controller.uplinks())
      if (u.link) uplinks_[u.link->ifindex] = u.spec.name;
  }

  // {"ifindex", "interface", "container"?, "network"?}; null for ifindex 0.
  json of_ifindex(uint32_t ifindex) const {
    if (ifindex == 0) return nullptr;
    json j{{"ifindex", ifindex}};
    if (auto it = by_ifindex_.find(ifindex); it != by_ifindex_.end()) {
      j["interface"] = it->second->host_ifname;
      j["container"] = it->second->container;
      j["network"] = network_name(*it->second);
    } else if (auto up = uplinks_.find(ifindex); up != uplinks_.end()) {
      j["interface"] = up->second;
    } else {
      char name[IF_NAMESIZE] = {};
      j["interface"] =
          if_indextoname(ifindex, name) ? std::string(name) : fmt::format("if{}", ifindex);
    }
    return j;
  }

  // {"container", "network"} of the endpoint with address `ip` (host
  // order), or null.
  json owner_of(uint32_t ip) const {
    auto it = by_ip_.find(ip);
    if (it == by_ip_.end()) return nullptr;
    return json{{"container", it->second->container}, {"network", network_name(*it->second)}};
  }

  void add_subjects(std::optional<core::Ipv4> ip, core::EventSubjects& s) const {
    if (!ip) return;
    if (auto it = by_ip_.find(ip->value); it != by_ip_.end()) {
      s.containers.insert(it->second->container);
      s.networks.insert(network_name(*it->second));
    }
  }

 private:
  std::string network_name(const core::Endpoint& ep) const {
    const core::Network* net = state_.network_by_id(ep.network_id);
    return net ? net->name : ep.network_id;
  }

  const core::State& state_;
  std::map<uint32_t, const core::Endpoint*> by_ifindex_;
  std::map<uint32_t, const core::Endpoint*> by_ip_;
  std::map<uint32_t, std::string> uplinks_;
};

namespace {

void add_where(const json& where, core::EventSubjects& s) {
  if (!where.is_object()) return;
  if (where.contains("container")) s.containers.insert(where["container"].get<std::string>());
  if (where.contains("network")) s.networks.insert(where["network"].get<std::string>());
}

}  // namespace

MonitorHub::MonitorHub(Controller& controller, datapath::MonitorPort& port, MonitorOptions options,
                       Send send)
    : controller_(controller), port_(port), options_(options), send_(std::move(send)) {}

void MonitorHub::reset() { port_.configure(datapath::MonitorSettings{}); }

std::optional<json> MonitorHub::open(uint64_t id, const std::string& op, const json& args) {
  if (op != "monitor") return std::nullopt;
  Monitor m{core::parse_monitor_filter(args, controller_.state())};
  m.lost_base = port_.lost_events();
  m.ends_lost_base = flow_ends_lost_;
  monitors_[id] = m;
  try {
    apply_settings();
  } catch (...) {
    monitors_.erase(id);
    apply_settings();
    throw;
  }
  json types = json::array();
  for (const auto& t : m.filter.types) types.push_back(t);
  return json{{"types", types}, {"trace_every", options_.trace_every}};
}

void MonitorHub::close(uint64_t id) {
  if (monitors_.erase(id) == 0) return;
  try {
    apply_settings();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bpfnetd: warning: monitor: %s\n", e.what());
  }
}

void MonitorHub::apply_settings() {
  datapath::MonitorSettings settings;
  for (const auto& [id, m] : monitors_)
    for (const std::string& t : m.filter.types)
      if (auto type = datapath::event_type_from_name(t)) settings.types.insert(*type);
  if (settings.types.contains(datapath::EventType::kTrace))
    settings.trace_every = options_.trace_every;
  settings.rate = options_.rate;
  if (settings.types.empty()) {
    port_.configure(settings);  // first: nothing more is written
    port_.stop_reading();
    return;
  }
  if (port_.fd() < 0) port_.start_reading([this](const auto& e) { deliver(e); });
  port_.configure(settings);
}

void MonitorHub::on_readable() {
  const EventNames names(controller_);
  names_ = &names;
  try {
    port_.drain();
  } catch (...) {
    names_ = nullptr;
    throw;
  }
  names_ = nullptr;
  report_lost();
}

json MonitorHub::event_json(const datapath::MonitorEvent& event, const json& where,
                            const json& peer, uint64_t unix_ns, const json& owner) {
  if (event.flow) {
    json e{{"type", "flow"},
           {"time_unix_ns", unix_ns},
           {"orig_len", 0},
           {"packet", ""},
           {"flow", flow_json(*event.flow, event.time_ns)}};
    if (owner.is_object()) {
      e["container"] = owner["container"];
      e["network"] = owner["network"];
    }
    return json{{"event", e}};
  }
  json e{{"type", datapath::event_type_name(event.type)},
         {"time_unix_ns", unix_ns},
         {"hook", event.xdp ? "xdp" : "tc"},
         {"orig_len", event.orig_len},
         {"packet", hex(event.packet)}};
  if (event.type == datapath::EventType::kDrop) e["reason"] = core::drop_reason_name(event.reason);
  const bool endpoint = where.is_object() && where.contains("container");
  e["dir"] = !endpoint ? "from-outside" : event.dir ? "to-container" : "from-container";
  if (!where.is_null()) e["at"] = where;
  if (!peer.is_null()) e["to"] = peer;
  return json{{"event", e}};
}

void MonitorHub::deliver(const datapath::MonitorEvent& event) {
  std::optional<EventNames> own;
  const EventNames& names = names_ ? *names_ : own.emplace(controller_);
  const json where = names.of_ifindex(event.ifindex);
  const json peer = names.of_ifindex(event.peer_ifindex);
  core::EventSubjects subjects;
  subjects.type = datapath::event_type_name(event.type);
  subjects.reason = event.reason;
  add_where(where, subjects);
  add_where(peer, subjects);
  json owner = nullptr;
  if (event.flow) {
    // A flow is its addresses' (before and after translation); its
    // container is the first of them that is one's.
    const datapath::FlowRecord& f = *event.flow;
    for (uint32_t ip : {f.orig.saddr, f.xlat.daddr, f.orig.daddr, f.xlat.saddr}) {
      names.add_subjects(core::Ipv4{ip}, subjects);
      if (owner.is_null()) owner = names.owner_of(ip);
    }
  } else {
    const core::PacketSummary packet = core::summarize_packet(event.packet);
    names.add_subjects(packet.src, subjects);
    names.add_subjects(packet.dst, subjects);
  }
  const uint64_t unix_ns = event.time_ns + (clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
  std::string line;
  for (auto& [id, m] : monitors_) {
    if (!core::monitor_matches(m.filter, subjects)) continue;
    if (line.empty()) line = event_json(event, where, peer, unix_ns, owner).dump();
    if (!send_(id, line)) ++m.too_slow;
  }
}

bool MonitorHub::wants_flows() const {
  for (const auto& [id, m] : monitors_)
    if (m.filter.types.contains("flow")) return true;
  return false;
}

void MonitorHub::flows_ended(const std::vector<datapath::FlowRecord>& flows, uint64_t now_ns) {
  const double rate = options_.rate ? options_.rate : datapath::kDefaultEventRate;
  if (end_tokens_ < 0 || now_ns < end_tokens_at_ns_)
    end_tokens_ = rate;
  else
    end_tokens_ = std::min(rate, end_tokens_ + double(now_ns - end_tokens_at_ns_) * rate / 1e9);
  end_tokens_at_ns_ = now_ns;
  for (const datapath::FlowRecord& f : flows) {
    if (end_tokens_ < 1) {
      ++flow_ends_lost_;
      continue;
    }
    end_tokens_ -= 1;
    datapath::MonitorEvent e;
    e.type = datapath::EventType::kFlow;
    e.time_ns = now_ns;
    e.flow = f;
    deliver(e);
  }
}

void MonitorHub::report_lost() {
  if (monitors_.empty()) return;
  const uint64_t datapath_lost = port_.lost_events();
  for (auto& [id, m] : monitors_) {
    const uint64_t lost =
        datapath_lost - m.lost_base + m.too_slow + (flow_ends_lost_ - m.ends_lost_base);
    if (lost == m.lost_reported) continue;
    if (send_(id, json{{"lost", lost}}.dump())) m.lost_reported = lost;
  }
}

}  // namespace bpfnet::daemon
