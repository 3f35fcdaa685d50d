// Service backends on other hosts (services across hosts, Swarm's routing
// mesh): on an overlay network a backend may be a container on any host,
// named CONTAINER@HOST (`@` is in no container name). This host knows such a
// container only from the cluster view: it is a backend while the view has
// it, and out of the Maglev table while it does not (its host or container
// went away), until it comes back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// A container on another host of an overlay network, as the cluster has it.
struct RemoteContainer {
  std::string network_id;
  std::string container;
  std::string host;
  Ipv4 ip;
  std::string endpoint_id{};  // its endpoint's ID in the cluster
  bool operator==(const RemoteContainer&) const = default;
};

struct BackendName {
  std::string_view container;
  std::string_view host;  // empty: this host
};

// "web@h3" -> {"web", "h3"}; "web" -> {"web", ""}.
BackendName split_backend_name(std::string_view name);
bool is_remote_backend(std::string_view name);

// The backend name a service on `network` stores for `name`, a container on
// another host (CONTAINER@HOST, HOST not `self`) that `remote` lists on that
// network. Throws UserError `CONTAINER@HOST names a container on another
// host: network front is not an overlay network` or `container web is not
// connected to network front on host h3`.
std::string remote_backend_name(const Network& network, std::string_view name,
                                std::string_view self, const std::vector<RemoteContainer>& remote);

// The address of remote backend `name` of a service on `network_id`, if the
// cluster has it.
const RemoteContainer* find_remote_backend(const std::vector<RemoteContainer>& remote,
                                           std::string_view network_id, std::string_view name);

}  // namespace bpfnet::core
