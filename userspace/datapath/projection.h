// Desired state -> map contents: the only place that knows how a network,
// an endpoint, a published port or a service becomes map entries (flags,
// byte orders, which table). Pure, so it is tested without root.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/state.h"
#include "datapath/host_facts.h"
#include "datapath/map_model.h"

namespace bpfnet::datapath {

// `links`: endpoint id -> its host veth; endpoints without one (not plumbed,
// or their namespace is gone) get no entries.
// The tunnel-map entry of remote endpoint `ip` (host order) on this host:
// none unless its network is an overlay this host mirrors.
std::optional<TunnelEntry> tunnel_entry(const core::State& state, uint32_t ip,
                                        const RemoteEndpointFact& remote);

MapContents project(const core::State& state, const std::map<std::string, HostLink>& links,
                    const HostFacts& host = {});

}  // namespace bpfnet::datapath
