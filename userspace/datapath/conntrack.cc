#include "datapath/conntrack.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "bpfnet_abi.h"

namespace bpfnet::datapath {

namespace {

// The forward half of a flow a service balanced: its destination is the backend.
bool is_lb_forward(const CtEntry& e) {
  return !(e.flags & BPFNET_CT_F_REPLY) && (e.flags & BPFNET_CT_F_LB);
}

}  // namespace

size_t gc_conntrack(DatapathPort& port, uint64_t now_ns, std::vector<FlowRecord>* ended) {
  const std::vector<CtEntry> entries = port.read_conntrack();
  // A second past the deadline: the datapath, whose clock lags by up to a
  // tick, then treats the entry as gone too, so GC never deletes an entry
  // that the datapath has just found alive and refreshed.
  auto over = [&](const CtEntry& e) { return e.expires_ns + kGcGraceNs <= now_ns; };
  // Most passes find nothing expired: no index of a full table then (at
  // 524,288 entries building it took the daemon most of a second).
  if (std::none_of(entries.begin(), entries.end(), over)) return 0;
  std::map<CtKey, const CtEntry*> by_key;
  for (const auto& e : entries) by_key[e.key] = &e;
  std::set<CtKey> doomed;
  for (const auto& e : entries) {
    if (!over(e)) continue;
    auto peer = by_key.find(e.peer);
    // A half whose peer is gone, or now belongs to another flow, is an orphan.
    if (peer == by_key.end() || peer->second->peer != e.key) {
      doomed.insert(e.key);
      if (ended) ended->push_back(flow_record_of(e, nullptr, FlowPhase::kEndGc));
    } else if (over(*peer->second)) {
      // A flow lives while either direction does (a one-way UDP stream, a
      // half-closed TCP connection); it goes with both halves at once.
      // One event per flow: from its original direction's entry.
      if (ended && !(e.flags & BPFNET_CT_F_REPLY))
        ended->push_back(flow_record_of(e, peer->second, FlowPhase::kEndGc));
      doomed.insert(e.key);
      doomed.insert(e.peer);
    }
  }
  port.delete_conntrack({doomed.begin(), doomed.end()});
  return doomed.size();
}

namespace {

// Deletes both halves of every flow that `doomed_flow` picks (asked of
// either half), and with `ended` appends one purge record per flow.
void purge_flows(DatapathPort& port, const std::function<bool(const CtEntry&)>& doomed_flow,
                 std::vector<FlowRecord>* ended) {
  const std::vector<CtEntry> entries = port.read_conntrack();
  std::set<CtKey> doomed;  // both halves often match: each key once
  std::vector<const CtEntry*> doomed_entries;
  for (const auto& e : entries) {
    if (!doomed_flow(e)) continue;
    doomed.insert(e.key);
    doomed.insert(e.peer);
    doomed_entries.push_back(&e);
  }
  if (doomed.empty()) return;
  if (ended) {
    // One record per flow, from its original direction's entry when both
    // halves are here (the pairing GC uses).
    std::map<CtKey, const CtEntry*> by_key;
    for (const auto& e : entries)
      if (doomed.contains(e.key)) by_key[e.key] = &e;
    std::set<CtKey> told;
    for (const auto& [key, e] : by_key) {
      if (told.contains(key)) continue;
      auto peer = by_key.find(e->peer);
      const CtEntry* other =
          peer != by_key.end() && peer->second->peer == e->key ? peer->second : nullptr;
      told.insert(key);
      if (other) told.insert(other->key);
      ended->push_back(flow_record_of(*e, other, FlowPhase::kEndPurged));
    }
  }
  port.delete_conntrack({doomed.begin(), doomed.end()});
}

}  // namespace

void purge_lb_flows_to(DatapathPort& port, const std::set<uint32_t>& backend_ips,
                       std::vector<FlowRecord>* ended) {
  if (backend_ips.empty()) return;
  purge_flows(
      port,
      [&](const CtEntry& e) { return is_lb_forward(e) && backend_ips.contains(e.rewrite.daddr); },
      ended);
}

std::map<uint32_t, uint64_t> lb_flows_by_backend(DatapathPort& port) {
  std::map<uint32_t, uint64_t> flows;
  for (const auto& e : port.read_conntrack())
    if (is_lb_forward(e)) flows[e.rewrite.daddr]++;
  return flows;
}

void purge_flows_of(DatapathPort& port, const MapDelta& applied, std::vector<FlowRecord>* ended) {
  std::set<uint32_t> gone_ips;
  for (const auto& [ip, ep] : applied.endpoints_by_ip.deletes) gone_ips.insert(ip);
  // Still an endpoint (the same address on a recreated veth): its flows stay.
  for (const auto& [ip, ep] : applied.endpoints_by_ip.upserts) gone_ips.erase(ip);
  std::set<PortMapKey> gone_ports;
  for (const auto& [key, pm] : applied.portmaps.deletes) gone_ports.insert(key);
  for (const auto& [key, pm] : applied.portmaps.upserts) gone_ports.erase(key);
  if (gone_ips.empty() && gone_ports.empty()) return;

  // A published port's flows arrived on (host address or any, port, proto).
  auto via_gone_port = [&](const CtEntry& e) {
    if (!(e.flags & BPFNET_CT_F_DNAT) || (e.flags & BPFNET_CT_F_REPLY)) return false;
    const CtTuple& t = e.tuple;
    return gone_ports.contains(PortMapKey{t.daddr, t.dport, t.proto}) ||
           gone_ports.contains(PortMapKey{0, t.dport, t.proto});
  };
  auto of_gone_ip = [&](const CtEntry& e) {
    return gone_ips.contains(e.tuple.saddr) || gone_ips.contains(e.tuple.daddr) ||
           gone_ips.contains(e.rewrite.saddr) || gone_ips.contains(e.rewrite.daddr);
  };
  purge_flows(
      port, [&](const CtEntry& e) { return via_gone_port(e) || of_gone_ip(e); }, ended);
}

namespace {
core::FlowTuple flow_tuple(const CtTuple& t) {
  return core::FlowTuple{t.saddr, t.daddr, t.sport, t.dport, t.proto};
}
// The raw key bytes of the other half, decoded (struct bpfnet_ct_key).
core::FlowTuple flow_tuple(const CtKey& raw) {
  struct bpfnet_ct_key k {};
  std::memcpy(&k, raw.data(), sizeof(k));
  return core::FlowTuple{ntohl(k.saddr), ntohl(k.daddr), ntohs(k.sport), ntohs(k.dport), k.proto};
}
}  // namespace

std::vector<core::FlowHalf> read_flow_halves(DatapathPort& port) { return port.read_flow_halves(); }

std::vector<core::FlowHalf> DatapathPort::read_flow_halves() {
  const std::vector<CtEntry> entries = read_conntrack();
  std::vector<core::FlowHalf> out;
  out.reserve(entries.size());
  for (const CtEntry& e : entries)
    out.push_back(core::FlowHalf{flow_tuple(e.tuple), flow_tuple(e.peer), flow_tuple(e.rewrite),
                                 e.state, e.flags, e.expires_ns, e.created_ns, e.packets, e.bytes});
  return out;
}

ConntrackUsage conntrack_usage(DatapathPort& port) {
  return ConntrackUsage{port.read_conntrack().size(), port.conntrack_capacity()};
}

}  // namespace bpfnet::datapath
