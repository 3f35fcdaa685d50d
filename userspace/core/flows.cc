#include "core/flows.h"

#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <tuple>
#include <unordered_map>

#include "bpfnet_abi.h"
#include "core/error.h"

namespace bpfnet::core {

namespace {

// A tuple as one 128-bit number, for the hash that pairs the halves.
struct TupleId {
  uint64_t addrs, rest;
  bool operator==(const TupleId&) const = default;
};
TupleId id_of(const FlowTuple& t) {
  return TupleId{(uint64_t{t.saddr} << 32) | t.daddr,
                 (uint64_t{t.sport} << 24) | (uint64_t{t.dport} << 8) | t.proto};
}
struct TupleIdHash {
  size_t operator()(const TupleId& id) const {
    // splitmix64's finalizer over both words: addresses and ports of
    // sequential clients differ in few bits.
    uint64_t x = id.addrs ^ (id.rest * 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return size_t(x ^ (x >> 31));
  }
};

uint64_t timeout_ns(uint8_t proto, uint8_t state) {
  if (state == BPFNET_CT_NEW) return BPFNET_CT_TIMEOUT_NEW;
  if (proto == IPPROTO_TCP)
    return state == BPFNET_CT_CLOSING ? BPFNET_CT_TIMEOUT_TCP_CLOSE : BPFNET_CT_TIMEOUT_TCP_EST;
  if (proto == IPPROTO_ICMP) return BPFNET_CT_TIMEOUT_ICMP;
  return BPFNET_CT_TIMEOUT_UDP;
}

// When a half last saw a packet: the datapath sets its deadline a timeout
// past it (rewritten at most once a second, so this is within a second).
uint64_t last_seen_ns(const FlowHalf& h) {
  uint64_t t = timeout_ns(h.key.proto, h.state);
  return h.expires_ns > t ? h.expires_ns - t : 0;
}

// What the join looks up in the state, indexed once per call.
struct StateIndex {
  std::unordered_map<uint32_t, const Endpoint*> endpoint_by_ip;
  std::unordered_map<uint32_t, const Service*> service_by_vip;
  std::vector<std::pair<PortBinding, const Service*>> service_bindings;
  const State& state;

  explicit StateIndex(const State& s) : state(s) {
    for (const auto& ep : s.endpoints) endpoint_by_ip.emplace(ep.ip.value, &ep);
    for (const auto& svc : s.services) {
      service_by_vip.emplace(svc.vip.value, &svc);
      for (const auto& b : svc.published) service_bindings.emplace_back(b, &svc);
    }
  }
  const Endpoint* endpoint(uint32_t ip) const {
    auto it = endpoint_by_ip.find(ip);
    return it == endpoint_by_ip.end() ? nullptr : it->second;
  }
  // The service a load-balanced flow to `t` went through: by its VIP, or
  // by one of its published ports.
  const Service* service_of(const FlowTuple& t, bool* by_vip) const {
    auto it = service_by_vip.find(t.daddr);
    *by_vip = it != service_by_vip.end();
    if (*by_vip) return it->second;
    for (const auto& [b, svc] : service_bindings)
      if (b.host_port == t.dport && (b.host_ip.value == 0 || b.host_ip.value == t.daddr) &&
          flow_proto_name(t.proto) == to_string(b.proto))
        return svc;
    return nullptr;
  }
};

void fill_addressing(FlowRow& row, const FlowHalf& fwd, const StateIndex& index) {
  const bool dnat = fwd.flags & BPFNET_CT_F_DNAT, snat = fwd.flags & BPFNET_CT_F_SNAT;
  row.server_ip = Ipv4{fwd.rewrite.daddr};
  row.server_port = fwd.rewrite.dport;
  if (snat) {
    row.snat_ip = Ipv4{fwd.rewrite.saddr};
    row.snat_port = fwd.rewrite.sport;
  }
  const Endpoint* ep = nullptr;
  if (dnat) {
    ep = index.endpoint(fwd.rewrite.daddr);
    row.nat = snat ? "DNAT+SNAT" : "DNAT";
    row.address_kind = "published";
    if (fwd.flags & BPFNET_CT_F_LB) {
      bool by_vip = false;
      if (const Service* svc = index.service_of(fwd.key, &by_vip)) {
        row.service = svc->name;
        if (by_vip) row.address_kind = "service";
      }
    }
  } else if (snat) {
    // Masquerade: a container's flow out, its source the host's.
    ep = index.endpoint(fwd.key.saddr);
    row.nat = "masquerade";
    row.address_kind = "outside";
  } else {
    ep = index.endpoint(fwd.rewrite.daddr);
    if (!ep) ep = index.endpoint(fwd.key.saddr);
    row.nat = "none";
    row.address_kind = "container";
  }
  if (ep) {
    row.container = ep->container;
    const Network* net = index.state.network_by_id(ep->network_id);
    row.network = net ? net->name : ep->network_id;
  }
}

FlowRow row_of(const FlowHalf& fwd, const FlowHalf* reply, const StateIndex& index,
               uint64_t now_ns) {
  FlowRow row;
  row.proto = fwd.key.proto;
  row.client_ip = Ipv4{fwd.key.saddr};
  row.client_port = fwd.key.sport;
  row.address_ip = Ipv4{fwd.key.daddr};
  row.address_port = fwd.key.dport;
  fill_addressing(row, fwd, index);
  row.client_state = fwd.state;
  row.client_packets = fwd.packets;
  row.client_bytes = fwd.bytes;
  uint64_t created = fwd.created_ns, seen = last_seen_ns(fwd);
  if (reply) {
    row.server_state = reply->state;
    row.server_packets = reply->packets;
    row.server_bytes = reply->bytes;
    seen = std::max(seen, last_seen_ns(*reply));
  }
  row.age_ns = now_ns > created ? now_ns - created : 0;
  row.idle_ns = now_ns > seen ? now_ns - seen : 0;
  return row;
}

// Whether the container `pred` accepts is on either side of the flow: the
// row's container, or the client when it is a container too.
template <typename Pred>
bool involves(const FlowHalf& fwd, const StateIndex& index, Pred&& pred) {
  for (uint32_t ip : {fwd.rewrite.daddr, fwd.key.saddr})
    if (const Endpoint* ep = index.endpoint(ip); ep && pred(*ep)) return true;
  return false;
}

bool passes(const FlowRow& row, const FlowFilter& filter, const std::string& service_name,
            const FlowHalf& fwd, const StateIndex& index) {
  if (filter.proto && row.proto != filter.proto) return false;
  if (!filter.container.empty() &&
      !involves(fwd, index, [&](const Endpoint& ep) { return ep.container == filter.container; }))
    return false;
  if (!filter.network_id.empty() &&
      !involves(fwd, index, [&](const Endpoint& ep) { return ep.network_id == filter.network_id; }))
    return false;
  if (!filter.service_id.empty() && row.service != service_name) return false;
  return true;
}

std::string endpoint_text(Ipv4 ip, uint16_t port) {
  return fmt::format("{}:{}", ip.to_string(), port);
}

}  // namespace

FlowFilter flow_filter(const State& state, const FlowQuery& query) {
  const int scopes = !query.container.empty() + !query.network.empty() + !query.service.empty();
  if (scopes > 1) throw UserError("flows: give at most one of CONTAINER, --network, --service");
  FlowFilter filter;
  if (!query.container.empty()) {
    if (state.endpoints_of_container(query.container).empty())
      throw UserError(fmt::format("No such container: {}", query.container));
    filter.container = query.container;
  }
  if (!query.network.empty()) filter.network_id = state.get_network(query.network).id;
  if (!query.service.empty()) filter.service_id = state.get_service(query.service).id;
  if (query.proto == "tcp")
    filter.proto = IPPROTO_TCP;
  else if (query.proto == "udp")
    filter.proto = IPPROTO_UDP;
  else if (!query.proto.empty())
    throw UserError(fmt::format("invalid protocol \"{}\" (tcp or udp)", query.proto));
  return filter;
}

std::vector<FlowRow> join_flows(const std::vector<FlowHalf>& halves, const State& state,
                                const FlowFilter& filter, uint64_t now_ns) {
  const StateIndex index(state);
  std::string service_name;
  if (!filter.service_id.empty()) {
    const Service* svc = state.find_service(filter.service_id);
    service_name = svc ? svc->name : "\n";  // a service gone matches nothing
  }
  std::unordered_map<TupleId, size_t, TupleIdHash> by_key;
  by_key.reserve(halves.size());
  for (size_t i = 0; i < halves.size(); ++i) by_key.emplace(id_of(halves[i].key), i);

  std::vector<FlowRow> rows;
  rows.reserve(halves.size() / 2 + 1);
  for (const FlowHalf& h : halves) {
    // Each flow once, from its forward half. A reply half without one is
    // a flow being created or deleted (the reply half goes in first).
    if (h.flags & BPFNET_CT_F_REPLY) continue;
    auto it = by_key.find(id_of(h.peer));
    const FlowHalf* peer =
        it != by_key.end() && halves[it->second].peer == h.key ? &halves[it->second] : nullptr;
    FlowRow row = row_of(h, peer, index, now_ns);
    if (passes(row, filter, service_name, h, index)) rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const FlowRow& a, const FlowRow& b) {
    return std::tie(a.container, a.network, a.client_ip, a.client_port, a.proto) <
           std::tie(b.container, b.network, b.client_ip, b.client_port, b.proto);
  });
  return rows;
}

std::string flow_state_name(uint8_t state) {
  switch (state) {
    case BPFNET_CT_NEW:
      return "NEW";
    case BPFNET_CT_ESTABLISHED:
      return "ESTABLISHED";
    case BPFNET_CT_CLOSING:
      return "CLOSING";
    default:
      return fmt::format("{}", state);
  }
}

std::string flow_proto_name(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    default:
      return fmt::format("{}", proto);
  }
}

nlohmann::json flows_json(const std::vector<FlowRow>& rows) {
  constexpr uint64_t kMs = 1'000'000;
  nlohmann::json out = nlohmann::json::array();
  for (const FlowRow& r : rows) {
    nlohmann::json snat = nullptr;
    if (r.snat_ip.value != 0 || r.snat_port) snat = endpoint_text(r.snat_ip, r.snat_port);
    out.push_back(nlohmann::json{
        {"proto", flow_proto_name(r.proto)},
        {"client", endpoint_text(r.client_ip, r.client_port)},
        {"address", endpoint_text(r.address_ip, r.address_port)},
        {"address_kind", r.address_kind},
        {"service", r.service},
        {"container", r.container},
        {"network", r.network},
        {"server", endpoint_text(r.server_ip, r.server_port)},
        {"nat", r.nat},
        {"snat", snat},
        {"client_state", flow_state_name(r.client_state)},
        {"server_state", flow_state_name(r.server_state)},
        {"age_ms", r.age_ns / kMs},
        {"idle_ms", r.idle_ns / kMs},
        {"client_packets", r.client_packets},
        {"client_bytes", r.client_bytes},
        {"server_packets", r.server_packets},
        {"server_bytes", r.server_bytes},
    });
  }
  return out;
}

}  // namespace bpfnet::core
