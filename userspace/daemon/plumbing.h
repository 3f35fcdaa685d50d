// What the controller needs from the host's links, addresses and routes.
// NetlinkPlumbing implements it with the netlink layer; tests can fake it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip.h"
#include "core/portmap.h"
#include "core/state.h"
#include "datapath/host_facts.h"

namespace bpfnet::daemon {

// The host's side of an endpoint and of an uplink, as the projection
// consumes them.
using datapath::HostLink;
using datapath::UplinkInfo;

// An interface holding an address, and the address's prefix length.
struct AddressLink {
  uint32_t ifindex = 0;
  unsigned prefix_len = 0;
  bool operator==(const AddressLink&) const = default;
};

class Plumbing {
 public:
  virtual ~Plumbing() = default;
  // The host's IPv4 routes (Docker's automatic pools avoid them).
  virtual std::vector<core::Cidr> host_routes() = 0;
  // Throws core::UserError when the namespace does not exist.
  virtual void check_netns(const std::string& netns) = 0;
  virtual bool netns_exists(const std::string& netns) = 0;
  // `network connect none`: the namespace's loopback up, nothing else.
  virtual void loopback_only(const std::string& netns) = 0;
  // The network's host-side interface holding the gateway address. Idempotent.
  virtual void ensure_network(const core::Network& network) = 0;
  virtual void remove_network(const core::Network& network) = 0;
  virtual std::optional<HostLink> host_link(const std::string& host_ifname) = 0;
  // Creates the veth pair and configures the container end inside its
  // namespace (name, MAC, MTU, address, default route when asked). On error
  // nothing of it is left behind.
  virtual HostLink plumb_endpoint(const core::Network& network, const core::Endpoint& endpoint,
                                  bool default_route) = 0;
  // A Docker endpoint's veth pair, both ends in this (the host) namespace:
  // the host side up, the container side (`endpoint.ifname`) down with the
  // endpoint's MAC, both with the network's MTU, and the /32 route to the
  // container. Docker moves the container side into the sandbox, renames it
  // and configures its address and routes. On error nothing is left behind.
  virtual HostLink plumb_docker_endpoint(const core::Network& network,
                                         const core::Endpoint& endpoint) = 0;
  // Points the container's default route at `network`'s gateway through
  // `endpoint` (when the network that had it is disconnected, as Docker does).
  virtual void set_default_route(const core::Network& network, const core::Endpoint& endpoint) = 0;
  // Deletes the veth pair (both ends). Idempotent.
  virtual void unplumb_endpoint(const core::Endpoint& endpoint) = 0;
  // Interfaces bpfnet created in the host namespace (by name prefix).
  virtual std::vector<std::string> managed_links() = 0;
  virtual void delete_link(const std::string& name) = 0;

  // Throws core::UserError when the interface does not exist or has no IPv4 address.
  virtual UplinkInfo uplink(const std::string& name) = 0;
  // The collect-metadata VXLAN device overlay networks tunnel through
  // (kVxlanDevice, UDP 4789), created or resized to `mtu`; its ifindex.
  virtual uint32_t ensure_vxlan_device(unsigned mtu) = 0;
  // Every IPv4 address of the host namespace (published ports answer on them).
  virtual std::vector<core::Ipv4> host_addresses() = 0;
  // The interface `address` is on, with its prefix: where tunnelled packets
  // leave and arrive (the underlay). nullopt when no interface has it.
  virtual std::optional<AddressLink> address_link(core::Ipv4 address) = 0;
  // net.ipv4.ip_forward=1: needed to route between containers and uplinks.
  virtual void enable_forwarding() = 0;
  virtual uint64_t netns_cookie() = 0;
  // Ephemeral range, reserved ports and listening sockets of the host.
  virtual core::PortEnvironment port_environment() = 0;
};

}  // namespace bpfnet::daemon
