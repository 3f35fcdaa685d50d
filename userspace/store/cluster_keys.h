// Where the cluster's shared state lives in the store. One root, versioned,
// so a later layout can live beside this one during an upgrade. The layout is
// documented in userspace/README.md ("Cluster store").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip.h"

namespace bpfnet::store::keys {

inline constexpr std::string_view kRoot = "/bpfnet/v1/";

// /bpfnet/v1/hosts/<host>: HostRecord, under the host's lease.
std::string hosts_prefix();
std::string host(std::string_view name);
// /bpfnet/v1/networks/<network-id>: NetworkRecord, no lease (global networks
// outlive the host that created them).
std::string networks_prefix();
std::string network(std::string_view id);
// /bpfnet/v1/vnis/<vni>: the network ID holding the VNI.
std::string vnis_prefix();
std::string vni(uint32_t vni);
// /bpfnet/v1/ipam/<network-id>/<ip>: AddressRecord, under the allocating
// host's lease.
std::string addresses_prefix(std::string_view network_id);
std::string address(std::string_view network_id, core::Ipv4 ip);
// /bpfnet/v1/endpoints/<network-id>/<endpoint-id>: EndpointRecord, under the
// endpoint's host's lease.
std::string all_endpoints_prefix();
std::string endpoints_prefix(std::string_view network_id);
std::string endpoint(std::string_view network_id, std::string_view endpoint_id);
// Services across hosts: a service's host asks the host of each of its
// remote backends to probe it, and that host says how the probes go.
// /bpfnet/v1/checks/<service-id>/<endpoint-id>: CheckRecord, under the
// service's host's lease.
std::string check(std::string_view service_id, std::string_view endpoint_id);
// /bpfnet/v1/backends/<service-id>/<endpoint-id>: BackendHealthRecord,
// under the backend's host's lease.
std::string backends_prefix(std::string_view service_id);
std::string backend(std::string_view service_id, std::string_view endpoint_id);

// /bpfnet/v1/services/<name>: ServiceRecord, no lease (a service of the
// cluster outlives the host that created it, as Swarm's do). By name, so
// that creating one is a create-if-absent on its name.
std::string services_prefix();
std::string service(std::string_view name);

// What a key under kRoot names, for the watcher.
struct ParsedKey {
  enum class Kind {
    kHost,
    kNetwork,
    kVni,
    kAddress,
    kEndpoint,
    kCheck,
    kBackend,
    kService,
    kOther
  };
  Kind kind = Kind::kOther;
  std::string first;   // host name, network ID, VNI text, service ID or name
  std::string second;  // endpoint ID, address text
};
ParsedKey parse(std::string_view key);

}  // namespace bpfnet::store::keys
