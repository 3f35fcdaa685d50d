// The configuration maps (BPFNET_CONFIG_TABLES): one codec per map says how
// a model entry becomes the map's key and value (byte order, layout) and
// back; reading, writing and deleting are generic over the codec, so each
// map is described once.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>

#include "bpfnet_abi.h"
#include "datapath/bpf_calls.h"
#include "datapath/datapath.h"
#include "endpoint_bpf.skel.h"

namespace bpfnet::datapath {

namespace {

using namespace bpf_calls;

uint32_t mask_of(uint8_t prefix_len) {
  return prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
}

// Maps keyed by a plain u32 (an index, an ifindex, an id), the same in the model.
struct U32KeyCodec {
  using AbiKey = uint32_t;
  static AbiKey key(uint32_t k) { return k; }
};

struct NetworkCodec : U32KeyCodec {
  static constexpr const char* kWhat = "network";
  using AbiValue = struct bpfnet_network;
  static AbiValue value(const NetworkEntry& n) {
    return AbiValue{.subnet = htonl(n.subnet),
                    .mask = htonl(mask_of(n.prefix_len)),
                    .gateway = htonl(n.gateway),
                    .flags = n.flags,
                    .mtu = n.mtu,
                    .vni = n.vni,
                    .lb_addr = htonl(n.lb_addr)};
  }
  static std::pair<uint32_t, NetworkEntry> decode(AbiKey index, const AbiValue& v) {
    auto prefix_len = static_cast<uint8_t>(__builtin_popcount(ntohl(v.mask)));
    return {index, NetworkEntry{index, ntohl(v.subnet), prefix_len, ntohl(v.gateway), v.flags,
                                v.mtu, v.vni, ntohl(v.lb_addr)}};
  }
};

// bpfnet_subnets (LPM: address -> network index) is derived from the
// networks table: written after it, deleted before it, never read back.
struct SubnetCodec {
  static constexpr const char* kWhat = "subnet of network";
  using AbiKey = struct bpfnet_subnet_key;
  using AbiValue = uint32_t;
  static AbiKey key(uint32_t, const NetworkEntry& n) {
    return AbiKey{n.prefix_len, htonl(n.subnet)};
  }
  static AbiValue value(const NetworkEntry& n) { return n.index; }
};

struct EndpointCodec {
  using AbiValue = struct bpfnet_endpoint;
  static AbiValue value(const EndpointEntry& e) {
    AbiValue v{};
    v.ifindex = e.ifindex;
    v.network = e.network;
    v.ip = htonl(e.ip);
    std::memcpy(v.mac, e.mac.data(), 6);
    std::memcpy(v.gw_mac, e.gw_mac.data(), 6);
    return v;
  }
  static EndpointEntry entry(const AbiValue& v) {
    EndpointEntry e{v.ifindex, v.network, ntohl(v.ip), {}, {}};
    std::memcpy(e.mac.data(), v.mac, 6);
    std::memcpy(e.gw_mac.data(), v.gw_mac, 6);
    return e;
  }
};

struct EndpointByIpCodec : EndpointCodec {
  static constexpr const char* kWhat = "endpoint";
  using AbiKey = __be32;
  static AbiKey key(uint32_t ip) { return htonl(ip); }
  static std::pair<uint32_t, EndpointEntry> decode(AbiKey ip, const AbiValue& v) {
    return {ntohl(ip), entry(v)};
  }
};

struct EndpointByIfindexCodec : EndpointCodec, U32KeyCodec {
  static constexpr const char* kWhat = "endpoint of ifindex";
  static std::pair<uint32_t, EndpointEntry> decode(AbiKey ifindex, const AbiValue& v) {
    return {ifindex, entry(v)};
  }
};

// Keys of (address, port, protocol), host order in the model: the layout of
// both bpfnet_portmap_key and bpfnet_svc_key, whose address field differs in
// name only.
template <typename Key, __be32 Key::*kAddress>
struct FrontendKeyCodec {
  using AbiKey = Key;
  static AbiKey key(const std::tuple<uint32_t, uint16_t, uint8_t>& k) {
    AbiKey out{};
    out.*kAddress = htonl(std::get<0>(k));
    out.port = htons(std::get<1>(k));
    out.proto = std::get<2>(k);
    return out;
  }
  static std::tuple<uint32_t, uint16_t, uint8_t> tuple_of(const AbiKey& k) {
    return {ntohl(k.*kAddress), ntohs(k.port), k.proto};
  }
};

struct PortMapCodec : FrontendKeyCodec<bpfnet_portmap_key, &bpfnet_portmap_key::addr> {
  static constexpr const char* kWhat = "published port";
  using AbiValue = struct bpfnet_portmap_value;
  static AbiValue value(const PortMapEntry& pm) {
    return AbiValue{htonl(pm.backend_ip), htons(pm.backend_port), 0};
  }
  static std::pair<PortMapKey, PortMapEntry> decode(const AbiKey& k, const AbiValue& v) {
    const auto [ip, port, proto] = tuple_of(k);
    return {tuple_of(k), PortMapEntry{ip, port, proto, ntohl(v.backend_ip), ntohs(v.backend_port)}};
  }
};

// Maps keyed by a host-order IPv4 address with a plain u32 value.
template <const char* What>
struct AddressKeyedCodec {
  static constexpr const char* kWhat = What;
  using AbiKey = __be32;
  using AbiValue = uint32_t;
  static AbiKey key(uint32_t ip) { return htonl(ip); }
  static AbiValue value(uint32_t v) { return v; }
  static std::pair<uint32_t, uint32_t> decode(AbiKey ip, AbiValue v) { return {ntohl(ip), v}; }
};
constexpr char kHostAddress[] = "host address";
constexpr char kServiceVip[] = "service VIP";

struct UplinkCodec : U32KeyCodec {
  static constexpr const char* kWhat = "uplink";
  using AbiValue = struct bpfnet_uplink;
  static AbiValue value(const UplinkEntry& u) {
    AbiValue v{};
    v.ip = htonl(u.ip);
    std::memcpy(v.mac, u.mac.data(), 6);
    return v;
  }
  static std::pair<uint32_t, UplinkEntry> decode(AbiKey ifindex, const AbiValue& v) {
    UplinkEntry u{ifindex, ntohl(v.ip), {}};
    std::memcpy(u.mac.data(), v.mac, 6);
    return {ifindex, u};
  }
};

struct ServiceCodec : FrontendKeyCodec<bpfnet_svc_key, &bpfnet_svc_key::vip> {
  static constexpr const char* kWhat = "service frontend";
  using AbiValue = struct bpfnet_svc_value;
  static AbiValue value(const ServiceEntry& e) {
    return AbiValue{e.index, e.table_size, e.affinity_timeout_s, 0};
  }
  static std::pair<ServiceKey, ServiceEntry> decode(const AbiKey& k, const AbiValue& v) {
    const auto [vip, port, proto] = tuple_of(k);
    return {tuple_of(k),
            ServiceEntry{vip, port, proto, v.index, v.table_size, v.affinity_timeout_s}};
  }
};

struct TunnelCodec {
  static constexpr const char* kWhat = "tunnel to remote endpoint";
  using AbiKey = __be32;
  using AbiValue = struct bpfnet_tunnel;
  static AbiKey key(uint32_t ip) { return htonl(ip); }
  static AbiValue value(const TunnelEntry& t) {
    AbiValue v{.remote = htonl(t.remote), .vni = t.vni, .network = t.network, .mac = {}, .pad = 0};
    std::memcpy(v.mac, t.mac.data(), 6);
    return v;
  }
  static std::pair<uint32_t, TunnelEntry> decode(AbiKey ip, const AbiValue& v) {
    TunnelEntry t{ntohl(ip), ntohl(v.remote), v.vni, v.network, {}};
    std::memcpy(t.mac.data(), v.mac, 6);
    return {t.ip, t};
  }
};

struct BackendCodec : U32KeyCodec {
  static constexpr const char* kWhat = "backend";
  using AbiValue = struct bpfnet_backend;
  static AbiValue value(uint32_t ip) { return AbiValue{htonl(ip), 0}; }
  static std::pair<uint32_t, uint32_t> decode(AbiKey id, const AbiValue& v) {
    return {id, ntohl(v.ip)};
  }
};

// A codec's map key for an entry; SubnetCodec keys on the value.
template <typename Codec, typename Key, typename Value>
typename Codec::AbiKey abi_key(const Key& key, const Value& value) {
  if constexpr (std::is_invocable_v<decltype(&Codec::key), const Key&, const Value&>) {
    return Codec::key(key, value);
  } else {
    return Codec::key(key);
  }
}

template <typename Codec, typename Key, typename Value>
void read_table(bpf_map* map, std::map<Key, Value>& out) {
  for_each_entry<typename Codec::AbiKey, typename Codec::AbiValue>(
      bpf_map__fd(map), [&](const auto& k, const auto& v) { out.insert(Codec::decode(k, v)); });
}

template <typename Codec, typename Key, typename Value>
void write_upserts(bpf_map* map, const Changes<Key, Value>& changes) {
  for (const auto& [key, value] : changes.upserts) {
    const auto k = abi_key<Codec>(key, value);
    const auto v = Codec::value(value);
    update(bpf_map__fd(map), &k, &v, fmt::format("write {} {}", Codec::kWhat, key));
  }
}

template <typename Codec, typename Key, typename Value>
void write_deletes(bpf_map* map, const Changes<Key, Value>& changes) {
  for (const auto& [key, value] : changes.deletes) {
    const auto k = abi_key<Codec>(key, value);
    remove(bpf_map__fd(map), &k, fmt::format("delete {} {}", Codec::kWhat, key));
  }
}

// Every configuration map in BPFNET_CONFIG_TABLES order, with its codec and
// its table in MapContents / MapDelta (none in MapContents: derived, not read).
template <typename Fn>
void for_each_config_map(endpoint_bpf* skel, Fn&& fn) {
  auto& m = skel->maps;
  fn(NetworkCodec{}, m.bpfnet_nets, &MapContents::networks, &MapDelta::networks);
  fn(SubnetCodec{}, m.bpfnet_subnets, nullptr, &MapDelta::networks);
  fn(EndpointByIpCodec{}, m.bpfnet_ep_ip, &MapContents::endpoints_by_ip,
     &MapDelta::endpoints_by_ip);
  fn(EndpointByIfindexCodec{}, m.bpfnet_ep_if, &MapContents::endpoints_by_ifindex,
     &MapDelta::endpoints_by_ifindex);
  fn(PortMapCodec{}, m.bpfnet_portmap, &MapContents::portmaps, &MapDelta::portmaps);
  fn(AddressKeyedCodec<kHostAddress>{}, m.bpfnet_hostaddr, &MapContents::host_addrs,
     &MapDelta::host_addrs);
  fn(UplinkCodec{}, m.bpfnet_uplinks, &MapContents::uplinks, &MapDelta::uplinks);
  fn(ServiceCodec{}, m.bpfnet_svc, &MapContents::services, &MapDelta::services);
  fn(AddressKeyedCodec<kServiceVip>{}, m.bpfnet_vips, &MapContents::vips, &MapDelta::vips);
  fn(BackendCodec{}, m.bpfnet_backends, &MapContents::backends, &MapDelta::backends);
  fn(TunnelCodec{}, m.bpfnet_tunnels, &MapContents::tunnels, &MapDelta::tunnels);
}

}  // namespace

MapContents Datapath::read_maps() {
  MapContents out;
  for_each_config_map(endpoint_, [&](auto codec, bpf_map* map, auto table, auto) {
    if constexpr (!std::is_null_pointer_v<decltype(table)>)
      read_table<decltype(codec)>(map, out.*table);
  });
  return out;
}

void Datapath::apply(const MapDelta& delta) {
  std::vector<std::function<void()>> deletes;
  for_each_config_map(endpoint_, [&](auto codec, bpf_map* map, auto, auto table) {
    using Codec = decltype(codec);
    const auto& changes = delta.*table;
    write_upserts<Codec>(map, changes);
    deletes.push_back([map, &changes] { write_deletes<Codec>(map, changes); });
  });
  for (auto it = deletes.rbegin(); it != deletes.rend(); ++it) (*it)();
  // Conntrack entries cache the endpoint their packets go to (struct
  // bpfnet_ct_dest) under this generation: a new one, after every write
  // above, makes each flow look its endpoint up again once.
  if (!delta.endpoints_by_ip.upserts.empty() || !delta.endpoints_by_ip.deletes.empty()) {
    int fd = bpf_map__fd(endpoint_->maps.bpfnet_ep_gen);
    uint32_t zero = 0, gen = 0;
    if (bpf_map_lookup_elem(fd, &zero, &gen) != 0)
      throw DatapathError(fmt::format("read endpoint generation: {}", errstr(errno)));
    ++gen;
    update(fd, &zero, &gen, "write endpoint generation");
  }
}

}  // namespace bpfnet::datapath
