// Load-balanced services (see "Services" in userspace/README.md): a virtual
// IP on a bridge network, ports, backends (containers on that network) with
// weights, optional published host ports, client-IP affinity and health
// checks. The structs live in core/state.h with the rest of the persisted
// state; here are the operations, which like those of core/engine.h validate
// everything first and change the State only when they succeed (strong
// guarantee), plus the Maglev input and the JSON of the control protocol.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/health.h"
#include "core/id_source.h"
#include "core/ip.h"
#include "core/json_fields.h"
#include "core/maglev.h"
#include "core/portmap.h"
#include "core/ports.h"
#include "core/remote_backend.h"
#include "core/state.h"

namespace bpfnet::core {

inline constexpr uint32_t kDefaultAffinityTimeoutS = 10800;  // 3 h, as Kubernetes
inline constexpr uint32_t kMaxAffinityTimeoutS = 86400;      // 1 day, as Kubernetes

// The args of service.create.
struct ServiceCreate {
  std::string name;
  std::string network;             // name, full ID or unique ID prefix
  std::optional<std::string> vip;  // default: the lowest free address (see core/ipam.h)
  std::vector<std::string> ports;  // "80/tcp", "53/udp", "8080" (tcp)
  // Docker -p specs whose container port is a service port: "8080:80/tcp",
  // "127.0.0.1:53:53/udp", "80" (ephemeral host port).
  std::vector<std::string> publish;
  // "client-ip" (timeout kDefaultAffinityTimeoutS), "client-ip:SECONDS" or
  // "none"; default none.
  std::optional<std::string> affinity;
  std::optional<uint64_t> table_size;  // default kDefaultMaglevTableSize
  std::optional<HealthCheckSpec> health;

  bool operator==(const ServiceCreate&) const = default;
};

// "80/tcp" -> (tcp, 80); the protocol is optional (tcp) and case-insensitive.
// Throws UserError `invalid service port "80-90": expected PORT[/PROTO] with
// PORT 1..65535, e.g. 80/tcp` or `Invalid proto: icmp`.
std::pair<Proto, uint16_t> parse_service_port(std::string_view text);
// "80/tcp".
std::string service_port_string(const std::pair<Proto, uint16_t>& port);

// "none" -> nullopt, "client-ip" -> 10800, "client-ip:60" -> 60. Throws
// UserError `invalid affinity "sticky": expected "none", "client-ip" or
// "client-ip:SECONDS"`, `invalid affinity timeout 0 in "client-ip:0": must be
// 1..86400 seconds`.
std::optional<uint32_t> parse_affinity(std::string_view text);

// Reads the service.create keys of a JSON object (name, network, vip?,
// ports, publish?, affinity?, table_size?, health?) into a ServiceCreate:
// types only, values are checked by create_service. Unknown keys are left to
// the caller (`fields.reject_unknown_keys()`), so the config file can add
// its own. Throws UserError naming the path, e.g.
// `config: services[0].ports[1]: expected a string`.
ServiceCreate read_service_create(JsonFields& fields);
// The same for a whole object, refusing unknown keys.
ServiceCreate service_create_from_json(const nlohmann::json& json, std::string_view root,
                                       const std::string& path);

// service.create. The name follows Docker's restricted pattern and is unique
// among services (`service with name api already exists`); the network is a
// bridge network; ports are valid and unique; the VIP is explicit (checked
// as --ip is, and never another service's VIP) or the lowest free address of
// the network's ip-range skipping `keep_free`; publish specs bind host ports
// under the rules of add_ports, against endpoints' and services' bindings
// alike (a spec without a host IP binds the network's
// com.docker.network.bridge.host_binding_ipv4), and need a non-internal
// network; the table size is a prime in 251..131071; the health check is
// valid (make_health_check). The service gets a fresh ID and the lowest free
// index. No backends yet. The reference is valid until the State changes.
const Service& create_service(State& state, const ServiceCreate& request, IdSource& ids,
                              const PortEnvironment& env, const std::set<Ipv4>& keep_free = {});

// As create_service, but for the config file: an existing service of that
// name is kept when everything the request states explicitly matches it
// (UserError `service api already exists with vip 10.1.0.9, not 10.1.0.7`);
// missing published ports are added (ensure_ports' rules). Returns the
// service.
const Service& ensure_service(State& state, const ServiceCreate& request, IdSource& ids,
                              const PortEnvironment& env, const std::set<Ipv4>& keep_free = {});

// service.add-backend: `container` (name or full container ID) must be
// connected to the service's network (`container web is not connected to
// network front of service api`) and not yet a backend of the service (a
// draining one included: remove it and add it again to undrain; it gets its
// old backend ID back if no other backend took it, and with it its old
// slots). Weight 1..kMaxBackendWeight. The backend gets the lowest free
// backend ID (over all services). A service takes at most
// table_size / kSlotsPerBackend backends. On an overlay network `container`
// may also be CONTAINER@HOST, a container on another host that `remote` (the
// cluster view) lists; `self` is this host's name (see core/remote_backend.h).
const Service& add_backend(State& state, const std::string& service, const std::string& container,
                           int64_t weight = 1, std::string_view self = {},
                           const std::vector<RemoteContainer>& remote = {});

// service.rm-backend. Throws UserError `container web is not a backend of
// service api`.
const Service& remove_backend(State& state, const std::string& service,
                              const std::string& container);

// service.drain: weight -> 0, so the backend takes no new flows while its
// existing ones finish. Draining a draining backend changes nothing.
const Service& drain_backend(State& state, const std::string& service,
                             const std::string& container);

// service.rm: removes and returns the service (its published ports go with
// it, its index and backend IDs become free).
Service remove_service(State& state, const std::string& service);

// The backends that belong in the Maglev table: weight > 0 and not in
// `unhealthy_backend_ids` (runtime health from the daemon). When every
// backend is unhealthy the result is empty and the table has no backend:
// the service refuses new flows rather than sending them to backends known
// to be down (no fail-open).
std::vector<MaglevBackend> maglev_input(const Service& service,
                                        const std::set<uint32_t>& unhealthy_backend_ids);

// The port a service's backends are health-checked on: its first TCP port
// (the probes connect, and an HTTP check needs TCP). 0 for a service with
// UDP ports only: there is nothing to connect to, its backends are not
// probed and count as healthy while their containers are connected (a TCP
// connect to a UDP port is refused, which took every backend out).
uint16_t health_check_port(const Service& service);

// What the daemon knows about a backend at run time. A backend without an
// entry is shown healthy with no flows (a new backend is healthy until its
// checks say otherwise, see HealthState).
struct BackendRuntime {
  bool healthy = true;
  std::string last_error;
  uint64_t flows = 0;
  std::string ip{};  // a backend on another host: its address, if the cluster has it
};

// The service inspect object of the README: {"Name","Id","Network" (name),
// "VIP","Ports":["80/tcp"],"Published":[Binding…] (container_ip is the VIP),
// "Affinity":{"Mode":"none"|"client-ip","TimeoutSeconds" (0 for none)},
// "TableSize","HealthCheck" (health_to_json),"Backends":[{"Container","IP",
// "Weight","State":"healthy"|"unhealthy"|"draining","LastError","Flows"}]},
// backends in the order they were added. A draining backend shows
// "draining" whatever its health.
nlohmann::json service_inspect(const State& state, const Service& service,
                               const std::map<uint32_t, BackendRuntime>& runtime = {});

// service.ls: every service's inspect object, sorted by name.
nlohmann::json services_json(const State& state,
                             const std::map<uint32_t, BackendRuntime>& runtime = {});

}  // namespace bpfnet::core
