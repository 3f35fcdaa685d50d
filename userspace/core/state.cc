#include "core/state.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {

const Network* State::network_by_name(std::string_view name) const {
  for (const Network& network : networks) {
    if (network.name == name) return &network;
  }
  return nullptr;
}

const Network* State::network_by_id(std::string_view id) const {
  for (const Network& network : networks) {
    if (network.id == id) return &network;
  }
  return nullptr;
}

const Network* State::network_by_id_prefix(std::string_view prefix) const {
  if (prefix.empty()) return nullptr;
  const Network* match = nullptr;
  size_t matches = 0;
  for (const Network& network : networks) {
    if (network.id.starts_with(prefix)) {
      match = &network;
      ++matches;
    }
  }
  if (matches > 1) {
    throw UserError(fmt::format("network {} is ambiguous ({} matches found based on ID prefix)",
                                prefix, matches));
  }
  return match;
}

const Network* State::find_network(std::string_view name_or_id) const {
  if (const Network* by_id = network_by_id(name_or_id)) return by_id;
  if (const Network* by_name = network_by_name(name_or_id)) return by_name;
  return network_by_id_prefix(name_or_id);
}

const Network& State::get_network(std::string_view name_or_id) const {
  const Network* network = find_network(name_or_id);
  if (network == nullptr) throw UserError(fmt::format("network {} not found", name_or_id));
  return *network;
}

std::vector<const Endpoint*> State::endpoints_of_network(std::string_view network_id) const {
  std::vector<const Endpoint*> result;
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.network_id == network_id) result.push_back(&endpoint);
  }
  return result;
}

std::vector<const Endpoint*> State::endpoints_of_container(std::string_view container) const {
  std::vector<const Endpoint*> result;
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.container == container) result.push_back(&endpoint);
  }
  return result;
}

const Endpoint* State::endpoint(std::string_view network_id, std::string_view container) const {
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.network_id == network_id && endpoint.container == container) return &endpoint;
  }
  return nullptr;
}

const Endpoint* State::endpoint_by_id(std::string_view id) const {
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.id == id) return &endpoint;
  }
  return nullptr;
}

const ServiceBackend* Service::backend(std::string_view container) const {
  for (const ServiceBackend& backend : backends) {
    if (backend.container == container) return &backend;
  }
  return nullptr;
}

const Service* State::service_by_name(std::string_view name) const {
  for (const Service& service : services) {
    if (service.name == name) return &service;
  }
  return nullptr;
}

const Service* State::find_service(std::string_view name_or_id) const {
  for (const Service& service : services) {
    if (service.id == name_or_id) return &service;
  }
  if (const Service* by_name = service_by_name(name_or_id)) return by_name;
  if (name_or_id.empty()) return nullptr;
  const Service* match = nullptr;
  size_t matches = 0;
  for (const Service& service : services) {
    if (service.id.starts_with(name_or_id)) {
      match = &service;
      ++matches;
    }
  }
  if (matches > 1) {
    throw UserError(fmt::format("service {} is ambiguous ({} matches found based on ID prefix)",
                                name_or_id, matches));
  }
  return match;
}

const Service& State::get_service(std::string_view name_or_id) const {
  const Service* service = find_service(name_or_id);
  if (service == nullptr) throw UserError(fmt::format("service {} not found", name_or_id));
  return *service;
}

std::vector<const Service*> State::services_of_network(std::string_view network_id) const {
  std::vector<const Service*> result;
  for (const Service& service : services) {
    if (service.network_id == network_id) result.push_back(&service);
  }
  return result;
}

State initial_state(IdSource& ids, const std::string& now) {
  State state;
  for (auto [name, driver] :
       {std::pair{kHostNetworkName, kDriverHost}, std::pair{kNoneNetworkName, kDriverNull}}) {
    Network network;
    network.id =
        fresh_id(ids, [&](const std::string& id) { return state.network_by_id(id) != nullptr; });
    network.name = name;
    network.driver = driver;
    network.created = now;
    network.builtin = true;
    state.networks.push_back(std::move(network));
  }
  return state;
}

}  // namespace bpfnet::core
