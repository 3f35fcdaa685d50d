// The world the packet fuzzer sends frames into: the real BPF programs and
// maps (datapath::Datapath, no pinning) in a network namespace of the
// fuzzer's own, filled by the daemon's own Controller from a config file
// (fakes for the host's links, so every map entry is what bpfnetd would
// write). Built once; conntrack is emptied before every input.
//
//   n1 172.18.0.0/16          a .2 (-p 9090:80), b .3 (-p 8080:80, 5353:53/udp)
//                             service "web" VIP 172.18.255.254 80/tcp 53/udp
//                             -> a, b; published 8081:80/tcp
//   n2 172.19.0.0/16          c .2 (-p 127.0.0.1:7070:70)
//   n3 172.20.0.0/16 internal d .2
//   n4 172.21.0.0/16 no ICC   e .2, f .3
//   uplink up0 192.0.2.1/24 (default route via 192.0.2.254), host
//   addresses: 127.0.0.1, 192.0.2.1 and every gateway.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/ip.h"
#include "datapath/datapath.h"

namespace bpfnet::fuzz {

using Bytes = std::vector<uint8_t>;
using MacBytes = std::array<uint8_t, 6>;

struct EndpointFacts {
  std::string container;
  std::string network_id;
  uint32_t ifindex = 0;  // its host veth, a real device of the fuzz namespace
  uint32_t ip = 0;       // host byte order, as every address here
  MacBytes mac{};        // the container's
  MacBytes gw_mac{};     // its host veth's: what the container sends to
};

struct NetworkFacts {
  std::string id;
  core::Cidr subnet;
  uint32_t gateway = 0;
  bool internal = false;
  bool icc = true;
};

// One host port forwarding to a container address (an endpoint's binding,
// or a service's: then one per backend).
struct Forwarding {
  uint32_t host_ip = 0;  // 0: every host address
  uint16_t host_port = 0;
  uint8_t proto = 0;  // IP protocol number
  uint32_t target_ip = 0;
};

// An unordered pair of addresses that some conntrack entry joins.
using AddressPair = std::pair<uint32_t, uint32_t>;

class PacketWorld {
 public:
  // The namespace, the links and the maps. Needs root. Once per process.
  static PacketWorld& get();

  datapath::Datapath& datapath() { return *datapath_; }
  uint32_t uplink_ifindex() const { return uplink_ifindex_; }
  const MacBytes& uplink_mac() const { return uplink_mac_; }
  const MacBytes& router_mac() const { return router_mac_; }

  const std::vector<EndpointFacts>& endpoints() const { return endpoints_; }
  const EndpointFacts* endpoint_by_ip(uint32_t ip) const;
  const EndpointFacts* endpoint_by_container(const std::string& name) const;
  const NetworkFacts& network(const std::string& id) const;
  bool is_host_address(uint32_t ip) const { return host_addresses_.contains(ip); }
  bool is_vip(uint32_t ip) const { return vips_.contains(ip); }
  // Whether a frame to host_ip:port/proto is published to `target_ip`.
  bool forwarded_to(uint32_t host_ip, uint16_t port, uint8_t proto, uint32_t target_ip) const;

  // The address pairs of every conntrack entry (both orders).
  std::set<AddressPair> conntrack_pairs();
  // Empties conntrack and the fragments' ports, so that an input always
  // meets the same world.
  void forget_flows();

 private:
  PacketWorld();
  void learn_facts();

  std::unique_ptr<datapath::Datapath> datapath_;
  uint32_t uplink_ifindex_ = 0;
  MacBytes uplink_mac_{};
  MacBytes router_mac_{};
  std::vector<EndpointFacts> endpoints_;
  std::vector<NetworkFacts> networks_;
  std::set<uint32_t> host_addresses_;
  std::set<uint32_t> vips_;
  std::vector<Forwarding> forwardings_;
};

}  // namespace bpfnet::fuzz
