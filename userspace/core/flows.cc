#include "core/flows.h"

#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
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
  // The slot where `id` starts its probe, brought into the cache ahead of
  // the insert() or find() of it: at 262,144 flows the index is 12 MB and
  // every probe would otherwise wait for memory.
  void prefetch(const TupleId& id) const {
    __builtin_prefetch(&slots_[TupleIdHash{}(id) & (slots_.size() - 1)]);
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

uint8_t ipproto_of(Proto proto) {
  switch (proto) {
    case Proto::kTcp:
      return IPPROTO_TCP;
    case Proto::kUdp:
      return IPPROTO_UDP;
    case Proto::kSctp:
      return IPPROTO_SCTP;
  }
  return 0;
}

// What the join looks up in the state, indexed once per call: per row it
// costs a hash lookup or two, no string copied (262,144 rows in `flows`).
struct StateIndex {
  struct EndpointInfo {
    const Endpoint* endpoint;
    std::string_view network;  // its network's name (the ID when it has none)
    // 1 + its place in (container, network name) order: rows sort by
    // numbers, not by comparing names.
    uint32_t rank;
  };
  std::unordered_map<uint32_t, uint32_t> info_by_ip;  // an index into infos
  std::vector<EndpointInfo> infos;
  std::unordered_map<uint32_t, const Service*> service_by_vip;
  struct ServiceBinding {
    uint32_t host_ip;  // 0: any
    uint16_t host_port;
    uint8_t proto;  // IPPROTO_*
    const Service* service;
  };
  std::vector<ServiceBinding> service_bindings;
  const State& state;

  explicit StateIndex(const State& s) : state(s) {
    infos.reserve(s.endpoints.size());
    for (const auto& ep : s.endpoints) {
      const Network* net = s.network_by_id(ep.network_id);
      infos.push_back(
          {&ep, net ? std::string_view(net->name) : std::string_view(ep.network_id), 0});
      info_by_ip.emplace(ep.ip.value, uint32_t(infos.size() - 1));
    }
    std::vector<uint32_t> order(infos.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return std::tie(infos[a].endpoint->container, infos[a].network) <
             std::tie(infos[b].endpoint->container, infos[b].network);
    });
    for (uint32_t i = 0; i < order.size(); ++i) infos[order[i]].rank = i + 1;
    for (const auto& svc : s.services) {
      service_by_vip.emplace(svc.vip.value, &svc);
      for (const auto& b : svc.published)
        service_bindings.push_back({b.host_ip.value, b.host_port, ipproto_of(b.proto), &svc});
    }
  }
  const EndpointInfo* endpoint(uint32_t ip) const {
    auto it = info_by_ip.find(ip);
    return it == info_by_ip.end() ? nullptr : &infos[it->second];
  }
  // The service a load-balanced flow to `t` went through: by its VIP, or
  // by one of its published ports.
  const Service* service_of(const FlowTuple& t, bool* by_vip) const {
    auto it = service_by_vip.find(t.daddr);
    *by_vip = it != service_by_vip.end();
    if (*by_vip) return it->second;
    for (const auto& b : service_bindings)
      if (b.host_port == t.dport && (b.host_ip == 0 || b.host_ip == t.daddr) && b.proto == t.proto)
        return b.service;
    return nullptr;
  }
};

// Returns the row's endpoint (nullptr: none).
const StateIndex::EndpointInfo* fill_addressing(FlowRow& row, const FlowHalf& fwd,
                                                const StateIndex& index) {
  const bool dnat = fwd.flags & BPFNET_CT_F_DNAT, snat = fwd.flags & BPFNET_CT_F_SNAT;
  row.server_ip = Ipv4{fwd.rewrite.daddr};
  row.server_port = fwd.rewrite.dport;
  if (snat) {
    row.snat_ip = Ipv4{fwd.rewrite.saddr};
    row.snat_port = fwd.rewrite.sport;
  }
  const StateIndex::EndpointInfo* ep = nullptr;
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
    row.container = ep->endpoint->container;
    row.network = ep->network;
  }
  return ep;
}

FlowRow row_of(const FlowHalf& fwd, const FlowHalf* reply, const StateIndex& index, uint64_t now_ns,
               const StateIndex::EndpointInfo** ep) {
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
    if (const StateIndex::EndpointInfo* ep = index.endpoint(ip); ep && pred(*ep->endpoint))
      return true;
  return false;
}

bool passes(const FlowRow& row, const FlowFilter& filter, std::string_view service_name,
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
  std::string_view service_name;
  if (!filter.service_id.empty()) {
    const Service* svc = state.find_service(filter.service_id);
    service_name = svc ? std::string_view(svc->name) : "\n";  // a service gone matches nothing
  }
  // The reply halves by key: each forward half finds its other half there.
  constexpr size_t kAhead = 16;  // halves between a slot's prefetch and its use
  HalfIndex replies(halves.size() / 2 + 1);
  for (size_t i = 0; i < halves.size(); ++i) {
    if (i + kAhead < halves.size() && (halves[i + kAhead].flags & BPFNET_CT_F_REPLY))
      replies.prefetch(id_of(halves[i + kAhead].key));
    if (halves[i].flags & BPFNET_CT_F_REPLY) replies.insert(id_of(halves[i].key), i);
  }

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
  for (size_t i = 0; i < halves.size(); ++i) {
    const FlowHalf& h = halves[i];
    if (i + kAhead < halves.size() && !(halves[i + kAhead].flags & BPFNET_CT_F_REPLY))
      replies.prefetch(id_of(halves[i + kAhead].peer));
    // Each flow once, from its forward half. A reply half without one is
    // a flow being created or deleted (the reply half goes in first).
    if (h.flags & BPFNET_CT_F_REPLY) continue;
    const size_t at = replies.find(id_of(h.peer));
    const FlowHalf* peer =
        at != HalfIndex::kNone && halves[at].peer == h.key ? &halves[at] : nullptr;
    const StateIndex::EndpointInfo* ep = nullptr;
    FlowRow row = row_of(h, peer, index, now_ns, &ep);
    if (!passes(row, filter, service_name, h, index)) continue;
    keys.push_back({ep ? ep->rank : 0, row.client_ip.value, row.client_port, row.proto,
                    uint32_t(rows.size())});
    rows.push_back(row);
  }
  std::sort(keys.begin(), keys.end(),
            [](const SortKey& a, const SortKey& b) { return a.tie() < b.tie(); });
  // The rows put in that order in place, one cycle of the permutation at a
  // time (no second array of rows: fresh pages cost more than the moves).
  for (uint32_t i = 0; i < keys.size(); ++i) {
    if (keys[i].row == i || keys[i].row == UINT32_MAX) continue;
    const FlowRow first = rows[i];
    uint32_t at = i;
    for (;;) {
      const uint32_t from = keys[at].row;
      keys[at].row = UINT32_MAX;
      if (from == i) {
        rows[at] = first;
        break;
      }
      rows[at] = rows[from];
      at = from;
    }
  }
  return rows;
}

std::string_view flow_state_name(uint8_t state) {
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

// The protocol's name; numbers for others (rare: those have no flows). A
// table made once: the writers ask for it once per row.
std::string_view flow_proto_name(uint8_t proto) {
  static const std::array<std::string, 256> names = [] {
    std::array<std::string, 256> all;
    for (size_t p = 0; p < all.size(); ++p) all[p] = std::to_string(p);
    all[IPPROTO_TCP] = "tcp";
    all[IPPROTO_UDP] = "udp";
    all[IPPROTO_ICMP] = "icmp";
    return all;
  }();
  return names[proto];
}

}  // namespace bpfnet::core
