#include "core/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "bpfnet_abi.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/names.h"

namespace bpfnet::core {
namespace {

constexpr std::string_view kRoot = "config";

NetworkCreate parse_network(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  NetworkCreate network;
  network.name = fields.required_string("name");
  network.driver = fields.optional_string("driver").value_or(std::string(kDriverBridge));
  network.subnet = fields.optional_string("subnet");
  network.gateway = fields.optional_string("gateway");
  network.ip_range = fields.optional_string("ip_range");
  network.internal = fields.optional_bool("internal", false);
  network.options = fields.optional_string_map("options");
  fields.reject_unknown_keys();
  return network;
}

ConfigAttachment parse_attachment(const nlohmann::json& json, const std::string& path) {
  if (json.is_string()) return ConfigAttachment{json.get<std::string>(), {}, {}};
  if (!json.is_object()) {
    fail_at(kRoot, path,
            fmt::format("expected a network name or an object, got {}", json_type_name(json)));
  }
  JsonFields fields(json, kRoot, path);
  ConfigAttachment attachment;
  attachment.network = fields.required_string("name");
  attachment.ip = fields.optional_string("ip");
  attachment.mac = fields.optional_string("mac");
  fields.reject_unknown_keys();
  return attachment;
}

// An array of strings; empty if absent.
std::vector<std::string> string_array(JsonFields& fields, std::string_view key) {
  std::vector<std::string> result;
  const nlohmann::json* array = fields.optional_array(key);
  if (array == nullptr) return result;
  for (size_t i = 0; i < array->size(); ++i) {
    const nlohmann::json& item = (*array)[i];
    if (!item.is_string()) {
      fail_at(kRoot, fmt::format("{}[{}]", fields.path_of(key), i), "expected a string");
    }
    result.push_back(item.get<std::string>());
  }
  return result;
}

ConfigContainer parse_container(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  ConfigContainer container;
  container.name = fields.required_string("name");
  container.netns = fields.required_string("netns");
  if (const nlohmann::json* networks = fields.optional_array("networks")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < networks->size(); ++i) {
      std::string item_path = fmt::format("{}[{}]", fields.path_of("networks"), i);
      container.networks.push_back(parse_attachment((*networks)[i], item_path));
      if (!seen.insert(container.networks.back().network).second) {
        fail_at(kRoot, item_path,
                fmt::format("network \"{}\" is listed twice", container.networks.back().network));
      }
    }
  }
  container.ports = string_array(fields, "ports");
  if (!container.ports.empty() && container.networks.empty()) {
    fields.fail("ports", "published ports need a network: list one in \"networks\"");
  }
  fields.reject_unknown_keys();
  return container;
}

ConfigBackend parse_backend(const nlohmann::json& json, const std::string& path) {
  if (json.is_string()) return ConfigBackend{json.get<std::string>(), std::nullopt};
  if (!json.is_object()) {
    fail_at(kRoot, path,
            fmt::format("expected a container name or an object, got {}", json_type_name(json)));
  }
  JsonFields fields(json, kRoot, path);
  ConfigBackend backend;
  backend.container = fields.required_string("container");
  if (auto weight = fields.optional_unsigned("weight")) {
    // Beyond int64: the largest, which add_backend refuses naming it.
    backend.weight =
        *weight > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(*weight);
  }
  fields.reject_unknown_keys();
  return backend;
}

ConfigService parse_service(const nlohmann::json& json, const std::string& path) {
  JsonFields fields(json, kRoot, path);
  ConfigService service;
  service.service = read_service_create(fields);
  if (const nlohmann::json* backends = fields.optional_array("backends")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < backends->size(); ++i) {
      std::string item_path = fmt::format("{}[{}]", fields.path_of("backends"), i);
      service.backends.push_back(parse_backend((*backends)[i], item_path));
      if (!seen.insert(service.backends.back().container).second) {
        fail_at(kRoot, item_path,
                fmt::format("container \"{}\" is listed twice", service.backends.back().container));
      }
    }
  }
  fields.reject_unknown_keys();
  return service;
}

// Re-throws an engine error with the config location in front, so the user
// knows which entry of the file to fix.
template <typename Operation>
void at_entry(const std::string& where, Operation&& operation) {
  try {
    operation();
  } catch (const UserError& e) {
    throw UserError(fmt::format("{}: {}: {}", kRoot, where, e.what()));
  }
}

[[noreturn]] void differs(const Network& network, std::string_view setting, std::string_view has,
                          std::string_view wanted) {
  throw UserError(fmt::format("network {} already exists with {} {}, not {}", network.name, setting,
                              has, wanted));
}

std::string or_none(const std::optional<Cidr>& cidr) {
  return cidr ? cidr->to_string() : std::string("(none)");
}

// An existing network matches when every setting the config states
// explicitly is what the network has. Automatic choices (subnet, gateway)
// are only compared when the config names them.
void check_existing_network(const Network& network, const NetworkCreate& wanted) {
  std::string driver = wanted.driver.empty() ? std::string(kDriverBridge) : wanted.driver;
  if (network.driver != driver) differs(network, "driver", network.driver, driver);
  if (wanted.subnet) {
    auto subnet = Cidr::try_parse(*wanted.subnet);
    if (!subnet) {
      throw UserError(
          fmt::format("invalid subnet {}: invalid CIDR block notation", *wanted.subnet));
    }
    if (network.subnet != subnet)
      differs(network, "subnet", or_none(network.subnet), *wanted.subnet);
  }
  if (wanted.gateway) {
    auto gateway = Ipv4::try_parse(*wanted.gateway);
    if (!gateway)
      throw UserError(fmt::format("invalid gateway {}: invalid address", *wanted.gateway));
    if (network.gateway != *gateway) {
      differs(network, "gateway", network.gateway.to_string(), *wanted.gateway);
    }
  }
  if (wanted.ip_range) {
    auto ip_range = Cidr::try_parse(*wanted.ip_range);
    if (!ip_range) {
      throw UserError(
          fmt::format("invalid ip-range {}: invalid CIDR block notation", *wanted.ip_range));
    }
    if (network.ip_range != ip_range) {
      differs(network, "ip-range", or_none(network.ip_range), *wanted.ip_range);
    }
  }
  if (network.internal != wanted.internal) {
    differs(network, "internal", network.internal ? "true" : "false",
            wanted.internal ? "true" : "false");
  }
  if (network.options != wanted.options) {
    differs(network, "options", nlohmann::json(network.options).dump(),
            nlohmann::json(wanted.options).dump());
  }
}

void check_existing_endpoint(const Endpoint& endpoint, const ConfigContainer& container,
                             const ConfigAttachment& attachment) {
  if (endpoint.netns != container.netns) {
    throw UserError(fmt::format("container {} is already attached to netns {}, not {}",
                                container.name, endpoint.netns, container.netns));
  }
  if (attachment.ip && Ipv4::parse(*attachment.ip) != endpoint.ip) {
    throw UserError(
        fmt::format("container {} is already connected to network {} with IP {}, not {}",
                    container.name, attachment.network, endpoint.ip.to_string(), *attachment.ip));
  }
  if (attachment.mac && Mac::parse(*attachment.mac) != endpoint.mac) {
    throw UserError(
        fmt::format("container {} is already connected to network {} with MAC {}, not {}",
                    container.name, attachment.network, endpoint.mac.to_string(), *attachment.mac));
  }
}

// Static addresses of the config, by network ID, so that a container or
// service given an address dynamically does not take an address a later
// container or service asks for explicitly.
std::map<std::string, std::set<Ipv4>> static_ips_by_network(const State& state,
                                                            const Config& config) {
  std::map<std::string, std::set<Ipv4>> result;
  for (const ConfigContainer& container : config.containers) {
    for (const ConfigAttachment& attachment : container.networks) {
      if (!attachment.ip) continue;
      const Network* network = state.find_network(attachment.network);
      auto ip = Ipv4::try_parse(*attachment.ip);
      // Unknown networks and bad addresses are reported by connect().
      if (network != nullptr && ip) result[network->id].insert(*ip);
    }
  }
  for (const ConfigService& service : config.services) {
    if (!service.service.vip) continue;
    const Network* network = state.find_network(service.service.network);
    auto vip = Ipv4::try_parse(*service.service.vip);
    // Unknown networks and bad addresses are reported by ensure_service.
    if (network != nullptr && vip) result[network->id].insert(*vip);
  }
  return result;
}

// A backend of the config: kept if present (a draining one stays draining:
// draining is the operator's call and must survive restarts), else added.
void ensure_backend(State& state, const std::string& service_name, const ConfigBackend& wanted) {
  const Service& service = state.get_service(service_name);
  for (const ServiceBackend& backend : service.backends) {
    const Endpoint* endpoint = state.endpoint(service.network_id, backend.container);
    bool same = backend.container == wanted.container ||
                (endpoint != nullptr && endpoint->container_id == wanted.container);
    if (!same) continue;
    if (wanted.weight && !backend.drained() && backend.weight != *wanted.weight) {
      throw UserError(fmt::format("backend {} of service {} already has weight {}, not {}",
                                  backend.container, service.name, backend.weight, *wanted.weight));
    }
    return;
  }
  add_backend(state, service_name, wanted.container, wanted.weight.value_or(1));
}

}  // namespace

Config parse_config(const nlohmann::json& json) {
  JsonFields fields(json, kRoot, "");
  Config config;
  if (const nlohmann::json* networks = fields.optional_array("networks")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < networks->size(); ++i) {
      std::string path = fmt::format("networks[{}]", i);
      config.networks.push_back(parse_network((*networks)[i], path));
      if (!seen.insert(config.networks.back().name).second) {
        fail_at(kRoot, join_path(path, "name"),
                fmt::format("network \"{}\" is defined twice", config.networks.back().name));
      }
    }
  }
  if (const nlohmann::json* containers = fields.optional_array("containers")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < containers->size(); ++i) {
      std::string path = fmt::format("containers[{}]", i);
      config.containers.push_back(parse_container((*containers)[i], path));
      if (!seen.insert(config.containers.back().name).second) {
        fail_at(kRoot, join_path(path, "name"),
                fmt::format("container \"{}\" is defined twice", config.containers.back().name));
      }
    }
  }
  if (const nlohmann::json* services = fields.optional_array("services")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < services->size(); ++i) {
      std::string path = fmt::format("services[{}]", i);
      config.services.push_back(parse_service((*services)[i], path));
      if (!seen.insert(config.services.back().service.name).second) {
        fail_at(
            kRoot, join_path(path, "name"),
            fmt::format("service \"{}\" is defined twice", config.services.back().service.name));
      }
    }
  }
  config.uplinks = string_array(fields, "uplinks");
  std::set<std::string_view> seen_uplinks;
  for (size_t i = 0; i < config.uplinks.size(); ++i) {
    if (!seen_uplinks.insert(config.uplinks[i]).second) {
      fail_at(kRoot, fmt::format("uplinks[{}]", i),
              fmt::format("interface \"{}\" is listed twice", config.uplinks[i]));
    }
  }
  fields.reject_unknown_keys();
  return config;
}

void apply_config(State& state, const Config& config, const std::vector<Cidr>& host_routes,
                  const PortEnvironment& ports, IdSource& ids, const std::string& now) {
  State work = state;
  for (size_t i = 0; i < config.networks.size(); ++i) {
    const NetworkCreate& wanted = config.networks[i];
    at_entry(fmt::format("networks[{}] ({})", i, wanted.name), [&] {
      if (const Network* existing = work.network_by_name(wanted.name)) {
        check_existing_network(*existing, wanted);
      } else {
        create_network(work, wanted, host_routes, ids, now);
      }
    });
  }

  std::map<std::string, std::set<Ipv4>> static_ips = static_ips_by_network(work, config);
  for (size_t i = 0; i < config.containers.size(); ++i) {
    const ConfigContainer& container = config.containers[i];
    for (size_t j = 0; j < container.networks.size(); ++j) {
      const ConfigAttachment& attachment = container.networks[j];
      std::string where = fmt::format("containers[{}].networks[{}] ({} on {})", i, j,
                                      container.name, attachment.network);
      at_entry(where, [&] {
        const Network& network = work.get_network(attachment.network);
        if (const Endpoint* existing = work.endpoint(network.id, container.name)) {
          check_existing_endpoint(*existing, container, attachment);
          return;
        }
        ConnectRequest request{network.id, container.name, container.netns, attachment.ip,
                               attachment.mac};
        connect(work, request, ids, static_ips[network.id]);
      });
    }
    if (container.ports.empty()) continue;
    std::vector<PortRequest> requests;
    for (size_t j = 0; j < container.ports.size(); ++j) {
      at_entry(fmt::format("containers[{}].ports[{}] ({})", i, j, container.name), [&] {
        std::vector<PortRequest> parsed = parse_port_spec(container.ports[j]);
        requests.insert(requests.end(), parsed.begin(), parsed.end());
      });
    }
    const std::string& network = container.networks.front().network;
    at_entry(fmt::format("containers[{}].ports ({} on {})", i, container.name, network),
             [&] { ensure_ports(work, container.name, requests, network, ports); });
  }

  for (size_t i = 0; i < config.services.size(); ++i) {
    const ConfigService& entry = config.services[i];
    const std::string& name = entry.service.name;
    at_entry(fmt::format("services[{}] ({})", i, name), [&] {
      // Networks are checked by ensure_service; an unknown one has no reservations.
      const Network* network = work.find_network(entry.service.network);
      std::set<Ipv4> keep_free;
      if (network != nullptr) keep_free = static_ips[network->id];
      ensure_service(work, entry.service, ids, ports, keep_free);
    });
    for (size_t j = 0; j < entry.backends.size(); ++j) {
      const ConfigBackend& backend = entry.backends[j];
      at_entry(fmt::format("services[{}].backends[{}] ({} in {})", i, j, backend.container, name),
               [&] { ensure_backend(work, name, backend); });
    }
  }

  for (size_t i = 0; i < config.uplinks.size(); ++i) {
    const std::string& name = config.uplinks[i];
    if (!is_valid_ifname(name)) {
      fail_at(kRoot, fmt::format("uplinks[{}]", i),
              fmt::format("invalid interface name \"{}\"", name));
    }
    if (std::find(work.uplinks.begin(), work.uplinks.end(), name) == work.uplinks.end()) {
      work.uplinks.push_back(name);
    }
  }
  if (work.uplinks.size() > BPFNET_MAX_UPLINKS) {
    fail_at(
        kRoot, "uplinks",
        fmt::format("{} uplinks exceed the limit of {}", work.uplinks.size(), BPFNET_MAX_UPLINKS));
  }
  state = std::move(work);
}

}  // namespace bpfnet::core
