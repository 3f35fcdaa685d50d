#include "core/remote_backend.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace bpfnet::core {

BackendName split_backend_name(std::string_view name) {
  size_t at = name.find('@');
  if (at == std::string_view::npos) return {name, {}};
  return {name.substr(0, at), name.substr(at + 1)};
}

bool is_remote_backend(std::string_view name) { return name.find('@') != std::string_view::npos; }

std::string remote_backend_name(const Network& network, std::string_view name,
                                std::string_view self, const std::vector<RemoteContainer>& remote) {
  BackendName parts = split_backend_name(name);
  if (parts.container.empty() || parts.host.empty() || is_remote_backend(parts.host))
    throw UserError(fmt::format(
        "invalid backend \"{}\": expected CONTAINER or CONTAINER@HOST (a container on another "
        "host of an overlay network)",
        name));
  if (!network.overlay())
    throw UserError(
        fmt::format("{} names a container on another host: network {} is not an overlay network",
                    name, network.name));
  if (parts.host == self)
    throw UserError(fmt::format("{}: host {} is this host, name the container alone ({})", name,
                                self, parts.container));
  if (!find_remote_backend(remote, network.id, name))
    throw UserError(fmt::format("container {} is not connected to network {} on host {}",
                                parts.container, network.name, parts.host));
  return std::string(name);
}

const RemoteContainer* find_remote_backend(const std::vector<RemoteContainer>& remote,
                                           std::string_view network_id, std::string_view name) {
  BackendName parts = split_backend_name(name);
  auto it = std::find_if(remote.begin(), remote.end(), [&](const RemoteContainer& c) {
    return c.network_id == network_id && c.container == parts.container && c.host == parts.host;
  });
  return it == remote.end() ? nullptr : &*it;
}

}  // namespace bpfnet::core
