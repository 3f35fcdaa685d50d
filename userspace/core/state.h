// The desired state: every network, endpoint and service bpfnet manages, and
// the format of the state file that persists it.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/health.h"
#include "core/id_source.h"
#include "core/ip.h"
#include "core/maglev.h"
#include "core/options.h"
#include "core/ports.h"

namespace bpfnet::core {

inline constexpr int kStateVersion = 1;

inline constexpr std::string_view kDriverBridge = "bridge";
inline constexpr std::string_view kDriverHost = "host";
inline constexpr std::string_view kDriverNull = "null";  // what Docker shows for "none"
// Spans the hosts of a cluster store (bpfnetd --store): the network and its
// addresses live in the store, every host mirrors it into its own State.
inline constexpr std::string_view kDriverOverlay = "overlay";
// VXLAN network identifiers are 24 bits; 0 means none.
inline constexpr uint32_t kMaxVni = (1u << 24) - 1;
// Docker's option naming the VNI(s) of an overlay network.
inline constexpr std::string_view kVxlanIdListOption =
    "com.docker.network.driver.overlay.vxlanid_list";
inline constexpr std::string_view kHostNetworkName = "host";
inline constexpr std::string_view kNoneNetworkName = "none";

struct Network {
  std::string id;  // 64 lowercase hex
  std::string name;
  std::string driver;            // "bridge", or "host"/"null" for the builtin networks
  std::string created;           // RFC 3339, as given by the caller
  std::optional<Cidr> subnet;    // set for every bridge network
  Ipv4 gateway;                  // the host's address on the network; 0.0.0.0 for builtins
  std::optional<Cidr> ip_range;  // where dynamic addresses come from, if narrower than subnet
  bool internal = false;
  std::map<std::string, std::string> options;  // the -o map, verbatim
  NetworkOptions parsed;                       // the interpreted part of `options`
  uint32_t index = 0;                          // BPF map key: lowest free >= 1; 0 for builtins
  std::string dummy_ifname;  // "bn-" + id[:12], holds the gateway; empty for builtins
  bool builtin = false;
  // Created by Docker through the network-driver plugin (daemon/docker_driver.h):
  // `id` is Docker's NetworkID, Docker's IPAM hands out the addresses, and
  // only Docker connects containers to it or removes it.
  bool docker = false;
  // Docker's --aux-address NAME=IP: addresses of the subnet no endpoint or
  // service may take.
  std::map<std::string, Ipv4> aux_addresses;
  // Overlay networks: the VXLAN network identifier the cluster gave it.
  uint32_t vni = 0;
  // Overlay networks: Docker's NetworkID of the Docker network that is this
  // overlay on this host (`docker network create -d bpfnet` on the overlay's
  // global IPAM pool, core/docker_overlay.cc); empty: none. Docker's
  // endpoints on the overlay are this host's Docker containers on it.
  std::string docker_network_id;

  bool overlay() const { return driver == kDriverOverlay; }
  // Docker's NetworkID for it: its own ID (a Docker network), its face's
  // (an overlay Docker is on), else empty.
  const std::string& docker_id() const { return docker ? id : docker_network_id; }
  bool operator==(const Network&) const = default;
};

// An endpoint is either plumbed by bpfnet into a namespace the user names
// (`netns`), or created by Docker (`docker`): bpfnet then makes the veth pair
// in its own namespace at Join and Docker moves the container side into the
// sandbox, renames it and configures it.
struct Endpoint {
  std::string id;  // 64 lowercase hex; Docker's EndpointID for Docker endpoints
  std::string network_id;
  // Container name; for Docker endpoints id[:12] (Docker sends no name).
  std::string container;
  // 64 hex, shared by all endpoints of a container; for Docker endpoints
  // their own id (Docker sends no container ID either).
  std::string container_id;
  std::string netns;  // as given by the user; empty for Docker endpoints
  // eth0, eth1... inside the container; for Docker endpoints the name the
  // container side has until Docker renames it: "bnc" + id[:11].
  std::string ifname;
  std::string host_ifname;  // "bnv" + id[:11]: the host side of the veth
  bool docker = false;
  // Docker endpoints: the SandboxKey of the Join (the container's netns
  // path); empty until Join and after Leave. The veth exists while it is set.
  std::string sandbox;
  Ipv4 ip;
  Mac mac;
  // Published ports forwarded to `ip`, sorted. Dropped with the endpoint.
  std::vector<PortBinding> ports;

  // Whether bpfnet keeps a veth for it: always for netns endpoints, between
  // Join and Leave for Docker endpoints.
  bool plumbed() const { return !docker || !sandbox.empty(); }
  bool operator==(const Endpoint&) const = default;
};

// Service limits. Indexes and backend IDs key BPF arrays of these sizes.
inline constexpr uint32_t kMaxServices = 1024;     // indexes 1..1023
inline constexpr uint32_t kMaxBackendIds = 65536;  // backend IDs 1..65535
inline constexpr uint32_t kMaxBackendWeight = 65535;
// A service has at most table_size / kSlotsPerBackend backends, so that
// Maglev keeps every backend within 1% of its share (about one slot in 100).
inline constexpr uint32_t kSlotsPerBackend = 100;

// One container behind a service (see core/service.h). Health is runtime
// state of the daemon, not persisted.
struct ServiceBackend {
  std::string container;  // container name, connected to the service's network
  // Stable, unique across all services, 1..kMaxBackendIds-1: the Maglev
  // permutation is derived from it and the datapath keys backends by it.
  uint32_t id = 0;
  uint32_t weight = 1;  // 0..kMaxBackendWeight; 0: draining (no new flows)

  bool drained() const { return weight == 0; }
  bool operator==(const ServiceBackend&) const = default;
};

// A load-balanced service: flows to vip:port (or to a published host port)
// go to one backend, chosen by Maglev over the 5-tuple.
struct Service {
  std::string id;  // 64 lowercase hex
  std::string name;
  std::string network_id;  // a bridge network
  Ipv4 vip;                // in the network's subnet, no endpoint's address
  // (proto, port), sorted by port then protocol, unique, at least one.
  std::vector<std::pair<Proto, uint16_t>> ports;
  // Host bindings to vip:container_port, sorted; container_port/proto is one
  // of `ports`. They share the host's ports with endpoint bindings.
  std::vector<PortBinding> published;
  std::optional<uint32_t> affinity_timeout_s;  // client-IP affinity, if set
  uint32_t table_size = kDefaultMaglevTableSize;
  HealthCheck health;
  std::vector<ServiceBackend> backends;  // in the order they were added
  uint32_t index = 0;                    // BPF map key: lowest free >= 1
  // A service of the cluster (Swarm's routing mesh, core/service_mesh.h):
  // its definition lives in the cluster store and every host has it; this
  // host removes it when the store's record goes, also while it was away.
  bool global = false;

  const ServiceBackend* backend(std::string_view container) const;
  bool operator==(const Service&) const = default;
};

// Docker's IPAM driver's address spaces (GetDefaultAddressSpaces).
inline constexpr std::string_view kLocalAddressSpace = "LocalDefault";
inline constexpr std::string_view kGlobalAddressSpace = "GlobalDefault";

// A pool bpfnet hands out to Docker as its IPAM driver (core/docker_ipam.h):
// Docker asks for the subnet, then for every address in it (gateway,
// auxiliary addresses, containers), and the network driver programs exactly
// those. Pools overlap no other pool and no network but the one built on
// them (same subnet).
struct IpamPool {
  std::string id;             // "<address space>/<pool>[/<sub-pool>]"
  std::string address_space;  // kLocalAddressSpace or kGlobalAddressSpace
  Cidr pool;
  std::optional<Cidr> sub_pool;                // --ip-range: dynamic addresses come from it only
  std::map<std::string, std::string> options;  // --ipam-opt, verbatim
  // Global pools are an overlay network's subnet: their addresses are taken
  // in the cluster store too, so no two hosts hand out the same one.
  std::string overlay_network_id;
  // Every address handed out, with what it is for: "gateway", the endpoint
  // Docker named (when Docker sends the endpoint's name), else "" (an auxiliary
  // address, an endpoint Docker did not name).
  std::map<Ipv4, std::string> addresses;

  bool operator==(const IpamPool&) const = default;
};

struct State {
  int version = kStateVersion;
  std::vector<Network> networks;
  std::vector<Endpoint> endpoints;
  // Host interfaces facing clients (the datapath's uplinks), by name, unique.
  std::vector<std::string> uplinks;
  std::vector<Service> services;
  std::vector<IpamPool> ipam_pools;

  // Pointers stay valid until the next change to the State. nullptr: absent.
  const Network* network_by_name(std::string_view name) const;
  const Network* network_by_id(std::string_view id) const;
  // The one network whose ID starts with `prefix`. Throws UserError
  // `network P is ambiguous (N matches found based on ID prefix)`.
  const Network* network_by_id_prefix(std::string_view prefix) const;
  // Docker's lookup order: full ID, then name, then unique ID prefix.
  const Network* find_network(std::string_view name_or_id) const;
  // find_network, throwing UserError `network NAME not found`.
  const Network& get_network(std::string_view name_or_id) const;
  // The network Docker's NetworkID stands for: a Docker network's own, or
  // the overlay network it is the face of on this host. nullptr: neither.
  const Network* docker_network(std::string_view docker_network_id) const;

  std::vector<const Endpoint*> endpoints_of_network(std::string_view network_id) const;
  std::vector<const Endpoint*> endpoints_of_container(std::string_view container) const;
  const Endpoint* endpoint(std::string_view network_id, std::string_view container) const;
  const Endpoint* endpoint_by_id(std::string_view id) const;

  const Service* service_by_name(std::string_view name) const;
  // Docker's lookup order, as for networks: full ID, name, unique ID prefix.
  // Throws UserError `service P is ambiguous (N matches found based on ID
  // prefix)`.
  const Service* find_service(std::string_view name_or_id) const;
  // find_service, throwing UserError `service NAME not found`.
  const Service& get_service(std::string_view name_or_id) const;
  std::vector<const Service*> services_of_network(std::string_view network_id) const;

  const IpamPool* ipam_pool_by_id(std::string_view id) const;
  // The pool a network is built on: the one whose pool is its subnet.
  const IpamPool* ipam_pool_of(const Network& network) const;

  bool operator==(const State&) const = default;
};

// A State holding only the builtin networks "host" and "none" (Docker creates
// them on first start, with random IDs, and they can never be removed).
State initial_state(IdSource& ids, const std::string& now);

// An endpoint's "ports" and the top-level "uplinks", "services" and
// "ipam_pools" are
// written only when non-empty, and read as empty when absent (files from
// before they existed).
nlohmann::json to_json(const State& state);

// Parses and fully validates a state file (see validate_state). Throws
// UserError naming the bad field path, e.g.
// `state: networks[1].subnet: invalid CIDR "10.0.0/8"`.
State state_from_json(const nlohmann::json& json);

// One service as the state file has it (also the cluster store's service
// records, store/cluster_records.h). Throws UserError as state_from_json.
nlohmann::json service_to_json(const Service& service);
Service service_from_json(const nlohmann::json& json, const std::string& path);

// Checks every invariant the engine maintains: unique IDs, names, indexes,
// interface names, addresses; endpoints on existing bridge networks; both
// builtin networks present; published ports sorted per endpoint, never on an
// internal network, and free of conflicts (see add_ports); uplinks valid and
// unique interface names; services valid (unique names, IDs, indexes and
// backend IDs, VIPs inside their network and used by no endpoint or other
// service, backends connected to the network, table sizes and health checks
// valid); no more of anything than the datapath's maps hold. The full list,
// part by part, is in core/state_validate.h. Throws UserError as
// state_from_json does.
void validate_state(const State& state);

}  // namespace bpfnet::core
