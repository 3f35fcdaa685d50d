#include "datapath/conntrack.h"

#include <vector>

#include "bpfnet_abi.h"

namespace bpfnet::datapath {

namespace {

// The forward half of a flow a service balanced: its destination is the backend.
bool is_lb_forward(const CtEntry& e) {
  return !(e.flags & BPFNET_CT_F_REPLY) && (e.flags & BPFNET_CT_F_LB);
}

}  // namespace

size_t gc_conntrack(DatapathPort& port, uint64_t now_ns) {
  const std::vector<CtEntry> entries = port.read_conntrack();
  std::map<CtKey, uint64_t> expiry;
  for (const auto& e : entries) expiry[e.key] = e.expires_ns;
  std::vector<CtKey> doomed;
  for (const auto& e : entries) {
    if (e.expires_ns > now_ns) continue;
    auto peer = expiry.find(e.peer);
    // A flow lives while either direction does: one-way UDP streams keep
    // their reply entry even when nothing comes back for a while.
    if (peer == expiry.end() || peer->second <= now_ns) doomed.push_back(e.key);
  }
  port.delete_conntrack(doomed);
  return doomed.size();
}

void purge_lb_flows_to(DatapathPort& port, const std::set<uint32_t>& backend_ips) {
  if (backend_ips.empty()) return;
  std::vector<CtKey> doomed;
  for (const auto& e : port.read_conntrack()) {
    if (is_lb_forward(e) && backend_ips.contains(e.rewrite_daddr)) {
      doomed.push_back(e.key);
      doomed.push_back(e.peer);
    }
  }
  port.delete_conntrack(doomed);
}

std::map<uint32_t, uint64_t> lb_flows_by_backend(DatapathPort& port) {
  std::map<uint32_t, uint64_t> flows;
  for (const auto& e : port.read_conntrack())
    if (is_lb_forward(e)) flows[e.rewrite_daddr]++;
  return flows;
}

ConntrackUsage conntrack_usage(DatapathPort& port) {
  return ConntrackUsage{port.read_conntrack().size(), port.conntrack_capacity()};
}

}  // namespace bpfnet::datapath
