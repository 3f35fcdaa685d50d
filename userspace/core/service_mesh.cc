#include "core/service_mesh.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/health.h"
#include "core/ports.h"

namespace bpfnet::core {

ServiceCreate recreate_request(const Service& service) {
  ServiceCreate request;
  request.name = service.name;
  request.network = service.network_id;
  request.vip = service.vip.to_string();
  for (const auto& port : service.ports) request.ports.push_back(service_port_string(port));
  for (const PortBinding& b : service.published)
    request.publish.push_back(fmt::format("{}:{}:{}/{}", b.host_ip.to_string(), b.host_port,
                                          b.container_port, to_string(b.proto)));
  if (service.affinity_timeout_s)
    request.affinity = fmt::format("client-ip:{}", *service.affinity_timeout_s);
  request.table_size = service.table_size;
  request.health = health_spec_from_json(health_to_json(service.health), "service", "health");
  return request;
}

std::string cluster_backend_name(std::string_view name, std::string_view self) {
  if (is_remote_backend(name)) return std::string(name);
  return fmt::format("{}@{}", name, self);
}

std::string local_backend_name(std::string_view name, std::string_view self) {
  const BackendName parts = split_backend_name(name);
  if (parts.host == self) return std::string(parts.container);
  return std::string(name);
}

std::vector<ServiceBackend> cluster_backends(const Service& service, std::string_view self) {
  std::vector<ServiceBackend> out = service.backends;
  for (ServiceBackend& backend : out)
    backend.container = cluster_backend_name(backend.container, self);
  return out;
}

namespace {

const ServiceBackend* named(const std::vector<ServiceBackend>& list, std::string_view name) {
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const ServiceBackend& b) { return b.container == name; });
  return it == list.end() ? nullptr : &*it;
}

}  // namespace

void merge_backend_change(std::vector<ServiceBackend>& target,
                          const std::vector<ServiceBackend>& before,
                          const std::vector<ServiceBackend>& after) {
  for (const ServiceBackend& gone : before)
    if (!named(after, gone.container))
      std::erase_if(target, [&](const ServiceBackend& b) { return b.container == gone.container; });
  for (const ServiceBackend& now : after) {
    const ServiceBackend* was = named(before, now.container);
    if (was && was->weight == now.weight) continue;
    auto it = std::find_if(target.begin(), target.end(),
                           [&](const ServiceBackend& b) { return b.container == now.container; });
    if (it == target.end())
      target.push_back(now);
    else
      it->weight = now.weight;
  }
}

std::vector<std::string> set_cluster_backends(State& state, const std::string& name,
                                              const std::vector<ServiceBackend>& wanted,
                                              std::string_view self,
                                              const std::vector<RemoteContainer>& remote) {
  std::vector<std::string> problems;
  std::vector<std::string> local_names;
  for (const ServiceBackend& backend : wanted)
    local_names.push_back(local_backend_name(backend.container, self));
  // Gone first, so that a re-added one gets its old ID back.
  std::vector<std::string> gone;
  for (const ServiceBackend& backend : state.get_service(name).backends)
    if (std::find(local_names.begin(), local_names.end(), backend.container) == local_names.end())
      gone.push_back(backend.container);
  for (const std::string& container : gone) remove_backend(state, name, container);
  for (size_t i = 0; i < wanted.size(); ++i) {
    const std::string& container = local_names[i];
    const uint32_t weight = wanted[i].weight;
    try {
      const ServiceBackend* had = state.get_service(name).backend(container);
      if (had && had->weight == weight) continue;
      if (had) {
        // In place: its ID (its Maglev permutation) and so its flows stay.
        if (weight > kMaxBackendWeight)
          throw UserError(
              fmt::format("invalid weight {}: must be 0..{}", weight, kMaxBackendWeight));
        for (Service& svc : state.services)
          for (ServiceBackend& backend : svc.backends)
            if (svc.name == name && backend.container == container) backend.weight = weight;
        continue;
      }
      State next = state;
      add_backend(next, name, container, weight == 0 ? 1 : weight, self, remote);
      if (weight == 0) drain_backend(next, name, container);
      state = std::move(next);
    } catch (const UserError& e) {
      problems.push_back(fmt::format("backend {}: {}", wanted[i].container, e.what()));
    }
  }
  return problems;
}

}  // namespace bpfnet::core
