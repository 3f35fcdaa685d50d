// The values stored under the cluster keys (cluster_keys.h), as JSON. Unknown
// fields are ignored when reading, so a newer bpfnetd may add some.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/health.h"
#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::store {

using core::kVxlanIdListOption;
// VNIs handed out automatically start here (below are the 802.1Q IDs, which
// Docker avoids for Windows hosts) and end at 2^24 - 1.
inline constexpr uint32_t kFirstAutoVni = 4096;
inline constexpr uint32_t kMaxVni = core::kMaxVni;

struct HostRecord {
  std::string name;
  core::Ipv4 underlay;
  // The host's local (bridge) networks' subnets: an overlay may overlap none.
  std::vector<core::Cidr> local_subnets;

  bool operator==(const HostRecord&) const = default;
};

// A global (overlay) network: bpfnet's network fields plus its VNI.
struct NetworkRecord {
  std::string id;  // 64 lowercase hex, chosen by the creating host
  std::string name;
  std::string created;  // RFC 3339
  core::Cidr subnet;
  core::Ipv4 gateway;  // the same on every host
  std::optional<core::Cidr> ip_range;
  bool internal = false;
  std::map<std::string, std::string> options;  // the -o map, verbatim
  uint32_t vni = 0;
  std::string created_by;  // host name

  bool operator==(const NetworkRecord&) const = default;
};

// Who holds an address of an overlay network.
struct AddressRecord {
  std::string host;
  std::string owner;  // the endpoint ID it is for

  bool operator==(const AddressRecord&) const = default;
};

// An endpoint of an overlay network, where it lives: what every other host's
// tunnel map needs, plus names for inspect.
struct EndpointRecord {
  std::string network_id;
  std::string endpoint_id;
  std::string container;
  std::string host;
  core::Ipv4 ip;
  core::Mac mac;

  bool operator==(const EndpointRecord&) const = default;
};

// A backend of a service on another host (services across hosts): the
// service's host asks the backend's host to probe it with the service's
// health check, so that each backend is probed by its own host.
struct CheckRecord {
  std::string service;       // the service's name, for logs
  std::string service_host;  // the host whose service it is
  std::string network_id;
  std::string endpoint_id;  // the backend's endpoint
  std::string host;         // the backend's host, which probes it
  uint16_t port = 0;        // the TCP port probed
  core::HealthCheck health;

  bool operator==(const CheckRecord&) const = default;
};

// How the probes of a CheckRecord go, as the backend's host says. No record:
// healthy (a new backend takes traffic at once, as a local one does).
struct BackendHealthRecord {
  std::string host;  // the backend's host, which probed it
  bool healthy = true;
  std::string last_error;  // of the last failed probe, while unhealthy

  bool operator==(const BackendHealthRecord&) const = default;
};

// A service of the cluster (Swarm's routing mesh, core/service_mesh.h):
// every host makes it. `service` as the creating host made it (its index and
// backend IDs are that host's), its backends named CONTAINER@HOST.
struct ServiceRecord {
  std::string created_by;  // host name
  core::Service service;

  bool operator==(const ServiceRecord&) const = default;
};

// Who holds a service's VIP in the cluster's IPAM (AddressRecord::owner).
std::string vip_owner(std::string_view service);

std::string to_json(const HostRecord& host);
std::string to_json(const ServiceRecord& service);
std::string to_json(const NetworkRecord& network);
std::string to_json(const AddressRecord& address);
std::string to_json(const EndpointRecord& endpoint);
std::string to_json(const CheckRecord& check);
std::string to_json(const BackendHealthRecord& health);

// Each throws core::UserError naming the key and the bad field
// (`/bpfnet/v1/hosts/h1: underlay: invalid IPv4 address "x"`).
HostRecord host_from_json(std::string_view key, std::string_view json);
NetworkRecord network_from_json(std::string_view key, std::string_view json);
AddressRecord address_from_json(std::string_view key, std::string_view json);
EndpointRecord endpoint_from_json(std::string_view key, std::string_view json);
CheckRecord check_from_json(std::string_view key, std::string_view json);
BackendHealthRecord backend_health_from_json(std::string_view key, std::string_view json);
ServiceRecord service_from_json(std::string_view key, std::string_view json);

// The VNI asked for with -o vxlanid_list=N, or nullopt for "pick one".
// Throws core::UserError for anything but one decimal VNI 1..2^24-1.
std::optional<uint32_t> requested_vni(const std::map<std::string, std::string>& options);

}  // namespace bpfnet::store
