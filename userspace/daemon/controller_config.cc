// The config file's services on overlay networks. bpfnetd reads --config
// before it joins the cluster; an overlay created on another host is in this
// host's state only once the join mirrors the cluster's networks. Such a
// service waits for that (a config naming the overlay works on a new host),
// then is made as `service create` makes it: with the VIP the cluster gives
// (the same service's VIP on another host, else one no host has given out).
#include <fmt/format.h>

#include <algorithm>

#include "core/config.h"
#include "core/error.h"
#include "core/remote_backend.h"
#include "core/service.h"
#include "daemon/controller.h"
#include "daemon/log.h"

namespace bpfnet::daemon {

void Controller::defer_cluster_services(const core::State& state, core::Config& config) {
  // Without a cluster there is nothing to wait for: apply_config says
  // "network not found" and bpfnetd stops, as before.
  if (!cluster_) return;
  auto in_config = [&](const std::string& network) {
    return std::any_of(config.networks.begin(), config.networks.end(),
                       [&](const core::NetworkCreate& n) { return n.name == network; });
  };
  std::vector<core::ConfigService> now;
  for (core::ConfigService& entry : config.services) {
    const std::string& network = entry.service.network;
    if (state.find_network(network) || in_config(network))
      now.push_back(std::move(entry));
    else
      deferred_services_.push_back(std::move(entry));
  }
  config.services = std::move(now);
  for (const auto& entry : deferred_services_)
    info(
        fmt::format("--config: service {}: network {} is not here yet: the service is made "
                    "after joining the cluster",
                    entry.service.name, entry.service.network));
}

void Controller::apply_deferred_services() {
  std::vector<core::ConfigService> waiting;
  for (const core::ConfigService& entry : deferred_services_) {
    const std::string& name = entry.service.name;
    const std::string& network = entry.service.network;
    if (!state_.find_network(network)) {
      // Not in the cluster either: said once; made if the network comes.
      if (deferred_reported_.insert(name).second)
        error(
            fmt::format("--config: service {}: network {} not found, neither on this host nor "
                        "in the cluster: the service is not made (until an overlay network {} "
                        "is created)",
                        name, network, network));
      waiting.push_back(entry);
      continue;
    }
    bool made_here = false;
    try {
      if (!state_.find_service(name)) {
        create_config_overlay_service(entry.service);
        made_here = true;
      }
      // Its backends (and a check of the service against the config): the
      // ones on other hosts first, checked against the cluster's view as
      // service.add-backend checks them (apply_config knows no cluster).
      core::Config rest;
      rest.services.push_back(entry);
      update([&](core::State& next) {
        for (const core::ConfigBackend& backend : entry.backends)
          if (core::is_remote_backend(backend.container) &&
              !next.get_service(name).backend(backend.container))
            core::add_backend(next, name, backend.container, backend.weight.value_or(1),
                              cluster_host_name(), remote_containers());
        core::apply_config(next, rest, plumbing_.host_routes(), plumbing_.port_environment(), ids_,
                           now_());
      });
      info(fmt::format("--config: service {} on network {}: VIP {}", name, network,
                       state_.get_service(name).vip.to_string()));
    } catch (const std::exception& e) {
      // Nothing half made: a service without the backends its config gives
      // would balance to the wrong set. Tried again at the next change of
      // the cluster (a remote backend's host may join), said once.
      if (made_here) {
        try {
          remove_service(name);
        } catch (const std::exception& undo) {
          warn(fmt::format("--config: service {}: undoing it: {}", name, undo.what()));
        }
      }
      const std::string why =
          fmt::format("--config: service {} on network {}: {}", name, network, e.what());
      if (deferred_reported_.insert(why).second) error(why);
      waiting.push_back(entry);
    }
  }
  deferred_services_ = std::move(waiting);
}

}  // namespace bpfnet::daemon
