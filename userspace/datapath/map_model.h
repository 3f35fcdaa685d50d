// The datapath's view of the desired state: plain values that map one to one
// onto the entries of the pinned maps (maps/bpfnet_abi.h). Pure: no libbpf, so
// the projection and the diff are unit-testable without root.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

namespace bpfnet::datapath {

using MacBytes = std::array<uint8_t, 6>;

struct NetworkEntry {
  uint32_t index = 0;
  uint32_t subnet = 0;  // host byte order
  uint8_t prefix_len = 0;
  uint32_t gateway = 0;  // host byte order
  uint32_t flags = 0;    // BPFNET_NET_F_*
  uint32_t mtu = 0;
  uint32_t vni = 0;  // overlay networks only
  // Overlay networks: this host's own address there (host order; 0: none),
  // the source of published flows to backends on other hosts.
  uint32_t lb_addr = 0;
  auto operator<=>(const NetworkEntry&) const = default;
};

struct EndpointEntry {
  uint32_t ifindex = 0;  // host-side veth
  uint32_t network = 0;
  uint32_t ip = 0;  // host byte order
  MacBytes mac{};
  MacBytes gw_mac{};
  auto operator<=>(const EndpointEntry&) const = default;
};

// A remote endpoint of an overlay network: where to tunnel its packets.
struct TunnelEntry {
  uint32_t ip = 0;      // the endpoint's address, host order
  uint32_t remote = 0;  // its host's underlay address, host order
  uint32_t vni = 0;
  uint32_t network = 0;  // local index of its network
  MacBytes mac{};
  auto operator<=>(const TunnelEntry&) const = default;
};

// A published port: (host address, port, protocol) -> container address, port.
struct PortMapEntry {
  uint32_t host_ip = 0;  // host order; 0 = every host address
  uint16_t host_port = 0;
  uint8_t proto = 0;  // IPPROTO_*
  uint32_t backend_ip = 0;
  uint16_t backend_port = 0;
  auto operator<=>(const PortMapEntry&) const = default;
};
using PortMapKey = std::tuple<uint32_t, uint16_t, uint8_t>;  // host_ip, host_port, proto

struct UplinkEntry {
  uint32_t ifindex = 0;
  uint32_t ip = 0;  // host order: the address masquerade rewrites to
  MacBytes mac{};
  auto operator<=>(const UplinkEntry&) const = default;
};

// A load-balanced service frontend: (VIP, port, proto) -> its table.
struct ServiceEntry {
  uint32_t vip = 0;  // host order
  uint16_t port = 0;
  uint8_t proto = 0;
  uint32_t index = 0;       // its Maglev table
  uint32_t table_size = 0;  // prime
  uint32_t affinity_timeout_s = 0;
  auto operator<=>(const ServiceEntry&) const = default;
};
using ServiceKey = std::tuple<uint32_t, uint16_t, uint8_t>;

// The maps that carry configuration (not counters or conntrack), each one
// row: member name, key, value. MapContents, MapDelta and diff() are
// generated from it, and the datapath reads and writes each table through
// one codec (config_maps.cc), so a table is described once. The subnet LPM
// map is derived from `networks` and written with it.
#define BPFNET_CONFIG_TABLES(X)                                                                  \
  X(networks, uint32_t, NetworkEntry)              /* bpfnet_nets, by index */                   \
  X(endpoints_by_ip, uint32_t, EndpointEntry)      /* bpfnet_ep_ip, host-order IP */             \
  X(endpoints_by_ifindex, uint32_t, EndpointEntry) /* bpfnet_ep_if */                            \
  X(portmaps, PortMapKey, PortMapEntry)            /* bpfnet_portmap */                          \
  X(host_addrs, uint32_t, uint32_t)                /* bpfnet_hostaddr: host-order IP -> flags */ \
  X(uplinks, uint32_t, UplinkEntry)                /* bpfnet_uplinks, by ifindex */              \
  X(services, ServiceKey, ServiceEntry)            /* bpfnet_svc */                              \
  X(vips, uint32_t, uint32_t)                      /* bpfnet_vips: VIP -> network index */       \
  X(backends, uint32_t, uint32_t)                  /* bpfnet_backends: id -> host-order IP */    \
  X(tunnels, uint32_t, TunnelEntry)                /* bpfnet_tunnels: remote endpoint IP */

struct MapContents {
#define BPFNET_CONTENTS_MEMBER(name, Key, Value) std::map<Key, Value> name;
  BPFNET_CONFIG_TABLES(BPFNET_CONTENTS_MEMBER)
#undef BPFNET_CONTENTS_MEMBER
  bool operator==(const MapContents&) const = default;

  void add_service(const ServiceEntry& s) { services[ServiceKey{s.vip, s.port, s.proto}] = s; }

  void add_portmap(const PortMapEntry& pm) {
    portmaps[PortMapKey{pm.host_ip, pm.host_port, pm.proto}] = pm;
  }

  void add_endpoint(const EndpointEntry& ep) {
    endpoints_by_ip[ep.ip] = ep;
    endpoints_by_ifindex[ep.ifindex] = ep;
  }
};

// The writes that turn one table into another: entries to write (the
// desired key and value) and entries to delete (the current ones).
template <typename Key, typename Value>
struct Changes {
  std::vector<std::pair<Key, Value>> upserts;
  std::vector<std::pair<Key, Value>> deletes;
  size_t size() const { return upserts.size() + deletes.size(); }
  bool operator==(const Changes&) const = default;
};

// The writes that turn one MapContents into another. The datapath applies
// every table's upserts (in BPFNET_CONFIG_TABLES order: networks first),
// then every table's deletes (in reverse order: networks last), so a packet
// never finds an endpoint whose network is missing.
struct MapDelta {
#define BPFNET_DELTA_MEMBER(name, Key, Value) Changes<Key, Value> name;
  BPFNET_CONFIG_TABLES(BPFNET_DELTA_MEMBER)
#undef BPFNET_DELTA_MEMBER

  size_t size() const;
  bool empty() const { return size() == 0; }
};

// Only what differs: unchanged entries are not rewritten.
MapDelta diff(const MapContents& current, const MapContents& desired);

// A conntrack tuple, host byte order. For ICMP echo the identifier stands
// in the ports (as in struct bpfnet_ct_key).
struct CtTuple {
  uint32_t saddr = 0, daddr = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  bool operator==(const CtTuple&) const = default;
};

// One conntrack entry as the daemon sees it (GC, stats, purges).
struct CtEntry {
  std::array<uint8_t, 16> key{};  // struct bpfnet_ct_key, raw
  std::array<uint8_t, 16> peer{};
  uint64_t expires_ns = 0;
  uint8_t state = 0;
  uint8_t flags = 0;                // BPFNET_CT_F_*
  CtTuple tuple;                    // the key, decoded
  CtTuple rewrite;                  // what this direction's packets are rewritten to
  uint64_t packets = 0, bytes = 0;  // what this direction forwarded
  uint64_t created_ns = 0;          // CLOCK_MONOTONIC, as expires_ns
};
using CtKey = std::array<uint8_t, 16>;

// One counter row of the datapath: forwarded (reason 0) or dropped packets
// of one interface in one direction, summed over CPUs.
struct MetricRow {
  uint32_t ifindex = 0;
  uint8_t reason = 0;  // enum bpfnet_reason
  uint8_t dir = 0;     // enum bpfnet_dir
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

}  // namespace bpfnet::datapath
