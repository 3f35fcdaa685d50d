#include "core/inspect.h"

#include <fmt/format.h>

#include <stdexcept>

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

}  // namespace

nlohmann::json network_inspect(const State& state, const Network& network) {
  nlohmann::json ipam_config = nlohmann::json::array();
  if (network.subnet) {
    nlohmann::json entry = {{"Subnet", network.subnet->to_string()},
                            {"Gateway", network.gateway.to_string()}};
    if (network.ip_range) entry["IPRange"] = network.ip_range->to_string();
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
      {"Scope", "local"},
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
      {"Options", network.options},
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

}  // namespace bpfnet::core
