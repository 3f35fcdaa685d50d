// The state file format: a State to JSON and back. What a loaded State must
// satisfy is checked by validate_state (core/state_validate.h).
#include <fmt/format.h>

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/service.h"
#include "core/state.h"
#include "core/state_validate.h"

namespace bpfnet::core {
namespace {

// A string member of T stored verbatim under `key`. The plain strings each
// object starts with are listed once, for writing and for reading (first,
// in this order: which field a bad file is blamed on stays the same).
template <typename T>
struct StringField {
  std::string_view key;
  std::string T::*member;
};

template <typename T>
void write_strings(const T& value, std::span<const StringField<T>> strings, nlohmann::json& json) {
  for (const StringField<T>& field : strings) json[field.key] = value.*field.member;
}

template <typename T>
void read_strings(JsonFields& fields, std::span<const StringField<T>> strings, T& value) {
  for (const StringField<T>& field : strings)
    value.*field.member = fields.required_string(field.key);
}

// A JSON array of write(item) for each item.
template <typename T, typename Write>
nlohmann::json json_array(const std::vector<T>& items, Write&& write) {
  nlohmann::json array = nlohmann::json::array();
  for (const T& item : items) array.push_back(write(item));
  return array;
}

// The string field `key`, parsed by `parse(text)`, whose UserError then
// names the field.
template <typename Parse>
auto required_parsed(JsonFields& fields, std::string_view key, Parse&& parse) {
  std::string text = fields.required_string(key);
  return at_path(kStateRoot, fields.path_of(key), [&] { return parse(text); });
}

template <typename Parse>
auto optional_parsed(JsonFields& fields, std::string_view key, Parse&& parse)
    -> std::optional<decltype(parse(std::string()))> {
  if (fields.find(key) == nullptr) return std::nullopt;
  return required_parsed(fields, key, parse);
}

constexpr StringField<Network> kNetworkStrings[] = {
    {"id", &Network::id},
    {"name", &Network::name},
    {"driver", &Network::driver},
    {"created", &Network::created},
};

nlohmann::json network_to_json(const Network& network) {
  nlohmann::json json = {
      {"internal", network.internal}, {"options", network.options},
      {"index", network.index},       {"dummy_ifname", network.dummy_ifname},
      {"builtin", network.builtin},
  };
  write_strings<Network>(network, kNetworkStrings, json);
  if (network.subnet) {
    json["subnet"] = network.subnet->to_string();
    json["gateway"] = network.gateway.to_string();
  }
  if (network.ip_range) json["ip_range"] = network.ip_range->to_string();
  if (network.docker) json["docker"] = true;
  if (network.vni != 0) json["vni"] = network.vni;
  if (!network.docker_network_id.empty()) json["docker_network_id"] = network.docker_network_id;
  if (!network.aux_addresses.empty()) {
    nlohmann::json aux = nlohmann::json::object();
    for (const auto& [name, address] : network.aux_addresses) aux[name] = address.to_string();
    json["aux_addresses"] = std::move(aux);
  }
  return json;
}

Network network_from_json(const nlohmann::json& json, const std::string& path) {
  return read_object<Network>(json, kStateRoot, path, [](JsonFields& fields, Network& network) {
    read_strings<Network>(fields, kNetworkStrings, network);
    network.subnet = optional_parsed(fields, "subnet", &Cidr::parse);
    network.gateway = optional_parsed(fields, "gateway", &Ipv4::parse).value_or(Ipv4{});
    network.ip_range = optional_parsed(fields, "ip_range", &Cidr::parse);
    network.internal = fields.required_bool("internal");
    network.options = fields.optional_string_map("options");
    network.parsed = at_path(kStateRoot, fields.path_of("options"),
                             [&] { return parse_network_options(network.options); });
    network.index = fields.required_uint32("index");
    network.dummy_ifname = fields.required_string("dummy_ifname");
    network.builtin = fields.required_bool("builtin");
    network.docker = fields.optional_bool("docker", false);
    network.vni = fields.find("vni") ? fields.required_uint32("vni") : 0;
    network.docker_network_id = fields.optional_string("docker_network_id").value_or("");
    for (const auto& [name, address] : fields.optional_string_map("aux_addresses")) {
      network.aux_addresses[name] =
          at_path(kStateRoot, join_path(fields.path_of("aux_addresses"), name),
                  // Named, not captured: clang 14 (the fuzz build) cannot
                  // capture a structured binding.
                  [&text = address] { return Ipv4::parse(text); });
    }
  });
}

nlohmann::json binding_to_json(const PortBinding& binding) {
  return {
      {"proto", to_string(binding.proto)},
      {"container_port", binding.container_port},
      {"host_ip", binding.host_ip.to_string()},
      {"host_port", binding.host_port},
  };
}

PortBinding binding_from_json(const nlohmann::json& json, const std::string& path) {
  return read_object<PortBinding>(
      json, kStateRoot, path, [](JsonFields& fields, PortBinding& binding) {
        binding.proto = required_parsed(fields, "proto", &parse_proto);
        binding.container_port = fields.required_uint16("container_port");
        binding.host_ip = required_parsed(fields, "host_ip", &Ipv4::parse);
        binding.host_port = fields.required_uint16("host_port");
      });
}

constexpr StringField<Endpoint> kEndpointStrings[] = {
    {"id", &Endpoint::id},
    {"network_id", &Endpoint::network_id},
    {"container", &Endpoint::container},
    {"container_id", &Endpoint::container_id},
    {"netns", &Endpoint::netns},
    {"ifname", &Endpoint::ifname},
    {"host_ifname", &Endpoint::host_ifname},
};

nlohmann::json endpoint_to_json(const Endpoint& endpoint) {
  nlohmann::json json = {{"ip", endpoint.ip.to_string()}, {"mac", endpoint.mac.to_string()}};
  write_strings<Endpoint>(endpoint, kEndpointStrings, json);
  if (endpoint.docker) json["docker"] = true;
  if (!endpoint.sandbox.empty()) json["sandbox"] = endpoint.sandbox;
  if (!endpoint.ports.empty()) json["ports"] = json_array(endpoint.ports, binding_to_json);
  return json;
}

Endpoint endpoint_from_json(const nlohmann::json& json, const std::string& path) {
  return read_object<Endpoint>(json, kStateRoot, path, [](JsonFields& fields, Endpoint& endpoint) {
    read_strings<Endpoint>(fields, kEndpointStrings, endpoint);
    endpoint.ip = required_parsed(fields, "ip", &Ipv4::parse);
    endpoint.mac = required_parsed(fields, "mac", &Mac::parse);
    endpoint.docker = fields.optional_bool("docker", false);
    endpoint.sandbox = fields.optional_string("sandbox").value_or("");
    endpoint.ports = fields.optional_items("ports", binding_from_json);
  });
}

nlohmann::json backend_to_json(const ServiceBackend& backend) {
  return {{"container", backend.container}, {"id", backend.id}, {"weight", backend.weight}};
}

ServiceBackend backend_from_json(const nlohmann::json& json, const std::string& path) {
  return read_object<ServiceBackend>(json, kStateRoot, path,
                                     [](JsonFields& fields, ServiceBackend& backend) {
                                       backend.container = fields.required_string("container");
                                       backend.id = fields.required_uint32("id");
                                       backend.weight = fields.required_uint32("weight");
                                     });
}

constexpr StringField<Service> kServiceStrings[] = {
    {"id", &Service::id},
    {"name", &Service::name},
    {"network_id", &Service::network_id},
};

}  // namespace

nlohmann::json service_to_json(const Service& service) {
  nlohmann::json json = {
      {"vip", service.vip.to_string()},
      {"ports", json_array(service.ports, service_port_string)},
      {"published", json_array(service.published, binding_to_json)},
      {"table_size", service.table_size},
      {"health", health_to_json(service.health)},
      {"backends", json_array(service.backends, backend_to_json)},
      {"index", service.index},
  };
  write_strings<Service>(service, kServiceStrings, json);
  if (service.affinity_timeout_s) json["affinity_timeout_s"] = *service.affinity_timeout_s;
  if (service.global) json["global"] = true;
  return json;
}

Service service_from_json(const nlohmann::json& json, const std::string& path) {
  return read_object<Service>(json, kStateRoot, path, [](JsonFields& fields, Service& service) {
    read_strings<Service>(fields, kServiceStrings, service);
    service.vip = required_parsed(fields, "vip", &Ipv4::parse);
    auto ports = fields.optional_string_array("ports");
    if (!ports) fields.fail("ports", "missing (expected an array of strings)");
    for (size_t i = 0; i < ports->size(); ++i) {
      service.ports.push_back(at_path(kStateRoot, item_path(fields.path_of("ports"), i),
                                      [&] { return parse_service_port((*ports)[i]); }));
    }
    service.published = fields.optional_items("published", binding_from_json);
    if (fields.find("affinity_timeout_s") != nullptr) {
      service.affinity_timeout_s = fields.required_uint32("affinity_timeout_s");
    }
    service.table_size = fields.required_uint32("table_size");
    const nlohmann::json* health = fields.find("health");
    if (health == nullptr) fields.fail("health", "missing (expected an object)");
    HealthCheckSpec spec = health_spec_from_json(*health, kStateRoot, fields.path_of("health"));
    service.health =
        at_path(kStateRoot, fields.path_of("health"), [&] { return make_health_check(spec); });
    service.backends = fields.required_items("backends", backend_from_json);
    service.index = fields.required_uint32("index");
    service.global = fields.optional_bool("global", false);
  });
}

namespace {

constexpr StringField<IpamPool> kIpamPoolStrings[] = {
    {"id", &IpamPool::id},
    {"address_space", &IpamPool::address_space},
};

// One pool of Docker's IPAM driver (core/docker_ipam.h); its addresses are
// keyed by address, each with what it was handed out for.
void read_ipam_pool(JsonFields& fields, IpamPool& pool) {
  read_strings<IpamPool>(fields, kIpamPoolStrings, pool);
  pool.pool = required_parsed(fields, "pool", &Cidr::parse);
  pool.sub_pool = optional_parsed(fields, "sub_pool", &Cidr::parse);
  pool.options = fields.optional_string_map("options");
  pool.overlay_network_id = fields.optional_string("overlay_network_id").value_or("");
  for (const auto& [address, owner] : fields.optional_string_map("addresses")) {
    Ipv4 ip = at_path(kStateRoot, join_path(fields.path_of("addresses"), address),
                      [&text = address] { return Ipv4::parse(text); });
    pool.addresses[ip] = owner;
  }
}

IpamPool ipam_pool_from_json(const nlohmann::json& json, const std::string& path) {
  return read_object<IpamPool>(json, kStateRoot, path, read_ipam_pool);
}

nlohmann::json ipam_pool_to_json(const IpamPool& pool) {
  nlohmann::json addresses = nlohmann::json::object();
  for (const auto& [address, owner] : pool.addresses) addresses[address.to_string()] = owner;
  nlohmann::json json = {{"pool", pool.pool.to_string()},
                         {"options", pool.options},
                         {"addresses", std::move(addresses)}};
  write_strings<IpamPool>(pool, kIpamPoolStrings, json);
  if (pool.sub_pool) json["sub_pool"] = pool.sub_pool->to_string();
  if (!pool.overlay_network_id.empty()) json["overlay_network_id"] = pool.overlay_network_id;
  return json;
}

}  // namespace

nlohmann::json to_json(const State& state) {
  nlohmann::json json = {
      {"version", state.version},
      {"networks", json_array(state.networks, network_to_json)},
      {"endpoints", json_array(state.endpoints, endpoint_to_json)},
  };
  if (!state.uplinks.empty()) json["uplinks"] = state.uplinks;
  if (!state.services.empty()) json["services"] = json_array(state.services, service_to_json);
  if (!state.ipam_pools.empty()) {
    json["ipam_pools"] = json_array(state.ipam_pools, ipam_pool_to_json);
  }
  return json;
}

State state_from_json(const nlohmann::json& json) {
  JsonFields fields(json, kStateRoot, "");
  State state;
  const nlohmann::json* version = fields.find("version");
  if (version == nullptr) fields.fail("version", "missing (expected an integer)");
  if (!version->is_number_integer()) fields.fail("version", "expected an integer");
  if (*version != kStateVersion) {
    fields.fail("version", fmt::format("unsupported version {} (this build reads version {})",
                                       version->dump(), kStateVersion));
  }
  state.version = kStateVersion;
  state.networks = fields.required_items("networks", network_from_json);
  state.endpoints = fields.required_items("endpoints", endpoint_from_json);
  state.uplinks = fields.optional_string_array("uplinks").value_or(std::vector<std::string>{});
  state.services = fields.optional_items("services", service_from_json);
  state.ipam_pools = fields.optional_items("ipam_pools", ipam_pool_from_json);
  fields.reject_unknown_keys();
  validate_state(state);
  return state;
}

}  // namespace bpfnet::core
