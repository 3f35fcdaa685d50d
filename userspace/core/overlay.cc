#include "core/overlay.h"

#include <fmt/format.h>

#include "core/engine_steps.h"
#include "core/error.h"
#include "core/names.h"
#include "core/network_settings.h"

namespace bpfnet::core {

const Network& mirror_overlay_network(State& state, Network network) {
  if (const Network* known = state.network_by_id(network.id)) return *known;
  if (!network.overlay() || network.vni == 0 || network.vni > kMaxVni || !network.subnet)
    throw UserError(
        fmt::format("network {} is not an overlay network with a VNI and a subnet", network.name));
  validate_network_name(network.name);
  if (const Network* clash = state.network_by_name(network.name))
    throw UserError(fmt::format("overlay network {} ({}) has the name of local network {}",
                                network.name, network.id.substr(0, 12), clash->id.substr(0, 12)));
  check_subnet_free(state, *network.subnet, /*on_pool=*/true);
  network.builtin = false;
  network.docker = false;
  return add_network(state, std::move(network));
}

}  // namespace bpfnet::core
