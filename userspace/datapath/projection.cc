#include "datapath/projection.h"

#include <optional>

#include "bpfnet_abi.h"
#include "core/ports.h"
#include "core/remote_backend.h"

namespace bpfnet::datapath {

namespace {

uint32_t network_flags(const core::Network& net) {
  uint32_t flags = 0;
  if (net.parsed.icc) flags |= BPFNET_NET_F_ICC;
  // Internal networks never masquerade (Docker), whatever the option says.
  if (net.parsed.masquerade && !net.internal) flags |= BPFNET_NET_F_MASQUERADE;
  if (net.internal) flags |= BPFNET_NET_F_INTERNAL;
  if (net.overlay()) flags |= BPFNET_NET_F_OVERLAY;
  return flags;
}

PortMapEntry portmap_entry(const core::PortBinding& b, uint32_t backend_ip) {
  return PortMapEntry{b.host_ip.value, b.host_port, core::ip_protocol_number(b.proto), backend_ip,
                      b.container_port};
}

// The address of a service backend: a local endpoint's, or, for
// CONTAINER@HOST, the cluster's for that container (none while it is gone).
std::optional<uint32_t> backend_ip(const core::State& state, const HostFacts& host,
                                   const core::Service& svc, const core::ServiceBackend& be) {
  if (const core::Endpoint* ep = state.endpoint(svc.network_id, be.container)) return ep->ip.value;
  if (!core::is_remote_backend(be.container)) return std::nullopt;
  const core::BackendName name = core::split_backend_name(be.container);
  for (const auto& [ip, remote] : host.remote_endpoints)
    if (remote.network_id == svc.network_id && remote.container == name.container &&
        remote.host == name.host)
      return ip;
  return std::nullopt;
}

void project_services(const core::State& state, const HostFacts& host, MapContents& out) {
  for (const auto& svc : state.services) {
    const core::Network* net = state.network_by_id(svc.network_id);
    if (!net) continue;
    for (const auto& [proto, port] : svc.ports)
      out.add_service(ServiceEntry{svc.vip.value, port, core::ip_protocol_number(proto), svc.index,
                                   svc.table_size, svc.affinity_timeout_s.value_or(0)});
    out.vips[svc.vip.value] = net->index;
    for (const auto& b : svc.published) out.add_portmap(portmap_entry(b, svc.vip.value));
    for (const auto& be : svc.backends)
      if (std::optional<uint32_t> ip = backend_ip(state, host, svc, be)) out.backends[be.id] = *ip;
  }
}

uint32_t lb_address(const HostFacts& host, const core::Network& net) {
  auto it = host.lb_addresses.find(net.id);
  return it == host.lb_addresses.end() ? 0 : it->second.value;
}

}  // namespace

std::optional<TunnelEntry> tunnel_entry(const core::State& state, uint32_t ip,
                                        const RemoteEndpointFact& remote) {
  const core::Network* net = state.network_by_id(remote.network_id);
  if (!net || !net->overlay()) return std::nullopt;
  return TunnelEntry{ip, remote.underlay.value, remote.vni, net->index, remote.mac};
}

MapContents project(const core::State& state, const std::map<std::string, HostLink>& links,
                    const HostFacts& host) {
  MapContents out;
  for (const auto& [ifindex, up] : host.uplinks)
    out.uplinks[ifindex] = UplinkEntry{ifindex, up.ip.value, up.mac};
  for (const auto& addr : host.addresses) out.host_addrs[addr.value] = 0;
  for (const auto& net : state.networks) {
    if (net.builtin || !net.subnet) continue;
    out.networks[net.index] = NetworkEntry{net.index,
                                           net.subnet->network().value,
                                           net.subnet->prefix_len,
                                           net.gateway.value,
                                           network_flags(net),
                                           net.parsed.effective_mtu(host.default_mtu_of(net)),
                                           net.vni,
                                           lb_address(host, net)};
  }
  for (const auto& [ip, remote] : host.remote_endpoints)
    if (std::optional<TunnelEntry> entry = tunnel_entry(state, ip, remote))
      out.tunnels[ip] = *entry;
  for (const auto& ep : state.endpoints) {
    auto link = links.find(ep.id);
    const core::Network* net = state.network_by_id(ep.network_id);
    if (link == links.end() || !net) continue;
    out.add_endpoint(EndpointEntry{link->second.ifindex, net->index, ep.ip.value, ep.mac.bytes,
                                   link->second.mac});
    for (const auto& b : ep.ports) out.add_portmap(portmap_entry(b, ep.ip.value));
  }
  project_services(state, host, out);
  return out;
}

}  // namespace bpfnet::datapath
