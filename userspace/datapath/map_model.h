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

// The content of the maps that carry configuration (not counters or
// conntrack). The subnet LPM map is derived from `networks` and written with it.
struct MapContents {
  std::map<uint32_t, NetworkEntry> networks;               // bpfnet_nets, by index
  std::map<uint32_t, EndpointEntry> endpoints_by_ip;       // bpfnet_ep_ip, host-order IP
  std::map<uint32_t, EndpointEntry> endpoints_by_ifindex;  // bpfnet_ep_if
  std::map<PortMapKey, PortMapEntry> portmaps;             // bpfnet_portmap
  std::map<uint32_t, uint32_t> host_addrs;      // bpfnet_hostaddr: host-order IP -> flags
  std::map<uint32_t, UplinkEntry> uplinks;      // bpfnet_uplinks, by ifindex
  std::map<ServiceKey, ServiceEntry> services;  // bpfnet_svc
  std::map<uint32_t, uint32_t> vips;            // bpfnet_vips: VIP -> network index
  std::map<uint32_t, uint32_t> backends;        // bpfnet_backends: id -> host-order IP
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

// The writes that turn one MapContents into another. Applied in this order:
// upserts (networks first), then deletes (networks last), so a packet never
// finds an endpoint whose network is missing.
struct MapDelta {
  std::vector<NetworkEntry> upsert_networks;
  std::vector<EndpointEntry> upsert_ep_ip;
  std::vector<EndpointEntry> upsert_ep_ifindex;
  std::vector<EndpointEntry> delete_ep_ip;
  std::vector<EndpointEntry> delete_ep_ifindex;
  std::vector<NetworkEntry> delete_networks;
  std::vector<PortMapEntry> upsert_portmaps;
  std::vector<PortMapEntry> delete_portmaps;
  std::vector<uint32_t> upsert_host_addrs;
  std::vector<uint32_t> delete_host_addrs;
  std::vector<UplinkEntry> upsert_uplinks;
  std::vector<UplinkEntry> delete_uplinks;
  std::vector<ServiceEntry> upsert_services;
  std::vector<ServiceEntry> delete_services;
  std::vector<uint32_t> upsert_vips;
  std::vector<uint32_t> delete_vips;
  std::vector<uint32_t> upsert_backends;
  std::vector<uint32_t> delete_backends;
  // The values of upsert_vips / upsert_backends come from the desired contents.
  std::map<uint32_t, uint32_t> vip_values, backend_values;
  size_t size() const {
    return upsert_networks.size() + upsert_ep_ip.size() + upsert_ep_ifindex.size() +
           delete_ep_ip.size() + delete_ep_ifindex.size() + delete_networks.size() +
           upsert_portmaps.size() + delete_portmaps.size() + upsert_host_addrs.size() +
           delete_host_addrs.size() + upsert_uplinks.size() + delete_uplinks.size() +
           upsert_services.size() + delete_services.size() + upsert_vips.size() +
           delete_vips.size() + upsert_backends.size() + delete_backends.size();
  }
  bool empty() const { return size() == 0; }
};

// Only what differs: unchanged entries are not rewritten.
MapDelta diff(const MapContents& current, const MapContents& desired);

// One conntrack entry as the daemon sees it (GC, stats).
struct CtEntry {
  std::array<uint8_t, 16> key{};  // struct bpfnet_ct_key, raw
  std::array<uint8_t, 16> peer{};
  uint64_t expires_ns = 0;
  uint8_t state = 0;
  uint8_t flags = 0;
  uint32_t rewrite_daddr = 0;  // host order: where this direction is sent
};

struct MetricRow {
  uint32_t ifindex = 0;
  uint8_t reason = 0;
  uint8_t dir = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

}  // namespace bpfnet::datapath
