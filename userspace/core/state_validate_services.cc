// The part of validate_state for services (see core/state_validate.h).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/json_fields.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/service.h"
#include "core/state_validate.h"

namespace bpfnet::core {

// Runs after validate_endpoints. Conflicts between published ports are left
// to validate_published_ports.
void validate_services(const State& state) {
  check_capacity(kServiceIndexes.capacity, state.services.size(), kStateRoot, "services");
  std::set<std::string_view> ids, names;
  std::set<uint32_t> indexes;
  std::map<uint32_t, std::string_view> vips;         // -> service name
  std::map<uint32_t, std::string_view> backend_ids;  // -> service name
  for (size_t i = 0; i < state.services.size(); ++i) {
    const Service& service = state.services[i];
    StateItem item(item_path("services", i));
    item.check_new_id(ids, service.id);
    if (!is_restricted_name(service.name)) {
      item.fail("name", fmt::format("invalid service name \"{}\"", service.name));
    }
    if (!names.insert(service.name).second) {
      item.fail("name", fmt::format("duplicate service name \"{}\"", service.name));
    }
    if (!kServiceIndexes.contains(service.index)) {
      item.fail("index", outside_message(service.index, 1, kServiceIndexes.last()));
    }
    if (!indexes.insert(service.index).second) {
      item.fail("index", fmt::format("duplicate index {}", service.index));
    }

    const Network& network = bridge_network_of(state, item, service.network_id, "services");
    const Cidr& subnet = *network.subnet;
    if (!subnet.contains(service.vip) || service.vip == subnet.network() ||
        service.vip == subnet.broadcast() || service.vip == network.gateway) {
      item.fail("vip", fmt::format("{} is not a usable address of network \"{}\" ({})",
                                   service.vip.to_string(), network.name, subnet.to_string()));
    }
    for (const Endpoint* endpoint : state.endpoints_of_network(network.id)) {
      if (endpoint->ip == service.vip) {
        item.fail("vip", fmt::format("{} is also the address of container \"{}\"",
                                     service.vip.to_string(), endpoint->container));
      }
    }
    for (const auto& [name, address] : network.aux_addresses) {
      if (service.vip == address) {
        item.fail("vip", fmt::format("{} is the auxiliary address {} of network \"{}\"",
                                     service.vip.to_string(), name, network.name));
      }
    }
    auto [other, vip_new] = vips.emplace(service.vip.value, service.name);
    if (!vip_new) {
      item.fail("vip", fmt::format("{} is also the VIP of service \"{}\"", service.vip.to_string(),
                                   other->second));
    }

    if (service.ports.empty()) item.fail("ports", "a service needs at least one port");
    for (size_t j = 0; j < service.ports.size(); ++j) {
      const auto& [proto, port] = service.ports[j];
      if (port == 0) item.fail(item_path("ports", j), "0 is out of range (1-65535)");
      if (j > 0 && !(std::pair(service.ports[j - 1].second, service.ports[j - 1].first) <
                     std::pair(port, proto))) {
        item.fail(item_path("ports", j),
                  "the ports of a service must be sorted (by port, then protocol) and unique");
      }
    }
    for (size_t j = 0; j < service.published.size(); ++j) {
      const PortBinding& binding = service.published[j];
      std::pair port{binding.proto, binding.container_port};
      if (std::find(service.ports.begin(), service.ports.end(), port) == service.ports.end()) {
        item.fail(join_path(item_path("published", j), "container_port"),
                  fmt::format("{}/{} is not a port of the service", binding.container_port,
                              to_string(binding.proto)));
      }
    }
    if (service.affinity_timeout_s &&
        (*service.affinity_timeout_s < 1 || *service.affinity_timeout_s > kMaxAffinityTimeoutS)) {
      item.fail("affinity_timeout_s",
                outside_message(*service.affinity_timeout_s, 1, kMaxAffinityTimeoutS));
    }
    at_path(kStateRoot, join_path(item.path(), "table_size"),
            [&] { check_maglev_table_size(service.table_size); });
    at_path(kStateRoot, join_path(item.path(), "health"),
            [&] { validate_health_check(service.health); });

    uint32_t most = service.table_size / kSlotsPerBackend;
    if (service.backends.size() > most) {
      item.fail("backends",
                fmt::format("{} backends exceed the limit of {} for a table of {} slots",
                            service.backends.size(), most, service.table_size));
    }
    std::set<std::string_view> containers;
    for (size_t k = 0; k < service.backends.size(); ++k) {
      const ServiceBackend& backend = service.backends[k];
      StateItem backend_item(join_path(item.path(), item_path("backends", k)));
      // A backend on another host is the cluster's to know (core/remote_backend.h).
      if (is_remote_backend(backend.container) && !network.overlay()) {
        backend_item.fail("container",
                          fmt::format("container \"{}\" on another host, but network \"{}\" is "
                                      "not an overlay network",
                                      backend.container, network.name));
      } else if (!is_remote_backend(backend.container) &&
                 state.endpoint(network.id, backend.container) == nullptr) {
        backend_item.fail("container",
                          fmt::format("container \"{}\" is not connected to network \"{}\"",
                                      backend.container, network.name));
      }
      if (!containers.insert(backend.container).second) {
        backend_item.fail("container",
                          fmt::format("container \"{}\" is a backend twice", backend.container));
      }
      if (!kBackendIds.contains(backend.id)) {
        backend_item.fail("id", outside_message(backend.id, 1, kBackendIds.last()));
      }
      auto [owner, id_new] = backend_ids.emplace(backend.id, service.name);
      if (!id_new) {
        backend_item.fail("id", fmt::format("duplicate backend ID {} (also in service \"{}\")",
                                            backend.id, owner->second));
      }
      if (backend.weight > kMaxBackendWeight) {
        backend_item.fail("weight", outside_message(backend.weight, 0, kMaxBackendWeight));
      }
    }
  }
}

}  // namespace bpfnet::core
