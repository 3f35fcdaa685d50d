#include "core/portmap.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/error.h"
#include "core/limits.h"
#include "core/names.h"

namespace bpfnet::core {
namespace {

// Every binding of the State, by (proto, host port, host IP), answering
// Docker's conflict rule. Within one protocol and port, 0.0.0.0 sorts first.
class PortTable {
 public:
  explicit PortTable(const State& state) {
    for (const Endpoint& endpoint : state.endpoints) {
      for (const PortBinding& binding : endpoint.ports) take(binding);
    }
    for (const Service& service : state.services) {
      for (const PortBinding& binding : service.published) take(binding);
    }
  }

  bool conflicts(Proto proto, Ipv4 host_ip, uint16_t port) const {
    if (taken_.contains(Key{proto, port, Ipv4{}})) return true;
    if (host_ip != Ipv4{}) return taken_.contains(Key{proto, port, host_ip});
    auto it = taken_.lower_bound(Key{proto, port, Ipv4{}});
    return it != taken_.end() && std::get<0>(*it) == proto && std::get<1>(*it) == port;
  }

  void take(const PortBinding& binding) {
    taken_.emplace(binding.proto, binding.host_port, binding.host_ip);
  }

 private:
  using Key = std::tuple<Proto, uint16_t, Ipv4>;
  std::set<Key> taken_;
};

size_t binding_count(const State& state) {
  size_t count = 0;
  for (const Endpoint& endpoint : state.endpoints) count += endpoint.ports.size();
  for (const Service& service : state.services) count += service.published.size();
  return count;
}

enum class Kind { kFixed, kRange, kEphemeral };

Kind kind_of(const PortRequest& request) {
  if (request.ephemeral()) return Kind::kEphemeral;
  return request.fixed() ? Kind::kFixed : Kind::kRange;
}

}  // namespace

std::vector<PortBinding> plan_port_bindings(const State& state,
                                            const std::vector<PortRequest>& requests,
                                            const std::vector<PortBinding>& existing, bool reuse,
                                            Ipv4 default_host_ip, const PortEnvironment& env) {
  // The datapath translates TCP and UDP (and ICMP echo); an SCTP packet's
  // CRC32c would have to be recomputed over the whole packet, which it does
  // not do: such a binding would publish nothing, so it is refused.
  for (const PortRequest& request : requests) {
    if (request.proto == Proto::kSctp) {
      throw UserError(fmt::format(
          "cannot publish {}/sctp: bpfnet does not translate SCTP (its CRC32c checksum is not "
          "rewritten); publish tcp or udp",
          request.container_port));
    }
  }
  auto host_ip_of = [&](const PortRequest& request) {
    return request.host_ip.value_or(default_host_ip);
  };
  auto listening = [&](Proto proto, Ipv4 host_ip, uint16_t port) {
    return env.host_listening && env.host_listening(proto, host_ip, port);
  };

  std::vector<bool> done(requests.size(), false);
  if (reuse) {
    std::vector<bool> claimed(existing.size(), false);
    for (Kind pass : {Kind::kFixed, Kind::kRange, Kind::kEphemeral}) {
      for (size_t i = 0; i < requests.size(); ++i) {
        const PortRequest& request = requests[i];
        if (kind_of(request) != pass) continue;
        for (size_t k = 0; k < existing.size() && !done[i]; ++k) {
          const PortBinding& binding = existing[k];
          bool satisfies = !claimed[k] && binding.proto == request.proto &&
                           binding.container_port == request.container_port &&
                           binding.host_ip == host_ip_of(request) &&
                           (request.ephemeral() || (binding.host_port >= request.host_port_first &&
                                                    binding.host_port <= request.host_port_last));
          if (satisfies) claimed[k] = done[i] = true;
        }
      }
    }
  }

  PortTable table(state);
  std::vector<std::optional<PortBinding>> chosen(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const PortRequest& request = requests[i];
    if (done[i] || !request.fixed()) continue;
    PortBinding binding{request.proto, request.container_port, host_ip_of(request),
                        request.host_port_first};
    if (table.conflicts(binding.proto, binding.host_ip, binding.host_port)) {
      throw UserError(fmt::format("Bind for {}:{} failed: port is already allocated",
                                  binding.host_ip.to_string(), binding.host_port));
    }
    if (listening(binding.proto, binding.host_ip, binding.host_port)) {
      throw UserError(fmt::format("failed to bind host port {}:{}/{}: address already in use",
                                  binding.host_ip.to_string(), binding.host_port,
                                  to_string(binding.proto)));
    }
    table.take(binding);
    chosen[i] = binding;
  }

  for (size_t i = 0; i < requests.size(); ++i) {
    const PortRequest& request = requests[i];
    if (done[i] || request.fixed()) continue;
    Ipv4 host_ip = host_ip_of(request);
    uint32_t low = request.host_port_first, high = request.host_port_last;
    if (request.ephemeral()) {
      if (env.ephemeral_low == 0 || env.ephemeral_low > env.ephemeral_high) {
        throw UserError(fmt::format("invalid ephemeral port range {}-{} (ip_local_port_range)",
                                    env.ephemeral_low, env.ephemeral_high));
      }
      low = env.ephemeral_low;
      high = env.ephemeral_high;
    }
    for (uint32_t port = low; port <= high && !chosen[i]; ++port) {
      auto candidate = static_cast<uint16_t>(port);
      if (env.reserved.contains(candidate) || table.conflicts(request.proto, host_ip, candidate) ||
          listening(request.proto, host_ip, candidate)) {
        continue;
      }
      chosen[i] = PortBinding{request.proto, request.container_port, host_ip, candidate};
      table.take(*chosen[i]);
    }
    if (!chosen[i] && request.ephemeral()) {
      throw UserError(fmt::format(
          "Bind for {}/{} failed: all ports of the ephemeral range {}-{} are allocated, reserved "
          "or in use",
          host_ip.to_string(), to_string(request.proto), low, high));
    }
    if (!chosen[i]) {
      throw UserError(fmt::format(
          "Bind for {}:{}-{}/{} failed: all ports of the range are allocated, reserved or in use",
          host_ip.to_string(), low, high, to_string(request.proto)));
    }
  }

  std::vector<PortBinding> added;
  for (const auto& binding : chosen) {
    if (binding) added.push_back(*binding);
  }
  size_t total = binding_count(state) + added.size();
  if (!kPublishedPortCapacity.fits(total)) {
    throw UserError(fmt::format(
        "cannot publish {} more ports: bpfnet supports at most {} published ports ({} in use)",
        added.size(), kPublishedPortCapacity.most, binding_count(state)));
  }
  return added;
}

namespace {

// Chooses a host port for every request not already satisfied by a binding
// of the endpoint (when `reuse` is set); see plan_port_bindings.
std::vector<PortBinding> plan_bindings(const State& state, const Endpoint& endpoint,
                                       const std::vector<PortRequest>& requests,
                                       const PortEnvironment& env, bool reuse) {
  const Network& network = state.get_network(endpoint.network_id);
  if (network.internal && !requests.empty()) {
    throw UserError(fmt::format("cannot publish ports of container {}: network {} is internal",
                                endpoint.container, network.name));
  }
  return plan_port_bindings(state, requests, endpoint.ports, reuse,
                            network.parsed.host_binding_ipv4, env);
}

// Adds the bindings to the endpoint, keeping its list sorted. Allocates
// before it changes anything, so a bad_alloc leaves the State as it was.
void commit_bindings(State& state, const Endpoint& endpoint,
                     const std::vector<PortBinding>& added) {
  std::vector<PortBinding> ports = endpoint.ports;
  ports.insert(ports.end(), added.begin(), added.end());
  std::sort(ports.begin(), ports.end());
  state.endpoints[static_cast<size_t>(&endpoint - state.endpoints.data())].ports.swap(ports);
}

std::vector<PortBinding> publish(State& state, const std::string& container,
                                 const std::vector<PortRequest>& requests,
                                 const std::optional<std::string>& network,
                                 const PortEnvironment& env, bool reuse) {
  const Endpoint& endpoint = port_endpoint(state, container, network);
  std::vector<PortBinding> added = plan_bindings(state, endpoint, requests, env, reuse);
  commit_bindings(state, endpoint, added);
  return added;
}

}  // namespace

std::vector<const Endpoint*> container_endpoints(const State& state, const std::string& container) {
  std::vector<const Endpoint*> endpoints = state.endpoints_of_container(container);
  if (endpoints.empty() && is_hex_id(container)) {
    for (const Endpoint& endpoint : state.endpoints) {
      if (endpoint.container_id == container) endpoints.push_back(&endpoint);
    }
  }
  if (endpoints.empty()) throw UserError(fmt::format("No such container: {}", container));
  return endpoints;
}

const Endpoint& port_endpoint(const State& state, const std::string& container,
                              const std::optional<std::string>& network) {
  std::vector<const Endpoint*> endpoints = container_endpoints(state, container);
  if (!network) return *endpoints.front();
  const Network& wanted = state.get_network(*network);
  for (const Endpoint* endpoint : endpoints) {
    if (endpoint->network_id == wanted.id) return *endpoint;
  }
  throw UserError(
      fmt::format("container {} is not connected to network {}", container, wanted.name));
}

std::vector<PortBinding> add_ports(State& state, const std::string& container,
                                   const std::vector<std::string>& specs,
                                   const std::optional<std::string>& network,
                                   const PortEnvironment& env) {
  if (specs.empty()) throw UserError("no port specified: give at least one port spec");
  std::vector<PortRequest> requests;
  for (const std::string& spec : specs) {
    std::vector<PortRequest> parsed = parse_port_spec(spec);
    requests.insert(requests.end(), parsed.begin(), parsed.end());
  }
  return publish(state, container, requests, network, env, false);
}

std::vector<PortBinding> ensure_ports(State& state, const std::string& container,
                                      const std::vector<PortRequest>& requests,
                                      const std::optional<std::string>& network,
                                      const PortEnvironment& env) {
  return publish(state, container, requests, network, env, true);
}

std::vector<PortBinding> set_endpoint_ports(State& state, const std::string& endpoint_id,
                                            const std::vector<PortRequest>& requests,
                                            const PortEnvironment& env) {
  const Endpoint* endpoint = state.endpoint_by_id(endpoint_id);
  if (endpoint == nullptr) throw UserError(fmt::format("endpoint {} not found", endpoint_id));
  size_t index = static_cast<size_t>(endpoint - state.endpoints.data());
  // Planned against the State without the endpoint's bindings, which are replaced.
  State without = state;
  without.endpoints[index].ports.clear();
  std::vector<PortBinding> ports =
      plan_bindings(without, without.endpoints[index], requests, env, false);
  std::sort(ports.begin(), ports.end());
  state.endpoints[index].ports = ports;
  return ports;
}

std::vector<PortBinding> remove_ports(State& state, const std::string& container,
                                      const std::string& spec) {
  std::vector<const Endpoint*> endpoints = container_endpoints(state, container);
  PortSelector selector = parse_port_selector(spec);
  std::vector<PortBinding> removed;
  std::vector<std::pair<size_t, std::vector<PortBinding>>> kept;
  for (const Endpoint* endpoint : endpoints) {
    std::vector<PortBinding> keep;
    for (const PortBinding& binding : endpoint->ports) {
      (selector.matches(binding) ? removed : keep).push_back(binding);
    }
    if (keep.size() != endpoint->ports.size()) {
      kept.emplace_back(static_cast<size_t>(endpoint - state.endpoints.data()), std::move(keep));
    }
  }
  if (removed.empty()) {
    throw UserError(fmt::format("no public port '{}' published for {}", to_string(selector),
                                endpoints.front()->container));
  }
  for (auto& [index, ports] : kept) state.endpoints[index].ports.swap(ports);
  return removed;
}

const Endpoint* binding_owner(const State& state, const PortBinding& binding) {
  for (const Endpoint& endpoint : state.endpoints) {
    if (std::binary_search(endpoint.ports.begin(), endpoint.ports.end(), binding)) {
      return &endpoint;
    }
  }
  return nullptr;
}

}  // namespace bpfnet::core
