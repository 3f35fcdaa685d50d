#include "core/engine_steps.h"

#include <fmt/format.h>

#include <utility>

#include "core/error.h"
#include "core/limits.h"

namespace bpfnet::core {
namespace {

constexpr std::string_view kDummyPrefix = "bn-";
constexpr size_t kDummyIdChars = 12;
constexpr std::string_view kVethPrefix = "bnv";
constexpr size_t kVethIdChars = 11;
// The container side of a Docker endpoint's veth, until Docker renames it.
constexpr std::string_view kDockerPeerPrefix = "bnc";
// Docker endpoints are named after their ID, as Docker shortens IDs.
constexpr size_t kShortIdChars = 12;

// Locally administered unicast MAC from random hex, for the rare case where
// the classic 02:42:<ip> address is already taken by an explicit --mac.
Mac random_mac(const std::string& hex) {
  Mac mac = Mac::parse(fmt::format("{}:{}:{}:{}:{}:{}", hex.substr(0, 2), hex.substr(2, 2),
                                   hex.substr(4, 2), hex.substr(6, 2), hex.substr(8, 2),
                                   hex.substr(10, 2)));
  mac.bytes[0] = static_cast<uint8_t>((mac.bytes[0] & 0xfe) | 0x02);
  return mac;
}

}  // namespace

std::string dummy_ifname_for(const std::string& network_id) {
  return std::string(kDummyPrefix) + network_id.substr(0, kDummyIdChars);
}

std::string host_ifname_for(const std::string& endpoint_id) {
  return std::string(kVethPrefix) + endpoint_id.substr(0, kVethIdChars);
}

std::string docker_peer_ifname_for(const std::string& endpoint_id) {
  return std::string(kDockerPeerPrefix) + endpoint_id.substr(0, kVethIdChars);
}

std::string docker_container_name(const std::string& endpoint_id) {
  return endpoint_id.substr(0, kShortIdChars);
}

const Network& add_network(State& state, Network network) {
  network.parsed = parse_network_options(network.options);
  std::vector<uint32_t> used;
  for (const Network& other : state.networks) {
    if (!other.builtin) used.push_back(other.index);
  }
  network.index = lowest_free_index(kNetworkIndexes, used, "cannot create network");
  network.dummy_ifname = dummy_ifname_for(network.id);
  state.networks.push_back(std::move(network));
  return state.networks.back();
}

Network erase_network(State& state, const Network& network) {
  auto it = state.networks.begin() + (&network - state.networks.data());
  Network removed = std::move(*it);
  state.networks.erase(it);
  return removed;
}

void check_endpoint_room(const State& state, const std::string& container) {
  check_room(kEndpointCapacity, state.endpoints.size() + 1,
             fmt::format("cannot connect container {}", container));
}

Endpoint erase_endpoint(State& state, std::vector<Endpoint>::iterator it) {
  Endpoint removed = std::move(*it);
  state.endpoints.erase(it);
  for (Service& service : state.services) {
    if (service.network_id != removed.network_id) continue;
    std::erase_if(service.backends, [&](const ServiceBackend& backend) {
      return backend.container == removed.container;
    });
  }
  return removed;
}

Mac choose_mac(const Network& network, const std::optional<std::string>& text, Ipv4 ip,
               const std::vector<const Endpoint*>& on_network, IdSource& ids) {
  auto owner_of = [&](const Mac& mac) -> const Endpoint* {
    for (const Endpoint* endpoint : on_network) {
      if (endpoint->mac == mac) return endpoint;
    }
    return nullptr;
  };
  if (text) {
    Mac mac = Mac::parse_unicast(*text);
    if (const Endpoint* owner = owner_of(mac)) {
      throw UserError(fmt::format("MAC address {} is already in use on network {} by container {}",
                                  mac.to_string(), network.name, owner->container));
    }
    return mac;
  }
  Mac classic = mac_for_ip(ip);
  if (owner_of(classic) == nullptr) return classic;
  std::string hex =
      fresh_id(ids, [&](const std::string& id) { return owner_of(random_mac(id)) != nullptr; });
  return random_mac(hex);
}

}  // namespace bpfnet::core
