#include "core/flows.h"

#include <fmt/compile.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
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

// Halves by key, open addressing with linear probing in one array: a node
// per entry (std::unordered_map) made the index most of the join's time at
// 262,144 flows. Keys are unique in a conntrack read; a repeated one keeps
// the first.
class HalfIndex {
 public:
  static constexpr size_t kNone = SIZE_MAX;
  explicit HalfIndex(size_t n) {
    size_t size = 16;
    while (size < 2 * n) size *= 2;
    slots_.assign(size, Slot{TupleId{}, kNone});
  }
  void insert(const TupleId& id, size_t half) {
    for (size_t i = TupleIdHash{}(id) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].half == kNone) {
        slots_[i] = Slot{id, half};
        return;
      }
      if (slots_[i].id == id) return;
    }
  }
  size_t find(const TupleId& id) const {
    for (size_t i = TupleIdHash{}(id) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].half == kNone) return kNone;
      if (slots_[i].id == id) return slots_[i].half;
    }
  }

 private:
  struct Slot {
    TupleId id;
    size_t half;
  };
  std::vector<Slot> slots_;
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

  // 1 + the endpoint's place in (container, network name) order: rows sort
  // by numbers, not by comparing names (a third of the join at 262,144).
  std::unordered_map<const Endpoint*, uint32_t> rank;

  explicit StateIndex(const State& s) : state(s) {
    std::vector<std::pair<std::pair<std::string, std::string>, const Endpoint*>> order;
    for (const auto& ep : s.endpoints) {
      endpoint_by_ip.emplace(ep.ip.value, &ep);
      const Network* net = s.network_by_id(ep.network_id);
      order.push_back({{ep.container, net ? net->name : ep.network_id}, &ep});
    }
    std::sort(order.begin(), order.end());
    for (uint32_t i = 0; i < order.size(); ++i) rank.emplace(order[i].second, i + 1);
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

// Returns the row's endpoint (nullptr: none).
const Endpoint* fill_addressing(FlowRow& row, const FlowHalf& fwd, const StateIndex& index) {
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
  return ep;
}

FlowRow row_of(const FlowHalf& fwd, const FlowHalf* reply, const StateIndex& index, uint64_t now_ns,
               const Endpoint** ep) {
  FlowRow row;
  row.proto = fwd.key.proto;
  row.client_ip = Ipv4{fwd.key.saddr};
  row.client_port = fwd.key.sport;
  row.address_ip = Ipv4{fwd.key.daddr};
  row.address_port = fwd.key.dport;
  *ep = fill_addressing(row, fwd, index);
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
  // The reply halves by key: each forward half finds its other half there.
  HalfIndex replies(halves.size() / 2 + 1);
  for (size_t i = 0; i < halves.size(); ++i)
    if (halves[i].flags & BPFNET_CT_F_REPLY) replies.insert(id_of(halves[i].key), i);

  struct SortKey {
    uint32_t rank, client_ip;
    uint16_t client_port;
    uint8_t proto;
    uint32_t row;
    auto tie() const { return std::tie(rank, client_ip, client_port, proto); }
  };
  std::vector<FlowRow> rows;
  std::vector<SortKey> keys;
  rows.reserve(halves.size() / 2 + 1);
  keys.reserve(halves.size() / 2 + 1);
  for (const FlowHalf& h : halves) {
    // Each flow once, from its forward half. A reply half without one is
    // a flow being created or deleted (the reply half goes in first).
    if (h.flags & BPFNET_CT_F_REPLY) continue;
    const size_t at = replies.find(id_of(h.peer));
    const FlowHalf* peer =
        at != HalfIndex::kNone && halves[at].peer == h.key ? &halves[at] : nullptr;
    const Endpoint* ep = nullptr;
    FlowRow row = row_of(h, peer, index, now_ns, &ep);
    if (!passes(row, filter, service_name, h, index)) continue;
    const uint32_t rank = ep ? index.rank.at(ep) : 0;
    keys.push_back({rank, row.client_ip.value, row.client_port, row.proto, uint32_t(rows.size())});
    rows.push_back(std::move(row));
  }
  std::sort(keys.begin(), keys.end(),
            [](const SortKey& a, const SortKey& b) { return a.tie() < b.tie(); });
  std::vector<FlowRow> sorted;
  sorted.reserve(rows.size());
  for (const SortKey& k : keys) sorted.push_back(std::move(rows[k.row]));
  rows = std::move(sorted);
  return rows;
}

namespace {

// Names come from validated state (Docker's name rules), but the writer
// must not trust that: quotes, backslashes and control bytes are escaped.
void put_string(fmt::memory_buffer& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fmt::format_to(fmt::appender(out), "\\u{:04x}", int(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void put_endpoint(fmt::memory_buffer& out, Ipv4 ip, uint16_t port) {
  const auto o = ip.octets();
  fmt::format_to(fmt::appender(out), FMT_COMPILE("\"{}.{}.{}.{}:{}\""), o[0], o[1], o[2], o[3],
                 port);
}

// The protocol's name; numbers for others (rare: those have no flows).
std::string proto_text(uint8_t proto) {
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

const char* state_name(uint8_t state) {
  switch (state) {
    case BPFNET_CT_NEW:
      return "NEW";
    case BPFNET_CT_ESTABLISHED:
      return "ESTABLISHED";
    case BPFNET_CT_CLOSING:
      return "CLOSING";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

std::string flow_state_name(uint8_t state) { return state_name(state); }

std::string flow_proto_name(uint8_t proto) { return proto_text(proto); }

// Written directly, not through nlohmann::json: at 262,144 flows building
// the objects took 2.5 s, this takes a tenth of that (bench/flows_bench.cc);
// the format strings compiled (FMT_COMPILE), not parsed for every row.
std::string flows_json_text(const std::vector<FlowRow>& rows) {
  constexpr uint64_t kMs = 1'000'000;
  fmt::memory_buffer out;
  out.reserve(rows.size() * 400 + 2);
  auto it = fmt::appender(out);
  auto put = [&](std::string_view text) { out.append(text.data(), text.data() + text.size()); };
  out.push_back('[');
  for (size_t i = 0; i < rows.size(); ++i) {
    const FlowRow& r = rows[i];
    if (i) out.push_back(',');
    put("{\"proto\":\"");
    put(proto_text(r.proto));
    put("\",\"client\":");
    put_endpoint(out, r.client_ip, r.client_port);
    put(",\"address\":");
    put_endpoint(out, r.address_ip, r.address_port);
    put(",\"address_kind\":\"");
    put(r.address_kind);
    put("\",\"service\":");
    put_string(out, r.service);
    put(",\"container\":");
    put_string(out, r.container);
    put(",\"network\":");
    put_string(out, r.network);
    put(",\"server\":");
    put_endpoint(out, r.server_ip, r.server_port);
    put(",\"nat\":\"");
    put(r.nat);
    put("\",\"snat\":");
    if (r.snat_ip.value != 0 || r.snat_port)
      put_endpoint(out, r.snat_ip, r.snat_port);
    else
      put("null");
    put(",\"client_state\":\"");
    put(state_name(r.client_state));
    put("\",\"server_state\":\"");
    put(state_name(r.server_state));
    fmt::format_to(it,
                   FMT_COMPILE("\",\"age_ms\":{},\"idle_ms\":{},\"client_packets\":{},"
                               "\"client_bytes\":{},\"server_packets\":{},\"server_bytes\":{}}}"),
                   r.age_ns / kMs, r.idle_ns / kMs, r.client_packets, r.client_bytes,
                   r.server_packets, r.server_bytes);
  }
  out.push_back(']');
  return fmt::to_string(out);
}

}  // namespace bpfnet::core
