#include "core/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/network_settings.h"
#include "core/uplinks.h"

namespace bpfnet::core {
namespace {

constexpr std::string_view kRoot = "config";

// How a list of the file says an entry repeats another's name: `KIND "NAME"
// is VERB twice`, blamed on the entry or on its `field`.
struct Repeated {
  std::string_view kind;
  std::string_view verb;
  std::string_view field;
};

// The entries of the array `key`, each read by `read(json, path)`, refusing
// one whose name (std::invoke(name_of, entry)) an earlier entry has.
template <typename Read, typename NameOf>
auto unique_items(JsonFields& fields, std::string_view key, Read&& read, NameOf name_of,
                  const Repeated& repeated) {
  std::set<std::string> seen;
  return fields.optional_items(key, [&](const nlohmann::json& json, const std::string& path) {
    auto item = read(json, path);
    const std::string& name = std::invoke(name_of, item);
    if (!seen.insert(name).second) {
      fail_at(kRoot, repeated.field.empty() ? path : join_path(path, repeated.field),
              fmt::format("{} \"{}\" is {} twice", repeated.kind, name, repeated.verb));
    }
    return item;
  });
}

// An entry written as a bare name (which goes to `name`) or as an object
// (read by `read`, see read_object). Anything else: `expected a KIND name or
// an object, got ...`.
template <typename T, typename Read>
T name_or_object(const nlohmann::json& json, const std::string& path, std::string_view kind,
                 std::string T::*name, Read&& read) {
  if (json.is_string()) {
    T value{};
    value.*name = json.get<std::string>();
    return value;
  }
  if (!json.is_object()) {
    fail_at(kRoot, path,
            fmt::format("expected a {} name or an object, got {}", kind, json_type_name(json)));
  }
  return read_object<T>(json, kRoot, path, read);
}

// An array of strings; empty if absent.
std::vector<std::string> string_array(JsonFields& fields, std::string_view key) {
  return fields.optional_string_array(key).value_or(std::vector<std::string>{});
}

NetworkCreate parse_network(const nlohmann::json& json, const std::string& path) {
  return read_object<NetworkCreate>(
      json, kRoot, path,
      [](JsonFields& fields, NetworkCreate& network) { network = read_network_create(fields); });
}

ConfigAttachment parse_attachment(const nlohmann::json& json, const std::string& path) {
  return name_or_object(json, path, "network", &ConfigAttachment::network,
                        [](JsonFields& fields, ConfigAttachment& attachment) {
                          attachment.network = fields.required_string("name");
                          attachment.ip = fields.optional_string("ip");
                          attachment.mac = fields.optional_string("mac");
                        });
}

ConfigContainer parse_container(const nlohmann::json& json, const std::string& path) {
  return read_object<ConfigContainer>(
      json, kRoot, path, [](JsonFields& fields, ConfigContainer& container) {
        container.name = fields.required_string("name");
        container.netns = fields.required_string("netns");
        container.networks =
            unique_items(fields, "networks", parse_attachment, &ConfigAttachment::network,
                         Repeated{"network", "listed", ""});
        container.ports = string_array(fields, "ports");
        if (!container.ports.empty() && container.networks.empty()) {
          fields.fail("ports", "published ports need a network: list one in \"networks\"");
        }
      });
}

ConfigBackend parse_backend(const nlohmann::json& json, const std::string& path) {
  return name_or_object(json, path, "container", &ConfigBackend::container,
                        [](JsonFields& fields, ConfigBackend& backend) {
                          backend.container = fields.required_string("container");
                          if (auto weight = fields.optional_unsigned("weight")) {
                            // Beyond int64: the largest, which add_backend refuses naming it.
                            backend.weight = *weight > static_cast<uint64_t>(INT64_MAX)
                                                 ? INT64_MAX
                                                 : static_cast<int64_t>(*weight);
                          }
                        });
}

ConfigService parse_service(const nlohmann::json& json, const std::string& path) {
  return read_object<ConfigService>(
      json, kRoot, path, [](JsonFields& fields, ConfigService& service) {
        service.service = read_service_create(fields);
        service.backends =
            unique_items(fields, "backends", parse_backend, &ConfigBackend::container,
                         Repeated{"container", "listed", ""});
      });
}

// Re-throws an engine error with the config location in front, so the user
// knows which entry of the file to fix.
template <typename Operation>
void at_entry(const std::string& where, Operation&& operation) {
  at_path(kRoot, where, operation);
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
  if (wanted.subnet && network.subnet != parse_block_setting("subnet", *wanted.subnet)) {
    differs(network, "subnet", or_none(network.subnet), *wanted.subnet);
  }
  if (wanted.gateway && network.gateway != parse_address_setting("gateway", *wanted.gateway)) {
    differs(network, "gateway", network.gateway.to_string(), *wanted.gateway);
  }
  if (wanted.ip_range && network.ip_range != parse_block_setting("ip-range", *wanted.ip_range)) {
    differs(network, "ip-range", or_none(network.ip_range), *wanted.ip_range);
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
  config.networks = unique_items(fields, "networks", parse_network, &NetworkCreate::name,
                                 Repeated{"network", "defined", "name"});
  config.containers = unique_items(fields, "containers", parse_container, &ConfigContainer::name,
                                   Repeated{"container", "defined", "name"});
  config.services = unique_items(
      fields, "services", parse_service,
      [](const ConfigService& service) -> const std::string& { return service.service.name; },
      Repeated{"service", "defined", "name"});
  config.uplinks = string_array(fields, "uplinks");
  std::set<std::string_view> seen_uplinks;
  for (size_t i = 0; i < config.uplinks.size(); ++i) {
    // By interface: "eth0" and "eth0:tc" are the same uplink.
    std::string_view name = config.uplinks[i];
    name = name.substr(0, name.rfind(':'));
    if (!seen_uplinks.insert(name).second) {
      fail_at(kRoot, item_path("uplinks", i),
              fmt::format("interface \"{}\" is listed twice", name));
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
      } else if (wanted.driver == kDriverOverlay) {
        // An overlay lives in the cluster store, not in one host's file.
        throw UserError(
            "driver: overlay networks are created with `bpfnetctl network create -d overlay` "
            "on a bpfnetd with --store");
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
        ConnectRequest request{network.id,    container.name, container.netns,
                               attachment.ip, attachment.mac, std::nullopt};
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
    const std::string& text = config.uplinks[i];
    UplinkSpec spec;
    try {
      spec = parse_uplink_spec(text);
    } catch (const UserError& e) {
      fail_at(kRoot, item_path("uplinks", i), e.what());
    }
    // The config's mode wins over what the state had for the interface.
    auto same = std::find_if(work.uplinks.begin(), work.uplinks.end(), [&](const auto& had) {
      return parse_uplink_spec(had).name == spec.name;
    });
    if (same == work.uplinks.end()) {
      work.uplinks.push_back(text);
    } else {
      *same = text;
    }
  }
  check_capacity(kUplinkCapacity, work.uplinks.size(), kRoot, "uplinks");
  state = std::move(work);
}

}  // namespace bpfnet::core
