// The datapath's view of the desired state: plain values that map one to one
// onto the entries of the pinned maps (maps/bpfnet_abi.h). Pure: no libbpf, so
// the projection and the diff are unit-testable without root.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
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

// The content of the maps that carry configuration (not counters). The
// subnet LPM map is derived from `networks` and written with it.
struct MapContents {
  std::map<uint32_t, NetworkEntry> networks;              // bpfnet_nets, by index
  std::map<uint32_t, EndpointEntry> endpoints_by_ip;       // bpfnet_ep_ip, host-order IP
  std::map<uint32_t, EndpointEntry> endpoints_by_ifindex;  // bpfnet_ep_if
  bool operator==(const MapContents&) const = default;

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
  size_t size() const {
    return upsert_networks.size() + upsert_ep_ip.size() + upsert_ep_ifindex.size() +
           delete_ep_ip.size() + delete_ep_ifindex.size() + delete_networks.size();
  }
  bool empty() const { return size() == 0; }
};

// Only what differs: unchanged entries are not rewritten.
MapDelta diff(const MapContents& current, const MapContents& desired);

struct MetricRow {
  uint32_t ifindex = 0;
  uint8_t reason = 0;
  uint8_t dir = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

}  // namespace bpfnet::datapath
