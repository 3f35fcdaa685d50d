#include "daemon/docker_ipam.h"

#include <fmt/format.h>

#include <optional>

#include "core/docker_ipam.h"
#include "core/error.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;

// Docker's RequestAddress option naming the container (Docker's endpoint name).
constexpr const char* kEndpointNameOption = "com.docker.network.endpoint.name";

// Go sends nil maps as null and unset strings as "": both read as absent.
std::optional<std::string> non_empty_string(core::JsonFields& fields, std::string_view key) {
  const json* value = fields.find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  std::optional<std::string> text = fields.optional_string(key);
  if (text && text->empty()) return std::nullopt;
  return text;
}

std::map<std::string, std::string> options_of(core::JsonFields& fields) {
  const json* value = fields.find("Options");
  if (value == nullptr || value->is_null()) return {};
  return fields.optional_string_map("Options");
}

json request_pool(Controller& controller, core::JsonFields& request) {
  core::IpamPoolRequest wanted;
  wanted.address_space = request.required_string("AddressSpace");
  wanted.pool = non_empty_string(request, "Pool");
  wanted.sub_pool = non_empty_string(request, "SubPool");
  wanted.options = options_of(request);
  wanted.v6 = request.optional_bool("V6", false);
  std::vector<core::Cidr> host_routes =
      wanted.pool ? std::vector<core::Cidr>{} : controller.host_routes();
  std::string id;
  controller.update(
      [&](core::State& next) { id = core::request_ipam_pool(next, wanted, host_routes).id; });
  const core::IpamPool& pool = *controller.state().ipam_pool_by_id(id);
  return json{{"PoolID", pool.id}, {"Pool", pool.pool.to_string()}, {"Data", json::object()}};
}

json release_pool(Controller& controller, core::JsonFields& request) {
  std::string id = request.required_string("PoolID");
  controller.update([&](core::State& next) { core::release_ipam_pool(next, id); });
  return json::object();
}

// A global pool's address other than the gateway: taken in the cluster
// store (`wanted`, or one the cluster picks), then recorded in the pool.
core::Ipv4 request_cluster_address(Controller& controller, const core::IpamPool& pool,
                                   core::IpamAddressRequest wanted) {
  {
    // The local refusals (a bad or taken address) before the store's.
    core::State scratch = controller.state();
    if (wanted.address) core::request_ipam_address(scratch, wanted);
  }
  std::optional<core::Ipv4> address;
  if (wanted.address) address = core::Ipv4::parse(*wanted.address);
  const std::string network_id = pool.overlay_network_id;
  core::Ipv4 ip = controller.take_cluster_address(network_id, wanted.owner, address);
  wanted.address = ip.to_string();
  try {
    controller.update([&](core::State& next) { core::request_ipam_address(next, wanted); });
  } catch (...) {
    controller.release_cluster_address(network_id, ip);
    throw;
  }
  return ip;
}

json request_address(Controller& controller, core::JsonFields& request) {
  core::IpamAddressRequest wanted;
  wanted.pool_id = request.required_string("PoolID");
  wanted.address = non_empty_string(request, "Address");
  std::map<std::string, std::string> options = options_of(request);
  if (auto type = options.find(std::string(core::kRequestAddressTypeOption));
      type != options.end()) {
    if (type->second != core::kGatewayAddressType) {
      throw core::UserError(fmt::format("unknown RequestAddressType \"{}\" (bpfnet knows {})",
                                        type->second, core::kGatewayAddressType));
    }
    wanted.gateway = true;
  }
  if (auto name = options.find(kEndpointNameOption); name != options.end()) {
    wanted.owner = name->second;
  }
  const core::IpamPool* pool = controller.state().ipam_pool_by_id(wanted.pool_id);
  if (pool == nullptr) throw core::UserError(fmt::format("IPAM pool {} not found", wanted.pool_id));
  const uint8_t prefix_len = pool->pool.prefix_len;
  core::Ipv4 ip;
  if (!pool->overlay_network_id.empty() && !wanted.gateway) {
    ip = request_cluster_address(controller, *pool, wanted);
  } else {
    controller.update([&](core::State& next) { ip = core::request_ipam_address(next, wanted); });
  }
  return json{{"Address", fmt::format("{}/{}", ip.to_string(), prefix_len)},
              {"Data", json::object()}};
}

json release_address(Controller& controller, core::JsonFields& request) {
  std::string id = request.required_string("PoolID");
  std::string address = request.required_string("Address");
  auto edit = [&](core::State& next) { core::release_ipam_address(next, id, address); };
  {
    core::State scratch = controller.state();
    edit(scratch);  // its refusals before anything changes
  }
  const core::IpamPool& pool = *controller.state().ipam_pool_by_id(id);
  core::Ipv4 ip = core::Ipv4::parse(address);
  auto held = pool.addresses.find(ip);
  bool in_cluster = !pool.overlay_network_id.empty() && held != pool.addresses.end() &&
                    held->second != core::kGatewayOwner;
  if (in_cluster) controller.release_cluster_address(pool.overlay_network_id, ip);
  controller.update(edit);
  return json::object();
}

}  // namespace

void add_ipam_methods(PluginMethods& table) {
  // bpfnet keeps its pools across restarts of either daemon: Docker need not
  // replay its requests.
  table["/IpamDriver.GetCapabilities"] = [](Controller&, core::JsonFields&) {
    return json{{"RequiresMACAddress", false}, {"RequiresRequestReplay", false}};
  };
  table["/IpamDriver.GetDefaultAddressSpaces"] = [](Controller&, core::JsonFields&) {
    return json{{"LocalDefaultAddressSpace", core::kLocalAddressSpace},
                {"GlobalDefaultAddressSpace", core::kGlobalAddressSpace}};
  };
  table["/IpamDriver.RequestPool"] = request_pool;
  table["/IpamDriver.ReleasePool"] = release_pool;
  table["/IpamDriver.RequestAddress"] = request_address;
  table["/IpamDriver.ReleaseAddress"] = release_address;
}

}  // namespace bpfnet::daemon
