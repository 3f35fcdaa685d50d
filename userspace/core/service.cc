#include "core/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "core/ipam.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/numbers.h"

namespace bpfnet::core {
namespace {

using ServicePort = std::pair<Proto, uint16_t>;

constexpr std::string_view kAffinityNone = "none";
constexpr std::string_view kAffinityClientIp = "client-ip";

// Services list their ports by number, then protocol: 53/tcp, 53/udp, 80/tcp.
bool port_less(const ServicePort& a, const ServicePort& b) {
  return std::pair(a.second, a.first) < std::pair(b.second, b.first);
}

std::string ports_string(const std::vector<ServicePort>& ports) {
  std::string result;
  for (const ServicePort& port : ports) {
    if (!result.empty()) result += ", ";
    result += service_port_string(port);
  }
  return result;
}

std::string affinity_string(const std::optional<uint32_t>& timeout) {
  if (!timeout) return std::string(kAffinityNone);
  return fmt::format("{}:{}", kAffinityClientIp, *timeout);
}

std::vector<ServicePort> parse_ports(const std::vector<std::string>& texts) {
  if (texts.empty()) throw UserError("a service needs at least one port, e.g. 80/tcp");
  std::vector<ServicePort> ports;
  for (const std::string& text : texts) ports.push_back(parse_service_port(text));
  std::sort(ports.begin(), ports.end(), port_less);
  auto twice = std::adjacent_find(ports.begin(), ports.end());
  if (twice != ports.end()) {
    throw UserError(fmt::format("service port {} is listed twice", service_port_string(*twice)));
  }
  return ports;
}

const Network& service_network(const State& state, const std::string& name_or_id,
                               const std::string& service) {
  const Network& network = state.get_network(name_or_id);
  if (network.builtin) {
    throw UserError(fmt::format(
        "service {} cannot use the builtin network {}: only bridge networks take services", service,
        network.name));
  }
  return network;
}

uint32_t table_size_of(const std::optional<uint64_t>& requested) {
  if (!requested) return kDefaultMaglevTableSize;
  if (*requested > std::numeric_limits<uint32_t>::max()) {
    throw UserError(fmt::format("invalid table size {}: must be a prime between {} and {}",
                                *requested, kMinMaglevTableSize, kMaxMaglevTableSize));
  }
  auto size = static_cast<uint32_t>(*requested);
  check_maglev_table_size(size);
  return size;
}

// The -p specs of a service, each container port one of its ports.
std::vector<PortRequest> publish_requests(const std::string& service,
                                          const std::vector<ServicePort>& ports,
                                          const Network& network,
                                          const std::vector<std::string>& specs) {
  std::vector<PortRequest> requests;
  for (const std::string& spec : specs) {
    for (const PortRequest& request : parse_port_spec(spec)) {
      ServicePort port{request.proto, request.container_port};
      if (std::find(ports.begin(), ports.end(), port) == ports.end()) {
        throw UserError(fmt::format("cannot publish {}: {} is not a port of service {}", spec,
                                    service_port_string(port), service));
      }
      requests.push_back(request);
    }
  }
  if (!requests.empty() && network.internal) {
    throw UserError(fmt::format("cannot publish ports of service {}: network {} is internal",
                                service, network.name));
  }
  return requests;
}

std::vector<PortBinding> merged(const std::vector<PortBinding>& published,
                                const std::vector<PortBinding>& added) {
  std::vector<PortBinding> result = published;
  result.insert(result.end(), added.begin(), added.end());
  std::sort(result.begin(), result.end());
  return result;
}

uint32_t lowest_free_service_index(const State& state) {
  std::vector<uint32_t> used;
  for (const Service& service : state.services) used.push_back(service.index);
  return lowest_free_index(kServiceIndexes, used, "cannot create service");
}

// The lowest free ID, so that a backend removed and added again (an undrain)
// gets its old permutation and slots back unless another backend took it.
uint32_t lowest_free_backend_id(const State& state) {
  std::vector<uint32_t> used;
  for (const Service& service : state.services) {
    for (const ServiceBackend& backend : service.backends) used.push_back(backend.id);
  }
  return lowest_free_index(kBackendIds, used, "cannot add backend");
}

Service& mutable_service(State& state, const Service& service) {
  return state.services[static_cast<size_t>(&service - state.services.data())];
}

const Network& network_of(const State& state, const Service& service) {
  const Network* network = state.network_by_id(service.network_id);
  // validate_state guarantees this; reaching it means the caller broke the State.
  if (network == nullptr || !network->subnet) {
    throw std::logic_error("service " + service.id + " refers to no bridge network");
  }
  return *network;
}

// The endpoint of `container` (name or full container ID) on the service's
// network.
const Endpoint& backend_endpoint(const State& state, const Service& service,
                                 const std::string& container) {
  const Network& network = network_of(state, service);
  for (const Endpoint* endpoint : state.endpoints_of_network(network.id)) {
    if (endpoint->container == container || endpoint->container_id == container) return *endpoint;
  }
  bool exists = std::any_of(state.endpoints.begin(), state.endpoints.end(), [&](const Endpoint& e) {
    return e.container == container || e.container_id == container;
  });
  if (!exists) throw UserError(fmt::format("No such container: {}", container));
  throw UserError(fmt::format("container {} is not connected to network {} of service {}",
                              container, network.name, service.name));
}

// The position of the backend `container` (name, or full container ID of a
// connected container) in the service.
size_t backend_index(const State& state, const Service& service, const std::string& container) {
  std::string name = container;
  if (service.backend(container) == nullptr && is_hex_id(container)) {
    for (const Endpoint* endpoint : state.endpoints_of_network(service.network_id)) {
      if (endpoint->container_id == container) name = endpoint->container;
    }
  }
  const ServiceBackend* backend = service.backend(name);
  if (backend == nullptr) {
    throw UserError(
        fmt::format("container {} is not a backend of service {}", container, service.name));
  }
  return static_cast<size_t>(backend - service.backends.data());
}

[[noreturn]] void differs(const Service& service, std::string_view setting, std::string_view has,
                          std::string_view wanted) {
  throw UserError(fmt::format("service {} already exists with {} {}, not {}", service.name, setting,
                              has, wanted));
}

nlohmann::json published_json(const Service& service, const Network& network) {
  nlohmann::json bindings = nlohmann::json::array();
  for (const PortBinding& binding : service.published) {
    bindings.push_back({
        {"proto", to_string(binding.proto)},
        {"container_port", binding.container_port},
        {"host_ip", binding.host_ip.to_string()},
        {"host_port", binding.host_port},
        {"network", network.name},
        {"container_ip", service.vip.to_string()},
    });
  }
  return bindings;
}

}  // namespace

std::pair<Proto, uint16_t> parse_service_port(std::string_view text) {
  size_t slash = text.find('/');
  auto port = parse_decimal(text.substr(0, slash), 65535);
  if (!port || *port == 0) {
    throw UserError(fmt::format(
        "invalid service port \"{}\": expected PORT[/PROTO] with PORT 1..65535, e.g. 80/tcp",
        text));
  }
  Proto proto = Proto::kTcp;
  if (slash != std::string_view::npos) {
    std::string name(text.substr(slash + 1));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    proto = parse_proto(name);
  }
  return {proto, static_cast<uint16_t>(*port)};
}

std::string service_port_string(const std::pair<Proto, uint16_t>& port) {
  return fmt::format("{}/{}", port.second, to_string(port.first));
}

std::optional<uint32_t> parse_affinity(std::string_view text) {
  if (text == kAffinityNone) return std::nullopt;
  if (text == kAffinityClientIp) return kDefaultAffinityTimeoutS;
  std::string prefix = fmt::format("{}:", kAffinityClientIp);
  if (text.starts_with(prefix)) {
    std::string_view digits = text.substr(prefix.size());
    // Wide enough to tell "too big" from "not a number".
    if (auto seconds = parse_decimal(digits, std::numeric_limits<uint32_t>::max())) {
      if (*seconds < 1 || *seconds > kMaxAffinityTimeoutS) {
        throw UserError(fmt::format("invalid affinity timeout {} in \"{}\": must be 1..{} seconds",
                                    *seconds, text, kMaxAffinityTimeoutS));
      }
      return static_cast<uint32_t>(*seconds);
    }
  }
  throw UserError(fmt::format(
      "invalid affinity \"{}\": expected \"none\", \"client-ip\" or \"client-ip:SECONDS\"", text));
}

ServiceCreate read_service_create(JsonFields& fields) {
  ServiceCreate request;
  request.name = fields.required_string("name");
  request.network = fields.required_string("network");
  request.vip = fields.optional_string("vip");
  auto ports = fields.optional_string_array("ports");
  if (!ports) fields.fail("ports", "missing (expected an array of strings)");
  request.ports = std::move(*ports);
  request.publish = fields.optional_string_array("publish").value_or(std::vector<std::string>{});
  request.affinity = fields.optional_string("affinity");
  request.table_size = fields.optional_unsigned("table_size");
  if (const nlohmann::json* health = fields.find("health")) {
    request.health = health_spec_from_json(*health, fields.root(), fields.path_of("health"));
  }
  return request;
}

ServiceCreate service_create_from_json(const nlohmann::json& json, std::string_view root,
                                       const std::string& path) {
  JsonFields fields(json, root, path);
  ServiceCreate request = read_service_create(fields);
  fields.reject_unknown_keys();
  return request;
}

const Service& create_service(State& state, const ServiceCreate& request, IdSource& ids,
                              const PortEnvironment& env, const std::set<Ipv4>& keep_free) {
  validate_service_name(request.name);
  if (state.service_by_name(request.name) != nullptr) {
    throw UserError(fmt::format("service with name {} already exists", request.name));
  }
  const Network& network = service_network(state, request.network, request.name);
  Service service;
  service.name = request.name;
  service.network_id = network.id;
  service.ports = parse_ports(request.ports);
  if (request.affinity) service.affinity_timeout_s = parse_affinity(*request.affinity);
  service.table_size = table_size_of(request.table_size);
  if (request.health) service.health = make_health_check(*request.health);
  service.vip = request.vip ? claim_static_ip(state, network, *request.vip)
                            : claim_dynamic_ip(state, network, keep_free);
  if (const IpamPool* pool = state.ipam_pool_of(network);
      pool != nullptr && pool->addresses.contains(service.vip)) {
    throw UserError(fmt::format("Address already in use: {} is handed out by bpfnet's IPAM pool {}",
                                service.vip.to_string(), pool->id));
  }
  std::vector<PortRequest> requests =
      publish_requests(service.name, service.ports, network, request.publish);
  service.published = merged(
      {}, plan_port_bindings(state, requests, {}, false, network.parsed.host_binding_ipv4, env));
  service.index = lowest_free_service_index(state);
  service.id = fresh_id(ids, [&](const std::string& id) {
    return std::any_of(state.services.begin(), state.services.end(),
                       [&](const Service& other) { return other.id == id; });
  });
  state.services.push_back(std::move(service));
  return state.services.back();
}

const Service& ensure_service(State& state, const ServiceCreate& request, IdSource& ids,
                              const PortEnvironment& env, const std::set<Ipv4>& keep_free) {
  const Service* existing = state.service_by_name(request.name);
  if (existing == nullptr) return create_service(state, request, ids, env, keep_free);
  const Service& service = *existing;
  const Network& network = service_network(state, request.network, request.name);
  if (network.id != service.network_id) {
    differs(service, "network", network_of(state, service).name, network.name);
  }
  if (request.vip && Ipv4::parse(*request.vip) != service.vip) {
    differs(service, "vip", service.vip.to_string(), *request.vip);
  }
  std::vector<ServicePort> ports = parse_ports(request.ports);
  if (ports != service.ports) {
    differs(service, "ports", ports_string(service.ports), ports_string(ports));
  }
  if (request.affinity) {
    std::optional<uint32_t> affinity = parse_affinity(*request.affinity);
    if (affinity != service.affinity_timeout_s) {
      differs(service, "affinity", affinity_string(service.affinity_timeout_s),
              affinity_string(affinity));
    }
  }
  if (request.table_size) {
    uint32_t size = table_size_of(request.table_size);
    if (size != service.table_size) {
      differs(service, "table size", std::to_string(service.table_size), std::to_string(size));
    }
  }
  if (request.health) {
    HealthCheck health = make_health_check(*request.health);
    if (health != service.health) {
      differs(service, "health check", health_to_json(service.health).dump(),
              health_to_json(health).dump());
    }
  }
  std::vector<PortRequest> requests =
      publish_requests(service.name, service.ports, network, request.publish);
  std::vector<PortBinding> added = plan_port_bindings(state, requests, service.published, true,
                                                      network.parsed.host_binding_ipv4, env);
  if (!added.empty()) {
    std::vector<PortBinding> published = merged(service.published, added);
    mutable_service(state, service).published.swap(published);
  }
  return service;
}

const Service& add_backend(State& state, const std::string& name, const std::string& container,
                           int64_t weight, std::string_view self,
                           const std::vector<RemoteContainer>& remote) {
  const Service& service = state.get_service(name);
  const std::string backend_name =
      is_remote_backend(container)
          ? remote_backend_name(network_of(state, service), container, self, remote)
          : backend_endpoint(state, service, container).container;
  if (const ServiceBackend* backend = service.backend(backend_name)) {
    throw UserError(fmt::format(
        "container {} is already a backend of service {}{}", backend_name, service.name,
        backend->drained() ? " (draining: remove it and add it again to undrain)" : ""));
  }
  if (weight < 1 || weight > kMaxBackendWeight) {
    throw UserError(fmt::format(
        "invalid weight {}: must be 1..{} (drain a backend to stop sending it new flows)", weight,
        kMaxBackendWeight));
  }
  uint32_t most = service.table_size / kSlotsPerBackend;
  if (service.backends.size() >= most) {
    throw UserError(fmt::format(
        "service {} already has {} backends, the most a table of {} slots balances within 1% "
        "(one per {} slots): recreate it with a larger table_size",
        service.name, service.backends.size(), service.table_size, kSlotsPerBackend));
  }
  ServiceBackend backend{backend_name, lowest_free_backend_id(state),
                         static_cast<uint32_t>(weight)};
  mutable_service(state, service).backends.push_back(std::move(backend));
  return service;
}

const Service& remove_backend(State& state, const std::string& name, const std::string& container) {
  const Service& service = state.get_service(name);
  size_t index = backend_index(state, service, container);
  std::vector<ServiceBackend>& backends = mutable_service(state, service).backends;
  backends.erase(backends.begin() + static_cast<std::ptrdiff_t>(index));
  return service;
}

const Service& drain_backend(State& state, const std::string& name, const std::string& container) {
  const Service& service = state.get_service(name);
  size_t index = backend_index(state, service, container);
  mutable_service(state, service).backends[index].weight = 0;
  return service;
}

Service remove_service(State& state, const std::string& name) {
  const Service& service = state.get_service(name);
  auto it = state.services.begin() + (&service - state.services.data());
  Service removed = std::move(*it);
  state.services.erase(it);
  return removed;
}

uint16_t health_check_port(const Service& service) {
  for (const auto& [proto, port] : service.ports)
    if (proto == Proto::kTcp) return port;
  return 0;
}

std::vector<MaglevBackend> maglev_input(const Service& service,
                                        const std::set<uint32_t>& unhealthy_backend_ids) {
  std::vector<MaglevBackend> input;
  for (const ServiceBackend& backend : service.backends) {
    if (backend.weight == 0 || unhealthy_backend_ids.contains(backend.id)) continue;
    input.push_back(MaglevBackend{backend.id, backend.weight});
  }
  return input;
}

nlohmann::json service_inspect(const State& state, const Service& service,
                               const std::map<uint32_t, BackendRuntime>& runtime) {
  const Network& network = network_of(state, service);
  nlohmann::json ports = nlohmann::json::array();
  for (const ServicePort& port : service.ports) ports.push_back(service_port_string(port));
  nlohmann::json affinity = {
      {"Mode", service.affinity_timeout_s ? kAffinityClientIp : kAffinityNone},
      {"TimeoutSeconds", service.affinity_timeout_s.value_or(0)},
  };
  nlohmann::json backends = nlohmann::json::array();
  for (const ServiceBackend& backend : service.backends) {
    const Endpoint* endpoint = state.endpoint(network.id, backend.container);
    auto found = runtime.find(backend.id);
    BackendRuntime health = found == runtime.end() ? BackendRuntime{} : found->second;
    std::string_view status = backend.drained() ? "draining"
                              : health.healthy  ? "healthy"
                                                : "unhealthy";
    backends.push_back({
        {"Container", backend.container},
        {"IP", endpoint != nullptr ? endpoint->ip.to_string() : health.ip},
        {"Weight", backend.weight},
        {"State", status},
        {"LastError", health.last_error},
        {"Flows", health.flows},
    });
  }
  return {
      {"Name", service.name},
      {"Id", service.id},
      {"Network", network.name},
      // "global": the cluster's (on every host, see core/service_mesh.h).
      {"Scope", service.global ? "global" : "local"},
      {"VIP", service.vip.to_string()},
      {"Ports", ports},
      {"Published", published_json(service, network)},
      {"Affinity", affinity},
      {"TableSize", service.table_size},
      {"HealthCheck", health_to_json(service.health)},
      {"Backends", backends},
  };
}

nlohmann::json services_json(const State& state,
                             const std::map<uint32_t, BackendRuntime>& runtime) {
  std::vector<const Service*> services;
  for (const Service& service : state.services) services.push_back(&service);
  std::sort(services.begin(), services.end(),
            [](const Service* a, const Service* b) { return a->name < b->name; });
  nlohmann::json result = nlohmann::json::array();
  for (const Service* service : services) {
    result.push_back(service_inspect(state, *service, runtime));
  }
  return result;
}

}  // namespace bpfnet::core
