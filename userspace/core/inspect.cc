#include "core/inspect.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include "core/portmap.h"

namespace bpfnet::core {
namespace {

const Network& network_of(const State& state, const Endpoint& endpoint) {
  const Network* network = state.network_by_id(endpoint.network_id);
  // validate_state guarantees this; reaching it means the caller broke the State.
  if (network == nullptr || !network->subnet) {
    throw std::logic_error("endpoint " + endpoint.id + " refers to no bridge network");
  }
  return *network;
}

// The bindings of one container, in `docker port` order.
nlohmann::json container_ports(const State& state, const std::vector<const Endpoint*>& endpoints) {
  struct Row {
    const Endpoint* endpoint;
    const PortBinding* binding;
    const std::string* network;
  };
  std::vector<Row> rows;
  for (const Endpoint* endpoint : endpoints) {
    for (const PortBinding& binding : endpoint->ports) {
      rows.push_back({endpoint, &binding, &network_of(state, *endpoint).name});
    }
  }
  auto key = [](const Row& row) {
    const PortBinding& b = *row.binding;
    return std::tie(b.container_port, b.proto, b.host_ip, b.host_port, *row.network);
  };
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return key(a) < key(b); });
  nlohmann::json bindings = nlohmann::json::array();
  for (const Row& row : rows) bindings.push_back(binding_json(state, *row.endpoint, *row.binding));
  return {{"container", endpoints.front()->container}, {"bindings", bindings}};
}

// Docker shows an overlay network's VNI as its vxlanid_list option.
nlohmann::json shown_options(const Network& network) {
  nlohmann::json options = network.options;
  if (network.overlay()) options[std::string(kVxlanIdListOption)] = std::to_string(network.vni);
  return options;
}

}  // namespace

nlohmann::json network_inspect(const State& state, const Network& network) {
  nlohmann::json ipam_config = nlohmann::json::array();
  if (network.subnet) {
    nlohmann::json entry = {{"Subnet", network.subnet->to_string()},
                            {"Gateway", network.gateway.to_string()}};
    if (network.ip_range) entry["IPRange"] = network.ip_range->to_string();
    if (!network.aux_addresses.empty()) {
      nlohmann::json aux = nlohmann::json::object();
      for (const auto& [name, address] : network.aux_addresses) aux[name] = address.to_string();
      entry["AuxiliaryAddresses"] = std::move(aux);
    }
    ipam_config.push_back(std::move(entry));
  }

  nlohmann::json containers = nlohmann::json::object();
  for (const Endpoint* endpoint : state.endpoints_of_network(network.id)) {
    containers[endpoint->container_id] = {
        {"Name", endpoint->container},
        {"EndpointID", endpoint->id},
        {"MacAddress", endpoint->mac.to_string()},
        {"IPv4Address", fmt::format("{}/{}", endpoint->ip.to_string(),
                                    network.subnet ? network.subnet->prefix_len : 32)},
        {"IPv6Address", ""},
    };
  }

  return {
      {"Name", network.name},
      {"Id", network.id},
      {"Created", network.created},
      {"Scope", network.overlay() ? "global" : "local"},
      {"Driver", network.driver},
      {"EnableIPv4", true},
      {"EnableIPv6", false},
      {"IPAM",
       {{"Driver", "default"}, {"Options", nlohmann::json::object()}, {"Config", ipam_config}}},
      {"Internal", network.internal},
      {"Attachable", false},
      {"Ingress", false},
      {"ConfigFrom", {{"Network", ""}}},
      {"ConfigOnly", false},
      {"Containers", containers},
      {"Options", shown_options(network)},
      {"Labels", nlohmann::json::object()},
  };
}

nlohmann::json endpoint_json(const State& state, const Endpoint& endpoint) {
  const Network& network = network_of(state, endpoint);
  return {
      {"container", endpoint.container},
      {"network", network.name},
      {"endpoint_id", endpoint.id},
      {"ip", endpoint.ip.to_string()},
      {"prefix_len", network.subnet->prefix_len},
      {"mac", endpoint.mac.to_string()},
      {"gateway", network.gateway.to_string()},
      {"ifname", endpoint.ifname},
      {"host_ifname", endpoint.host_ifname},
  };
}

nlohmann::json binding_json(const State& state, const Endpoint& endpoint,
                            const PortBinding& binding) {
  return {
      {"proto", to_string(binding.proto)},           {"container_port", binding.container_port},
      {"host_ip", binding.host_ip.to_string()},      {"host_port", binding.host_port},
      {"network", network_of(state, endpoint).name}, {"container_ip", endpoint.ip.to_string()},
  };
}

nlohmann::json ports_json(const State& state, const std::optional<std::string>& container) {
  nlohmann::json result = nlohmann::json::array();
  if (container) {
    result.push_back(container_ports(state, container_endpoints(state, *container)));
    return result;
  }
  std::map<std::string_view, std::vector<const Endpoint*>> by_container;
  for (const Endpoint& endpoint : state.endpoints) {
    if (!endpoint.ports.empty()) by_container[endpoint.container].push_back(&endpoint);
  }
  for (const auto& [name, endpoints] : by_container) {
    result.push_back(container_ports(state, endpoints));
  }
  return result;
}

}  // namespace bpfnet::core
