// The parts of validate_state for endpoints and for the published ports of
// endpoints and services (see core/state_validate.h).
#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "core/json_fields.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/state_validate.h"

namespace bpfnet::core {

void validate_endpoints(const State& state) {
  check_capacity(kEndpointCapacity, state.endpoints.size(), kStateRoot, "endpoints");
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
    StateItem item(item_path("endpoints", i));
    item.check_new_id(ids, endpoint.id);

    const Network& network = bridge_network_of(state, item, endpoint.network_id, "endpoints");

    if (!is_restricted_name(endpoint.container)) {
      item.fail("container", fmt::format("invalid container name \"{}\"", endpoint.container));
    }
    item.check_hex_id("container_id", endpoint.container_id);
    // An overlay with a Docker face takes both: Docker's containers and
    // bpfnetctl's.
    bool docker_face = network.overlay() && !network.docker_network_id.empty();
    if (network.docker != endpoint.docker && !(docker_face && endpoint.docker)) {
      item.fail("docker",
                network.docker
                    ? fmt::format("network \"{}\" takes only Docker's endpoints", network.name)
                    : fmt::format("network \"{}\" is not Docker's", network.name));
    }
    if (endpoint.docker && !endpoint.netns.empty()) {
      item.fail("netns", "a Docker endpoint has no netns (Docker moves its interface)");
    }
    if (!endpoint.docker && endpoint.netns.empty()) item.fail("netns", "must not be empty");
    if (!endpoint.docker && !endpoint.sandbox.empty()) {
      item.fail("sandbox", "only Docker endpoints have a sandbox");
    }
    auto [first, inserted] = first_of_container.emplace(endpoint.container, &endpoint);
    if (!inserted && first->second->container_id != endpoint.container_id) {
      item.fail("container_id", fmt::format("differs from the other endpoints of container \"{}\"",
                                            endpoint.container));
    }
    if (!inserted && first->second->netns != endpoint.netns) {
      item.fail("netns", fmt::format("differs from the other endpoints of container \"{}\"",
                                     endpoint.container));
    }
    auto [owner, id_new] = container_of_id.emplace(endpoint.container_id, endpoint.container);
    if (!id_new && owner->second != endpoint.container) {
      item.fail("container_id", fmt::format("is also the ID of container \"{}\"", owner->second));
    }
    if (!attachments.emplace(endpoint.network_id, endpoint.container).second) {
      item.fail("container", fmt::format("container \"{}\" is connected to network \"{}\" twice",
                                         endpoint.container, network.name));
    }

    if (!is_valid_ifname(endpoint.ifname)) {
      item.fail("ifname", fmt::format("invalid interface name \"{}\"", endpoint.ifname));
    }
    if (!ifnames_in_container.emplace(endpoint.container, endpoint.ifname).second) {
      item.fail("ifname", fmt::format("duplicate interface name \"{}\" in container \"{}\"",
                                      endpoint.ifname, endpoint.container));
    }
    if (!is_valid_ifname(endpoint.host_ifname)) {
      item.fail("host_ifname", fmt::format("invalid interface name \"{}\"", endpoint.host_ifname));
    }
    if (!host_ifnames.insert(endpoint.host_ifname).second) {
      item.fail("host_ifname",
                fmt::format("duplicate interface name \"{}\"", endpoint.host_ifname));
    }

    const Cidr& subnet = *network.subnet;
    if (!subnet.contains(endpoint.ip) || endpoint.ip == subnet.network() ||
        endpoint.ip == subnet.broadcast() || endpoint.ip == network.gateway) {
      item.fail("ip", fmt::format("{} is not an endpoint address of network \"{}\" ({})",
                                  endpoint.ip.to_string(), network.name, subnet.to_string()));
    }
    for (const auto& [name, address] : network.aux_addresses) {
      if (endpoint.ip == address) {
        item.fail("ip", fmt::format("{} is the auxiliary address {} of network \"{}\"",
                                    endpoint.ip.to_string(), name, network.name));
      }
    }
    if (!ips_in_network.emplace(endpoint.network_id, endpoint.ip.value).second) {
      item.fail("ip", fmt::format("{} is used twice in network \"{}\"", endpoint.ip.to_string(),
                                  network.name));
    }
    if (endpoint.mac.is_multicast() || endpoint.mac.is_zero()) {
      item.fail("mac", fmt::format("{} is not a unicast address", endpoint.mac.to_string()));
    }
    if (!macs_in_network.emplace(endpoint.network_id, endpoint.mac).second) {
      item.fail("mac", fmt::format("{} is used twice in network \"{}\"", endpoint.mac.to_string(),
                                   network.name));
    }
  }
}

// Runs after validate_endpoints and validate_services, so every network exists.
void validate_published_ports(const State& state) {
  using Key = std::tuple<Proto, uint16_t, Ipv4>;
  std::map<Key, std::string> owners;  // -> `container "web"` or `service "api"`
  size_t total = 0;
  auto check = [&](const std::vector<PortBinding>& bindings, const std::string& owner_path,
                   std::string_view list, const Network& network, const std::string& owner) {
    for (size_t j = 0; j < bindings.size(); ++j) {
      const PortBinding& binding = bindings[j];
      StateItem item(join_path(owner_path, item_path(list, j)));
      if (binding.container_port == 0) item.fail("container_port", "0 is out of range (1-65535)");
      if (binding.host_port == 0) item.fail("host_port", "0 is out of range (1-65535)");
      if (network.internal) {
        item.fail("",
                  fmt::format("network \"{}\" is internal and cannot publish ports", network.name));
      }
      if (j > 0 && !(bindings[j - 1] < binding)) {
        item.fail("", list == "ports"
                          ? "the ports of an endpoint must be sorted and unique"
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
        item.fail(
            "", fmt::format("{}:{}/{} conflicts with {}:{}/{} of {}", binding.host_ip.to_string(),
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
  check_capacity(kPublishedPortCapacity, total, kStateRoot, "endpoints");
}

}  // namespace bpfnet::core
