// The state file format and its validation.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "bpfnet_abi.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/names.h"
#include "core/service.h"
#include "core/state.h"

namespace bpfnet::core {
namespace {

constexpr std::string_view kRoot = "state";

std::string item_path(std::string_view array, size_t index) {
  return fmt::format("{}[{}]", array, index);
}

// Runs a parse that throws UserError and re-throws its message under `path`.
template <typename Parse>
auto parse_at(const std::string& path, Parse&& parse) {
  try {
    return parse();
  } catch (const UserError& e) {
    fail_at(kRoot, path, e.what());
  }
}

nlohmann::json network_to_json(const Network& network) {
  nlohmann::json json = {
      {"id", network.id},
      {"name", network.name},
      {"driver", network.driver},
      {"created", network.created},
      {"internal", network.internal},
      {"options", network.options},
      {"index", network.index},
      {"dummy_ifname", network.dummy_ifname},
      {"builtin", network.builtin},
  };
  if (network.subnet) {
    json["subnet"] = network.subnet->to_string();
    json["gateway"] = network.gateway.to_string();
  }
  if (network.ip_range) json["ip_range"] = network.ip_range->to_string();
  if (network.docker) json["docker"] = true;
  if (!network.aux_addresses.empty()) {
    nlohmann::json aux = nlohmann::json::object();
    for (const auto& [name, address] : network.aux_addresses) aux[name] = address.to_string();
    json["aux_addresses"] = std::move(aux);
  }
  return json;
}

nlohmann::json binding_to_json(const PortBinding& binding) {
  return {
      {"proto", to_string(binding.proto)},
      {"container_port", binding.container_port},
      {"host_ip", binding.host_ip.to_string()},
      {"host_port", binding.host_port},
  };
}

nlohmann::json service_to_json(const Service& service) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& port : service.ports) ports.push_back(service_port_string(port));
  nlohmann::json published = nlohmann::json::array();
  for (const PortBinding& binding : service.published)
    published.push_back(binding_to_json(binding));
  nlohmann::json backends = nlohmann::json::array();
  for (const ServiceBackend& backend : service.backends) {
    backends.push_back(
        {{"container", backend.container}, {"id", backend.id}, {"weight", backend.weight}});
  }
  nlohmann::json json = {
      {"id", service.id},
      {"name", service.name},
      {"network_id", service.network_id},
      {"vip", service.vip.to_string()},
      {"ports", ports},
      {"published", published},
      {"table_size", service.table_size},
      {"health", health_to_json(service.health)},
      {"backends", backends},
      {"index", service.index},
  };
  if (service.affinity_timeout_s) json["affinity_timeout_s"] = *service.affinity_timeout_s;
  return json;
}

nlohmann::json endpoint_to_json(const Endpoint& endpoint) {
  nlohmann::json json = {
      {"id", endpoint.id},
      {"network_id", endpoint.network_id},
      {"container", endpoint.container},
      {"container_id", endpoint.container_id},
      {"netns", endpoint.netns},
      {"ifname", endpoint.ifname},
      {"host_ifname", endpoint.host_ifname},
      {"ip", endpoint.ip.to_string()},
      {"mac", endpoint.mac.to_string()},
  };
  if (endpoint.docker) json["docker"] = true;
  if (!endpoint.sandbox.empty()) json["sandbox"] = endpoint.sandbox;
  if (!endpoint.ports.empty()) {
    nlohmann::json ports = nlohmann::json::array();
    for (const PortBinding& binding : endpoint.ports) ports.push_back(binding_to_json(binding));
    json["ports"] = std::move(ports);
  }
  return json;
}

Network network_from_json(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  Network network;
  network.id = fields.required_string("id");
  network.name = fields.required_string("name");
  network.driver = fields.required_string("driver");
  network.created = fields.required_string("created");
  if (auto subnet = fields.optional_string("subnet")) {
    network.subnet = parse_at(fields.path_of("subnet"), [&] { return Cidr::parse(*subnet); });
  }
  if (auto gateway = fields.optional_string("gateway")) {
    network.gateway = parse_at(fields.path_of("gateway"), [&] { return Ipv4::parse(*gateway); });
  }
  if (auto ip_range = fields.optional_string("ip_range")) {
    network.ip_range = parse_at(fields.path_of("ip_range"), [&] { return Cidr::parse(*ip_range); });
  }
  network.internal = fields.required_bool("internal");
  network.options = fields.optional_string_map("options");
  network.parsed =
      parse_at(fields.path_of("options"), [&] { return parse_network_options(network.options); });
  uint64_t index = fields.required_unsigned("index");
  if (index > UINT32_MAX) fields.fail("index", fmt::format("{} is out of range", index));
  network.index = static_cast<uint32_t>(index);
  network.dummy_ifname = fields.required_string("dummy_ifname");
  network.builtin = fields.required_bool("builtin");
  network.docker = fields.optional_bool("docker", false);
  for (const auto& [name, address] : fields.optional_string_map("aux_addresses")) {
    network.aux_addresses[name] = parse_at(join_path(fields.path_of("aux_addresses"), name),
                                           [&] { return Ipv4::parse(address); });
  }
  fields.reject_unknown_keys();
  return network;
}

uint16_t port_from_json(JsonFields& fields, std::string_view key) {
  uint64_t port = fields.required_unsigned(key);
  if (port > UINT16_MAX) fields.fail(key, fmt::format("{} is out of range", port));
  return static_cast<uint16_t>(port);
}

PortBinding binding_from_json(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  PortBinding binding;
  std::string proto = fields.required_string("proto");
  binding.proto = parse_at(fields.path_of("proto"), [&] { return parse_proto(proto); });
  binding.container_port = port_from_json(fields, "container_port");
  std::string host_ip = fields.required_string("host_ip");
  binding.host_ip = parse_at(fields.path_of("host_ip"), [&] { return Ipv4::parse(host_ip); });
  binding.host_port = port_from_json(fields, "host_port");
  fields.reject_unknown_keys();
  return binding;
}

Endpoint endpoint_from_json(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  Endpoint endpoint;
  endpoint.id = fields.required_string("id");
  endpoint.network_id = fields.required_string("network_id");
  endpoint.container = fields.required_string("container");
  endpoint.container_id = fields.required_string("container_id");
  endpoint.netns = fields.required_string("netns");
  endpoint.ifname = fields.required_string("ifname");
  endpoint.host_ifname = fields.required_string("host_ifname");
  std::string ip = fields.required_string("ip");
  endpoint.ip = parse_at(fields.path_of("ip"), [&] { return Ipv4::parse(ip); });
  std::string mac = fields.required_string("mac");
  endpoint.mac = parse_at(fields.path_of("mac"), [&] { return Mac::parse(mac); });
  endpoint.docker = fields.optional_bool("docker", false);
  endpoint.sandbox = fields.optional_string("sandbox").value_or("");
  if (const nlohmann::json* ports = fields.optional_array("ports")) {
    for (size_t i = 0; i < ports->size(); ++i) {
      endpoint.ports.push_back(
          binding_from_json((*ports)[i], item_path(fields.path_of("ports"), i)));
    }
  }
  fields.reject_unknown_keys();
  return endpoint;
}

uint32_t uint32_from_json(JsonFields& fields, std::string_view key) {
  uint64_t value = fields.required_unsigned(key);
  if (value > UINT32_MAX) fields.fail(key, fmt::format("{} is out of range", value));
  return static_cast<uint32_t>(value);
}

ServiceBackend backend_from_json(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  ServiceBackend backend;
  backend.container = fields.required_string("container");
  backend.id = uint32_from_json(fields, "id");
  backend.weight = uint32_from_json(fields, "weight");
  fields.reject_unknown_keys();
  return backend;
}

Service service_from_json(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  Service service;
  service.id = fields.required_string("id");
  service.name = fields.required_string("name");
  service.network_id = fields.required_string("network_id");
  std::string vip = fields.required_string("vip");
  service.vip = parse_at(fields.path_of("vip"), [&] { return Ipv4::parse(vip); });
  auto ports = fields.optional_string_array("ports");
  if (!ports) fields.fail("ports", "missing (expected an array of strings)");
  for (size_t i = 0; i < ports->size(); ++i) {
    service.ports.push_back(parse_at(item_path(fields.path_of("ports"), i),
                                     [&] { return parse_service_port((*ports)[i]); }));
  }
  if (const nlohmann::json* published = fields.optional_array("published")) {
    for (size_t i = 0; i < published->size(); ++i) {
      service.published.push_back(
          binding_from_json((*published)[i], item_path(fields.path_of("published"), i)));
    }
  }
  if (fields.find("affinity_timeout_s") != nullptr) {
    service.affinity_timeout_s = uint32_from_json(fields, "affinity_timeout_s");
  }
  service.table_size = uint32_from_json(fields, "table_size");
  const nlohmann::json* health = fields.find("health");
  if (health == nullptr) fields.fail("health", "missing (expected an object)");
  HealthCheckSpec spec = health_spec_from_json(*health, kRoot, fields.path_of("health"));
  service.health = parse_at(fields.path_of("health"), [&] { return make_health_check(spec); });
  const nlohmann::json* backends = fields.optional_array("backends");
  if (backends == nullptr) fields.fail("backends", "missing (expected an array)");
  for (size_t i = 0; i < backends->size(); ++i) {
    service.backends.push_back(
        backend_from_json((*backends)[i], item_path(fields.path_of("backends"), i)));
  }
  service.index = uint32_from_json(fields, "index");
  fields.reject_unknown_keys();
  return service;
}

void validate_network(const Network& network, const std::string& path) {
  auto fail = [&](std::string_view field, std::string_view message) {
    fail_at(kRoot, join_path(path, field), message);
  };
  if (!is_hex_id(network.id)) {
    fail("id", fmt::format("\"{}\" is not 64 lowercase hex digits", network.id));
  }
  if (!is_restricted_name(network.name)) {
    fail("name", fmt::format("invalid network name \"{}\"", network.name));
  }
  if (network.created.empty()) fail("created", "must not be empty");
  NetworkOptions parsed =
      parse_at(join_path(path, "options"), [&] { return parse_network_options(network.options); });
  if (parsed != network.parsed) fail("options", "the parsed options do not match the -o map");
  if (network.builtin) {
    bool known = (network.name == kHostNetworkName && network.driver == kDriverHost) ||
                 (network.name == kNoneNetworkName && network.driver == kDriverNull);
    if (!known) {
      fail("builtin", fmt::format("network \"{}\" with driver \"{}\" is not a builtin network",
                                  network.name, network.driver));
    }
    if (network.subnet) fail("subnet", "a builtin network has no subnet");
    if (network.docker) fail("docker", "a builtin network is not Docker's");
    if (!network.aux_addresses.empty()) fail("aux_addresses", "a builtin network has no subnet");
    if (network.gateway != Ipv4{}) fail("gateway", "a builtin network has no gateway");
    if (network.ip_range) fail("ip_range", "a builtin network has no ip_range");
    if (network.index != 0) fail("index", "a builtin network has index 0");
    if (!network.dummy_ifname.empty()) fail("dummy_ifname", "a builtin network has no interface");
    return;
  }
  if (network.driver != kDriverBridge) {
    fail("driver", fmt::format("unsupported driver \"{}\"", network.driver));
  }
  if (!network.subnet) fail("subnet", "missing (every bridge network has a subnet)");
  const Cidr& subnet = *network.subnet;
  if (!subnet.contains(network.gateway) || network.gateway == subnet.network() ||
      network.gateway == subnet.broadcast()) {
    fail("gateway", fmt::format("{} is not a host address of {}", network.gateway.to_string(),
                                subnet.to_string()));
  }
  if (network.ip_range && !subnet.contains(*network.ip_range)) {
    fail("ip_range", fmt::format("{} is not inside the subnet {}", network.ip_range->to_string(),
                                 subnet.to_string()));
  }
  for (const auto& [name, address] : network.aux_addresses) {
    if (!subnet.contains(address) || address == subnet.network() || address == subnet.broadcast() ||
        address == network.gateway) {
      fail(join_path("aux_addresses", name),
           fmt::format("{} is not a host address of {} other than the gateway", address.to_string(),
                       subnet.to_string()));
    }
  }
  if (network.index < 1 || network.index >= BPFNET_MAX_NETWORKS) {
    fail("index", fmt::format("{} is outside 1..{}", network.index, BPFNET_MAX_NETWORKS - 1));
  }
  if (!is_valid_ifname(network.dummy_ifname)) {
    fail("dummy_ifname", fmt::format("invalid interface name \"{}\"", network.dummy_ifname));
  }
}

// Sorted by address, a block overlaps an earlier one exactly when it starts
// before the furthest end seen so far: O(n log n) rather than all pairs.
void check_subnets_disjoint(const State& state) {
  std::vector<size_t> order;
  for (size_t i = 0; i < state.networks.size(); ++i) {
    if (state.networks[i].subnet) order.push_back(i);
  }
  auto subnet_of = [&](size_t i) { return *state.networks[i].subnet; };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(subnet_of(a).network(), subnet_of(a).prefix_len) <
           std::pair(subnet_of(b).network(), subnet_of(b).prefix_len);
  });
  std::optional<size_t> furthest;
  for (size_t i : order) {
    if (furthest && subnet_of(i).network() <= subnet_of(*furthest).broadcast()) {
      // Blame the later entry of the file, which is the likelier edit.
      size_t bad = std::max(i, *furthest), other = std::min(i, *furthest);
      fail_at(kRoot, join_path(item_path("networks", bad), "subnet"),
              fmt::format("{} overlaps the subnet {} of network \"{}\"", subnet_of(bad).to_string(),
                          subnet_of(other).to_string(), state.networks[other].name));
    }
    if (!furthest || subnet_of(i).broadcast() > subnet_of(*furthest).broadcast()) furthest = i;
  }
}

void validate_networks(const State& state) {
  std::set<std::string_view> ids, names, ifnames;
  std::set<uint32_t> indexes;
  for (size_t i = 0; i < state.networks.size(); ++i) {
    const Network& network = state.networks[i];
    std::string path = item_path("networks", i);
    validate_network(network, path);
    auto fail = [&](std::string_view field, std::string_view message) {
      fail_at(kRoot, join_path(path, field), message);
    };
    if (!ids.insert(network.id).second) fail("id", fmt::format("duplicate ID {}", network.id));
    if (!names.insert(network.name).second) {
      fail("name", fmt::format("duplicate network name \"{}\"", network.name));
    }
    if (network.builtin) continue;
    if (!indexes.insert(network.index).second) {
      fail("index", fmt::format("duplicate index {}", network.index));
    }
    if (!ifnames.insert(network.dummy_ifname).second) {
      fail("dummy_ifname", fmt::format("duplicate interface name \"{}\"", network.dummy_ifname));
    }
  }
  check_subnets_disjoint(state);
  for (std::string_view builtin : {kHostNetworkName, kNoneNetworkName}) {
    const Network* network = state.network_by_name(builtin);
    if (network == nullptr || !network->builtin) {
      fail_at(kRoot, "networks", fmt::format("the builtin network \"{}\" is missing", builtin));
    }
  }
}

void validate_endpoints(const State& state) {
  if (state.endpoints.size() > BPFNET_MAX_ENDPOINTS) {
    fail_at(kRoot, "endpoints",
            fmt::format("{} endpoints exceed the limit of {}", state.endpoints.size(),
                        BPFNET_MAX_ENDPOINTS));
  }
  std::set<std::string_view> ids, host_ifnames;
  for (const Network& network : state.networks) host_ifnames.insert(network.dummy_ifname);
  // Keyed by (network ID, value) or (container, value): unique within that scope.
  std::set<std::pair<std::string_view, std::string_view>> attachments, ifnames_in_container;
  std::set<std::pair<std::string_view, uint32_t>> ips_in_network;
  std::set<std::pair<std::string_view, Mac>> macs_in_network;
  std::map<std::string_view, const Endpoint*> first_of_container;
  std::map<std::string_view, std::string_view> container_of_id;

  for (size_t i = 0; i < state.endpoints.size(); ++i) {
    const Endpoint& endpoint = state.endpoints[i];
    std::string path = item_path("endpoints", i);
    auto fail = [&](std::string_view field, std::string_view message) {
      fail_at(kRoot, join_path(path, field), message);
    };
    if (!is_hex_id(endpoint.id)) {
      fail("id", fmt::format("\"{}\" is not 64 lowercase hex digits", endpoint.id));
    }
    if (!ids.insert(endpoint.id).second) fail("id", fmt::format("duplicate ID {}", endpoint.id));

    const Network* network = state.network_by_id(endpoint.network_id);
    if (network == nullptr) {
      fail("network_id", fmt::format("no network has the ID {}", endpoint.network_id));
    }
    if (network->builtin) {
      fail("network_id", fmt::format("the builtin network \"{}\" has no endpoints", network->name));
    }

    if (!is_restricted_name(endpoint.container)) {
      fail("container", fmt::format("invalid container name \"{}\"", endpoint.container));
    }
    if (!is_hex_id(endpoint.container_id)) {
      fail("container_id",
           fmt::format("\"{}\" is not 64 lowercase hex digits", endpoint.container_id));
    }
    if (network->docker != endpoint.docker) {
      fail("docker",
           network->docker
               ? fmt::format("network \"{}\" takes only Docker's endpoints", network->name)
               : fmt::format("network \"{}\" is not Docker's", network->name));
    }
    if (endpoint.docker && !endpoint.netns.empty()) {
      fail("netns", "a Docker endpoint has no netns (Docker moves its interface)");
    }
    if (!endpoint.docker && endpoint.netns.empty()) fail("netns", "must not be empty");
    if (!endpoint.docker && !endpoint.sandbox.empty()) {
      fail("sandbox", "only Docker endpoints have a sandbox");
    }
    auto [first, inserted] = first_of_container.emplace(endpoint.container, &endpoint);
    if (!inserted && first->second->container_id != endpoint.container_id) {
      fail("container_id",
           fmt::format("differs from the other endpoints of container \"{}\"", endpoint.container));
    }
    if (!inserted && first->second->netns != endpoint.netns) {
      fail("netns",
           fmt::format("differs from the other endpoints of container \"{}\"", endpoint.container));
    }
    auto [owner, id_new] = container_of_id.emplace(endpoint.container_id, endpoint.container);
    if (!id_new && owner->second != endpoint.container) {
      fail("container_id", fmt::format("is also the ID of container \"{}\"", owner->second));
    }
    if (!attachments.emplace(endpoint.network_id, endpoint.container).second) {
      fail("container", fmt::format("container \"{}\" is connected to network \"{}\" twice",
                                    endpoint.container, network->name));
    }

    if (!is_valid_ifname(endpoint.ifname)) {
      fail("ifname", fmt::format("invalid interface name \"{}\"", endpoint.ifname));
    }
    if (!ifnames_in_container.emplace(endpoint.container, endpoint.ifname).second) {
      fail("ifname", fmt::format("duplicate interface name \"{}\" in container \"{}\"",
                                 endpoint.ifname, endpoint.container));
    }
    if (!is_valid_ifname(endpoint.host_ifname)) {
      fail("host_ifname", fmt::format("invalid interface name \"{}\"", endpoint.host_ifname));
    }
    if (!host_ifnames.insert(endpoint.host_ifname).second) {
      fail("host_ifname", fmt::format("duplicate interface name \"{}\"", endpoint.host_ifname));
    }

    const Cidr& subnet = *network->subnet;
    if (!subnet.contains(endpoint.ip) || endpoint.ip == subnet.network() ||
        endpoint.ip == subnet.broadcast() || endpoint.ip == network->gateway) {
      fail("ip", fmt::format("{} is not an endpoint address of network \"{}\" ({})",
                             endpoint.ip.to_string(), network->name, subnet.to_string()));
    }
    for (const auto& [name, address] : network->aux_addresses) {
      if (endpoint.ip == address) {
        fail("ip", fmt::format("{} is the auxiliary address {} of network \"{}\"",
                               endpoint.ip.to_string(), name, network->name));
      }
    }
    if (!ips_in_network.emplace(endpoint.network_id, endpoint.ip.value).second) {
      fail("ip", fmt::format("{} is used twice in network \"{}\"", endpoint.ip.to_string(),
                             network->name));
    }
    if (endpoint.mac.is_multicast() || endpoint.mac.is_zero()) {
      fail("mac", fmt::format("{} is not a unicast address", endpoint.mac.to_string()));
    }
    if (!macs_in_network.emplace(endpoint.network_id, endpoint.mac).second) {
      fail("mac", fmt::format("{} is used twice in network \"{}\"", endpoint.mac.to_string(),
                              network->name));
    }
  }
}

// Published ports of endpoints and services: numbers in range, sorted and
// unique per owner, none on an internal network, and no two in conflict
// anywhere (Docker's rule, see add_ports). Runs after validate_endpoints and
// validate_services, so every network exists.
void validate_ports(const State& state) {
  using Key = std::tuple<Proto, uint16_t, Ipv4>;
  std::map<Key, std::string> owners;  // -> `container "web"` or `service "api"`
  size_t total = 0;
  auto check = [&](const std::vector<PortBinding>& bindings, const std::string& owner_path,
                   std::string_view list, const Network& network, const std::string& owner) {
    for (size_t j = 0; j < bindings.size(); ++j) {
      const PortBinding& binding = bindings[j];
      std::string path = join_path(owner_path, item_path(list, j));
      auto fail = [&](std::string_view field, std::string_view message) {
        fail_at(kRoot, field.empty() ? path : join_path(path, field), message);
      };
      if (binding.container_port == 0) fail("container_port", "0 is out of range (1-65535)");
      if (binding.host_port == 0) fail("host_port", "0 is out of range (1-65535)");
      if (network.internal) {
        fail("", fmt::format("network \"{}\" is internal and cannot publish ports", network.name));
      }
      if (j > 0 && !(bindings[j - 1] < binding)) {
        fail("", list == "ports" ? "the ports of an endpoint must be sorted and unique"
                                 : "the published ports of a service must be sorted and unique");
      }
      // Per protocol and port, 0.0.0.0 sorts first: it is the wildcard.
      auto conflict = owners.find(Key{binding.proto, binding.host_port, Ipv4{}});
      if (conflict == owners.end() && binding.host_ip == Ipv4{}) {
        conflict = owners.lower_bound(Key{binding.proto, binding.host_port, Ipv4{}});
        if (conflict != owners.end() && (std::get<0>(conflict->first) != binding.proto ||
                                         std::get<1>(conflict->first) != binding.host_port)) {
          conflict = owners.end();
        }
      }
      if (conflict == owners.end()) {
        conflict = owners.find(Key{binding.proto, binding.host_port, binding.host_ip});
      }
      if (conflict != owners.end()) {
        fail("", fmt::format("{}:{}/{} conflicts with {}:{}/{} of {}", binding.host_ip.to_string(),
                             binding.host_port, to_string(binding.proto),
                             std::get<2>(conflict->first).to_string(), std::get<1>(conflict->first),
                             to_string(std::get<0>(conflict->first)), conflict->second));
      }
      owners.emplace(Key{binding.proto, binding.host_port, binding.host_ip}, owner);
      ++total;
    }
  };
  for (size_t i = 0; i < state.endpoints.size(); ++i) {
    const Endpoint& endpoint = state.endpoints[i];
    check(endpoint.ports, item_path("endpoints", i), "ports",
          *state.network_by_id(endpoint.network_id),
          fmt::format("container \"{}\"", endpoint.container));
  }
  for (size_t i = 0; i < state.services.size(); ++i) {
    const Service& service = state.services[i];
    check(service.published, item_path("services", i), "published",
          *state.network_by_id(service.network_id), fmt::format("service \"{}\"", service.name));
  }
  if (total > BPFNET_MAX_PORTMAPS) {
    fail_at(kRoot, "endpoints",
            fmt::format("{} published ports exceed the limit of {}", total, BPFNET_MAX_PORTMAPS));
  }
}

// Services: unique IDs, names, indexes and VIPs; each on an existing bridge
// network with its VIP a host address of the subnet that no endpoint uses;
// ports sorted and unique; published ports to service ports only (conflicts
// are checked by validate_ports); valid affinity, table size and health
// check; backends connected to the network, once each, within the table's
// limit, with IDs unique across all services. Runs after validate_endpoints.
void validate_services(const State& state) {
  if (state.services.size() >= kMaxServices) {
    fail_at(
        kRoot, "services",
        fmt::format("{} services exceed the limit of {}", state.services.size(), kMaxServices - 1));
  }
  std::set<std::string_view> ids, names;
  std::set<uint32_t> indexes;
  std::map<uint32_t, std::string_view> vips;         // -> service name
  std::map<uint32_t, std::string_view> backend_ids;  // -> service name
  for (size_t i = 0; i < state.services.size(); ++i) {
    const Service& service = state.services[i];
    std::string path = item_path("services", i);
    auto fail = [&](std::string_view field, std::string_view message) {
      fail_at(kRoot, join_path(path, field), message);
    };
    if (!is_hex_id(service.id)) {
      fail("id", fmt::format("\"{}\" is not 64 lowercase hex digits", service.id));
    }
    if (!ids.insert(service.id).second) fail("id", fmt::format("duplicate ID {}", service.id));
    if (!is_restricted_name(service.name)) {
      fail("name", fmt::format("invalid service name \"{}\"", service.name));
    }
    if (!names.insert(service.name).second) {
      fail("name", fmt::format("duplicate service name \"{}\"", service.name));
    }
    if (service.index < 1 || service.index >= kMaxServices) {
      fail("index", fmt::format("{} is outside 1..{}", service.index, kMaxServices - 1));
    }
    if (!indexes.insert(service.index).second) {
      fail("index", fmt::format("duplicate index {}", service.index));
    }

    const Network* network = state.network_by_id(service.network_id);
    if (network == nullptr) {
      fail("network_id", fmt::format("no network has the ID {}", service.network_id));
    }
    if (network->builtin) {
      fail("network_id", fmt::format("the builtin network \"{}\" has no services", network->name));
    }
    const Cidr& subnet = *network->subnet;
    if (!subnet.contains(service.vip) || service.vip == subnet.network() ||
        service.vip == subnet.broadcast() || service.vip == network->gateway) {
      fail("vip", fmt::format("{} is not a usable address of network \"{}\" ({})",
                              service.vip.to_string(), network->name, subnet.to_string()));
    }
    for (const Endpoint* endpoint : state.endpoints_of_network(network->id)) {
      if (endpoint->ip == service.vip) {
        fail("vip", fmt::format("{} is also the address of container \"{}\"",
                                service.vip.to_string(), endpoint->container));
      }
    }
    for (const auto& [name, address] : network->aux_addresses) {
      if (service.vip == address) {
        fail("vip", fmt::format("{} is the auxiliary address {} of network \"{}\"",
                                service.vip.to_string(), name, network->name));
      }
    }
    auto [other, vip_new] = vips.emplace(service.vip.value, service.name);
    if (!vip_new) {
      fail("vip", fmt::format("{} is also the VIP of service \"{}\"", service.vip.to_string(),
                              other->second));
    }

    if (service.ports.empty()) fail("ports", "a service needs at least one port");
    for (size_t j = 0; j < service.ports.size(); ++j) {
      const auto& [proto, port] = service.ports[j];
      if (port == 0) fail(item_path("ports", j), "0 is out of range (1-65535)");
      if (j > 0 && !(std::pair(service.ports[j - 1].second, service.ports[j - 1].first) <
                     std::pair(port, proto))) {
        fail(item_path("ports", j),
             "the ports of a service must be sorted (by port, then protocol) and unique");
      }
    }
    for (size_t j = 0; j < service.published.size(); ++j) {
      const PortBinding& binding = service.published[j];
      std::pair port{binding.proto, binding.container_port};
      if (std::find(service.ports.begin(), service.ports.end(), port) == service.ports.end()) {
        fail(join_path(item_path("published", j), "container_port"),
             fmt::format("{}/{} is not a port of the service", binding.container_port,
                         to_string(binding.proto)));
      }
    }
    if (service.affinity_timeout_s &&
        (*service.affinity_timeout_s < 1 || *service.affinity_timeout_s > kMaxAffinityTimeoutS)) {
      fail("affinity_timeout_s",
           fmt::format("{} is outside 1..{}", *service.affinity_timeout_s, kMaxAffinityTimeoutS));
    }
    parse_at(join_path(path, "table_size"), [&] { check_maglev_table_size(service.table_size); });
    parse_at(join_path(path, "health"), [&] { validate_health_check(service.health); });

    uint32_t most = service.table_size / kSlotsPerBackend;
    if (service.backends.size() > most) {
      fail("backends", fmt::format("{} backends exceed the limit of {} for a table of {} slots",
                                   service.backends.size(), most, service.table_size));
    }
    std::set<std::string_view> containers;
    for (size_t k = 0; k < service.backends.size(); ++k) {
      const ServiceBackend& backend = service.backends[k];
      std::string backend_path = item_path("backends", k);
      auto fail_backend = [&](std::string_view field, std::string_view message) {
        fail(join_path(backend_path, field), message);
      };
      if (state.endpoint(network->id, backend.container) == nullptr) {
        fail_backend("container", fmt::format("container \"{}\" is not connected to network \"{}\"",
                                              backend.container, network->name));
      }
      if (!containers.insert(backend.container).second) {
        fail_backend("container",
                     fmt::format("container \"{}\" is a backend twice", backend.container));
      }
      if (backend.id < 1 || backend.id >= kMaxBackendIds) {
        fail_backend("id", fmt::format("{} is outside 1..{}", backend.id, kMaxBackendIds - 1));
      }
      auto [owner, id_new] = backend_ids.emplace(backend.id, service.name);
      if (!id_new) {
        fail_backend("id", fmt::format("duplicate backend ID {} (also in service \"{}\")",
                                       backend.id, owner->second));
      }
      if (backend.weight > kMaxBackendWeight) {
        fail_backend("weight",
                     fmt::format("{} is outside 0..{}", backend.weight, kMaxBackendWeight));
      }
    }
  }
}

void validate_uplinks(const State& state) {
  if (state.uplinks.size() > BPFNET_MAX_UPLINKS) {
    fail_at(
        kRoot, "uplinks",
        fmt::format("{} uplinks exceed the limit of {}", state.uplinks.size(), BPFNET_MAX_UPLINKS));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < state.uplinks.size(); ++i) {
    const std::string& name = state.uplinks[i];
    if (!is_valid_ifname(name)) {
      fail_at(kRoot, item_path("uplinks", i), fmt::format("invalid interface name \"{}\"", name));
    }
    if (!seen.insert(name).second) {
      fail_at(kRoot, item_path("uplinks", i), fmt::format("duplicate interface name \"{}\"", name));
    }
  }
}

}  // namespace

nlohmann::json to_json(const State& state) {
  nlohmann::json networks = nlohmann::json::array();
  for (const Network& network : state.networks) networks.push_back(network_to_json(network));
  nlohmann::json endpoints = nlohmann::json::array();
  for (const Endpoint& endpoint : state.endpoints) endpoints.push_back(endpoint_to_json(endpoint));
  nlohmann::json json = {
      {"version", state.version}, {"networks", networks}, {"endpoints", endpoints}};
  if (!state.uplinks.empty()) json["uplinks"] = state.uplinks;
  if (!state.services.empty()) {
    nlohmann::json services = nlohmann::json::array();
    for (const Service& service : state.services) services.push_back(service_to_json(service));
    json["services"] = std::move(services);
  }
  return json;
}

State state_from_json(const nlohmann::json& json) {
  JsonFields fields(json, kRoot, "");
  State state;
  const nlohmann::json* version = fields.find("version");
  if (version == nullptr) fields.fail("version", "missing (expected an integer)");
  if (!version->is_number_integer()) fields.fail("version", "expected an integer");
  if (*version != kStateVersion) {
    fields.fail("version", fmt::format("unsupported version {} (this build reads version {})",
                                       version->dump(), kStateVersion));
  }
  state.version = kStateVersion;

  const nlohmann::json* networks = fields.optional_array("networks");
  if (networks == nullptr) fields.fail("networks", "missing (expected an array)");
  for (size_t i = 0; i < networks->size(); ++i) {
    state.networks.push_back(network_from_json((*networks)[i], item_path("networks", i)));
  }
  const nlohmann::json* endpoints = fields.optional_array("endpoints");
  if (endpoints == nullptr) fields.fail("endpoints", "missing (expected an array)");
  for (size_t i = 0; i < endpoints->size(); ++i) {
    state.endpoints.push_back(endpoint_from_json((*endpoints)[i], item_path("endpoints", i)));
  }
  if (const nlohmann::json* uplinks = fields.optional_array("uplinks")) {
    for (size_t i = 0; i < uplinks->size(); ++i) {
      const nlohmann::json& uplink = (*uplinks)[i];
      if (!uplink.is_string()) fail_at(kRoot, item_path("uplinks", i), "expected a string");
      state.uplinks.push_back(uplink.get<std::string>());
    }
  }
  if (const nlohmann::json* services = fields.optional_array("services")) {
    for (size_t i = 0; i < services->size(); ++i) {
      state.services.push_back(service_from_json((*services)[i], item_path("services", i)));
    }
  }
  fields.reject_unknown_keys();
  validate_state(state);
  return state;
}

void validate_state(const State& state) {
  if (state.version != kStateVersion) {
    fail_at(kRoot, "version", fmt::format("unsupported version {}", state.version));
  }
  validate_networks(state);
  validate_endpoints(state);
  validate_services(state);
  validate_ports(state);
  validate_uplinks(state);
}

}  // namespace bpfnet::core
