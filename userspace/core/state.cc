#include "core/state.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {
namespace {

// The first item whose `member` is `value`, or nullptr.
template <typename T>
const T* first_with(const std::vector<T>& items, std::string T::*member, std::string_view value) {
  for (const T& item : items) {
    if (item.*member == value) return &item;
  }
  return nullptr;
}

// Every item whose `member` is `value`, in order.
template <typename T>
std::vector<const T*> all_with(const std::vector<T>& items, std::string T::*member,
                               std::string_view value) {
  std::vector<const T*> result;
  for (const T& item : items) {
    if (item.*member == value) result.push_back(&item);
  }
  return result;
}

// The one item whose ID starts with `prefix` (nullptr for none or an empty
// prefix). Throws UserError `KIND P is ambiguous (N matches found based on
// ID prefix)`.
template <typename T>
const T* by_id_prefix(const std::vector<T>& items, std::string_view prefix, std::string_view kind) {
  if (prefix.empty()) return nullptr;
  const T* match = nullptr;
  size_t matches = 0;
  for (const T& item : items) {
    if (item.id.starts_with(prefix)) {
      match = &item;
      ++matches;
    }
  }
  if (matches > 1) {
    throw UserError(fmt::format("{} {} is ambiguous ({} matches found based on ID prefix)", kind,
                                prefix, matches));
  }
  return match;
}

// Docker's lookup order: full ID, then name, then unique ID prefix.
template <typename T>
const T* by_name_or_id(const std::vector<T>& items, std::string_view name_or_id,
                       std::string_view kind) {
  if (const T* by_id = first_with(items, &T::id, name_or_id)) return by_id;
  if (const T* by_name = first_with(items, &T::name, name_or_id)) return by_name;
  return by_id_prefix(items, name_or_id, kind);
}

// Throws UserError `KIND NAME not found` for nullptr.
template <typename T>
const T& found(const T* item, std::string_view kind, std::string_view name_or_id) {
  if (item == nullptr) throw UserError(fmt::format("{} {} not found", kind, name_or_id));
  return *item;
}

}  // namespace

// Lookups by one field.

const Network* State::network_by_name(std::string_view name) const {
  return first_with(networks, &Network::name, name);
}

const Network* State::network_by_id(std::string_view id) const {
  return first_with(networks, &Network::id, id);
}

const Network* State::docker_network(std::string_view docker_network_id) const {
  if (docker_network_id.empty()) return nullptr;
  for (const Network& network : networks) {
    if (network.docker_id() == docker_network_id) return &network;
  }
  return nullptr;
}

const Endpoint* State::endpoint_by_id(std::string_view id) const {
  return first_with(endpoints, &Endpoint::id, id);
}

const Service* State::service_by_name(std::string_view name) const {
  return first_with(services, &Service::name, name);
}

const ServiceBackend* Service::backend(std::string_view container) const {
  return first_with(backends, &ServiceBackend::container, container);
}

const Endpoint* State::endpoint(std::string_view network_id, std::string_view container) const {
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.network_id == network_id && endpoint.container == container) return &endpoint;
  }
  return nullptr;
}

std::vector<const Endpoint*> State::endpoints_of_network(std::string_view network_id) const {
  return all_with(endpoints, &Endpoint::network_id, network_id);
}

std::vector<const Endpoint*> State::endpoints_of_container(std::string_view container) const {
  return all_with(endpoints, &Endpoint::container, container);
}

std::vector<const Service*> State::services_of_network(std::string_view network_id) const {
  return all_with(services, &Service::network_id, network_id);
}

const IpamPool* State::ipam_pool_by_id(std::string_view id) const {
  for (const IpamPool& pool : ipam_pools) {
    if (pool.id == id) return &pool;
  }
  return nullptr;
}

const IpamPool* State::ipam_pool_of(const Network& network) const {
  if (!network.subnet) return nullptr;
  for (const IpamPool& pool : ipam_pools) {
    if (pool.pool == *network.subnet) return &pool;
  }
  return nullptr;
}

// What users type: Docker's lookup order, full ID, name, unique ID prefix.

const Network* State::network_by_id_prefix(std::string_view prefix) const {
  return by_id_prefix(networks, prefix, "network");
}

const Network* State::find_network(std::string_view name_or_id) const {
  return by_name_or_id(networks, name_or_id, "network");
}

const Service* State::find_service(std::string_view name_or_id) const {
  return by_name_or_id(services, name_or_id, "service");
}

const Network& State::get_network(std::string_view name_or_id) const {
  return found(find_network(name_or_id), "network", name_or_id);
}

const Service& State::get_service(std::string_view name_or_id) const {
  return found(find_service(name_or_id), "service", name_or_id);
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
