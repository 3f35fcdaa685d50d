// Docker's remote IPAM protocol (docs: userspace/README.md, "Docker IPAM
// driver"), served next to the network driver on the same plugin socket:
// `docker network create -d bpfnet --ipam-driver bpfnet ...` makes bpfnet's
// pools (core/docker_ipam.h) the one source of the network's addresses.
// Pools of the global address space are bpfnet overlay networks' subnets:
// their addresses are taken in the cluster store first, so no two hosts
// hand out the same one.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/json_fields.h"
#include "daemon/controller.h"

namespace bpfnet::daemon {

// One plugin method: the request's fields -> the answer's JSON; throws
// core::UserError to refuse (answered {"Err"}, nothing changed).
using PluginMethod = std::function<nlohmann::json(Controller&, core::JsonFields&)>;
using PluginMethods = std::map<std::string, PluginMethod, std::less<>>;

// Adds "/IpamDriver.GetCapabilities", "GetDefaultAddressSpaces",
// "RequestPool", "ReleasePool", "RequestAddress" and "ReleaseAddress".
void add_ipam_methods(PluginMethods& table);

}  // namespace bpfnet::daemon
