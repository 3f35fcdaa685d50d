// Plumbing over the netlink layer: a dummy per network holding the gateway,
// a veth pair per endpoint with the container end configured inside its
// namespace (or left in the host namespace for Docker to move), and a /32
// route per container on the host side.
#pragma once

#include "daemon/plumbing.h"
#include "netlink/rtnetlink.h"

namespace bpfnet::daemon {

class NetlinkPlumbing final : public Plumbing {
 public:
  std::vector<core::Cidr> host_routes() override;
  void check_netns(const std::string& netns) override;
  bool netns_exists(const std::string& netns) override;
  void loopback_only(const std::string& netns) override;
  void ensure_network(const core::Network& network) override;
  void remove_network(const core::Network& network) override;
  std::optional<HostLink> host_link(const std::string& host_ifname) override;
  HostLink plumb_endpoint(const core::Network& network, const core::Endpoint& endpoint,
                          bool default_route) override;
  HostLink plumb_docker_endpoint(const core::Network& network,
                                 const core::Endpoint& endpoint) override;
  void set_default_route(const core::Network& network, const core::Endpoint& endpoint) override;
  void unplumb_endpoint(const core::Endpoint& endpoint) override;
  std::vector<std::string> managed_links() override;
  void delete_link(const std::string& name) override;
  UplinkInfo uplink(const std::string& name) override;
  uint32_t ensure_vxlan_device(unsigned mtu) override;
  std::vector<core::Ipv4> host_addresses() override;
  std::optional<AddressLink> address_link(core::Ipv4 address) override;
  void enable_forwarding() override;
  uint64_t netns_cookie() override;
  core::PortEnvironment port_environment() override;

 private:
  // The host side of a plumbed veth: IPv6 off, up, the /32 to the container.
  HostLink finish_host_side(const core::Network& network, const core::Endpoint& endpoint);
  netlink::Netlink host_;  // the daemon's own ("host") namespace
};

}  // namespace bpfnet::daemon
