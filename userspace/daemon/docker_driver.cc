#include "daemon/docker_driver.h"

#include <fmt/format.h>

#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/portmap.h"
#include "daemon/docker_ipam.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;

// Docker's option keys (libnetwork netlabel).
constexpr const char* kGenericOption = "com.docker.network.generic";
constexpr const char* kInternalOption = "com.docker.network.internal";
constexpr const char* kEnableIpv6Option = "com.docker.network.enable_ipv6";
constexpr const char* kPortMapOption = "com.docker.network.portmap";
constexpr size_t kShortIdChars = 12;

// A request body that is not JSON: answered 400. Everything else refused
// (wrong fields included) is 500, which Docker treats alike.
struct MalformedRequest : core::UserError {
  using core::UserError::UserError;
};

// Go encodes nil maps and slices as null: read as absent.
const json* present(core::JsonFields& fields, std::string_view key) {
  const json* value = fields.find(key);
  return value == nullptr || value->is_null() ? nullptr : value;
}

// "172.18.0.1/16" -> "172.18.0.1": Docker sends addresses with the pool's mask.
std::string without_mask(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

std::optional<std::string> non_empty(std::optional<std::string> text) {
  if (text && text->empty()) return std::nullopt;
  return text;
}

core::Proto proto_of(uint64_t number, core::JsonFields& fields) {
  switch (number) {
    case 6:
      return core::Proto::kTcp;
    case 17:
      return core::Proto::kUdp;
    case 132:
      return core::Proto::kSctp;  // refused with its reason when bound (core/portmap.cc)
    default:
      fields.fail("Proto", fmt::format("unsupported IP protocol {} (bpfnet publishes tcp (6) "
                                       "and udp (17))",
                                       number));
  }
}

uint16_t port_of(core::JsonFields& fields, std::string_view key, bool zero_allowed) {
  uint64_t port = fields.optional_unsigned(key).value_or(0);
  if (port > 65535 || (port == 0 && !zero_allowed)) {
    fields.fail(key, fmt::format("{} is not a port (1-65535)", port));
  }
  return static_cast<uint16_t>(port);
}

// One element of com.docker.network.portmap ({Proto, IP, Port, HostIP,
// HostPort, HostPortEnd}); nullopt for an IPv6 wildcard, whose IPv4 twin
// (same port, no or an IPv4 host address) is the one bpfnet publishes.
std::optional<core::PortRequest> port_request(const json& item, const std::string& path) {
  core::JsonFields fields(item, kPortMapOption, path);
  core::PortRequest request;
  request.proto = proto_of(fields.required_unsigned("Proto"), fields);
  request.container_port = port_of(fields, "Port", false);
  std::string host_ip = fields.optional_string("HostIP").value_or("");
  if (host_ip == "::") return std::nullopt;
  if (!host_ip.empty()) {
    auto ip = core::Ipv4::try_parse(host_ip);
    if (!ip) {
      fields.fail("HostIP",
                  fmt::format("host address {} is not IPv4 (bpfnet is IPv4-only)", host_ip));
    }
    request.host_ip = *ip;
  }
  uint16_t first = port_of(fields, "HostPort", true);
  uint16_t last = port_of(fields, "HostPortEnd", true);
  if (last == 0) last = first;  // no range: exactly HostPort (0: ephemeral)
  if (first == 0 && last != 0) fields.fail("HostPort", "0 with a HostPortEnd");
  if (last < first) {
    fields.fail("HostPortEnd", fmt::format("{} is below HostPort {}", last, first));
  }
  request.host_port_first = first;
  request.host_port_last = last;
  return request;
}

std::vector<core::PortRequest> port_requests(core::JsonFields& request) {
  std::vector<core::PortRequest> out;
  const json* options = present(request, "Options");
  if (options == nullptr) return out;
  core::JsonFields option_fields(*options, request.root(), "Options");
  const json* portmap = present(option_fields, kPortMapOption);
  if (portmap == nullptr) return out;
  if (!portmap->is_array()) option_fields.fail(kPortMapOption, "expected an array");
  for (size_t i = 0; i < portmap->size(); ++i) {
    if (auto r = port_request((*portmap)[i], fmt::format("[{}]", i))) out.push_back(*r);
  }
  return out;
}

json bindings_json(const core::Endpoint& endpoint) {
  json out = json::array();
  for (const auto& b : endpoint.ports) {
    out.push_back(json{{"Proto", core::ip_protocol_number(b.proto)},
                       {"IP", endpoint.ip.to_string()},
                       {"Port", b.container_port},
                       {"HostIP", b.host_ip.to_string()},
                       {"HostPort", b.host_port},
                       {"HostPortEnd", b.host_port}});
  }
  return out;
}

core::DockerNetworkCreate network_create(core::JsonFields& request) {
  core::DockerNetworkCreate create;
  create.id = request.required_string("NetworkID");
  if (const json* options = present(request, "Options")) {
    core::JsonFields option_fields(*options, request.root(), "Options");
    if (present(option_fields, kGenericOption)) {
      create.options = option_fields.optional_string_map(kGenericOption);
    }
    if (present(option_fields, kInternalOption)) {
      create.internal = option_fields.optional_bool(kInternalOption, false);
    }
    if (present(option_fields, kEnableIpv6Option) &&
        option_fields.optional_bool(kEnableIpv6Option, false)) {
      throw core::UserError("bpfnet is IPv4-only: create the network without --ipv6");
    }
  }
  const json* v6 = present(request, "IPv6Data");
  if (v6 != nullptr && !(v6->is_array() && v6->empty())) {
    throw core::UserError("bpfnet is IPv4-only: create the network without --ipv6");
  }
  const json* v4 = present(request, "IPv4Data");
  if (v4 == nullptr || !v4->is_array() || v4->empty()) {
    throw core::UserError("no IPv4 pool: bpfnet networks need one (from Docker's IPAM)");
  }
  if (v4->size() > 1) {
    throw core::UserError(
        fmt::format("{} IPv4 pools: bpfnet networks have one subnet", v4->size()));
  }
  core::JsonFields ipam((*v4)[0], request.root(), "IPv4Data[0]");
  create.subnet = ipam.required_string("Pool");
  if (auto gateway = non_empty(ipam.optional_string("Gateway"))) {
    create.gateway = without_mask(*gateway);
  }
  if (present(ipam, "AuxAddresses")) {
    for (const auto& [name, address] : ipam.optional_string_map("AuxAddresses")) {
      create.aux_addresses[name] = without_mask(address);
    }
  }
  auto name = create.options.find(std::string(kDockerNameOption));
  create.name = name != create.options.end() ? name->second : create.id.substr(0, kShortIdChars);
  return create;
}

json create_network(Controller& controller, core::JsonFields& request) {
  core::DockerNetworkCreate create = network_create(request);
  std::string now = controller.now();
  controller.update_docker(
      [&](core::State& next) { core::create_docker_network(next, create, now); });
  return json::object();
}

json delete_network(Controller& controller, core::JsonFields& request) {
  std::string id = request.required_string("NetworkID");
  if (controller.state().docker_network(id) == nullptr) return json::object();
  controller.update_docker([&](core::State& next) { core::remove_docker_network(next, id); });
  return json::object();
}

json create_endpoint(Controller& controller, core::JsonFields& request) {
  core::DockerEndpointCreate create;
  create.network_id = request.required_string("NetworkID");
  create.endpoint_id = request.required_string("EndpointID");
  if (const json* interface = present(request, "Interface")) {
    core::JsonFields fields(*interface, request.root(), "Interface");
    if (auto address = non_empty(fields.optional_string("Address"))) {
      create.address = without_mask(*address);
    }
    if (non_empty(fields.optional_string("AddressIPv6"))) {
      throw core::UserError("bpfnet is IPv4-only: the endpoint cannot have an IPv6 address");
    }
    create.mac = non_empty(fields.optional_string("MacAddress"));
  }
  controller.update_docker(
      [&](core::State& next) { core::create_docker_endpoint(next, create, controller.ids()); });
  // Only what Docker left empty: it refuses a driver that changes its values.
  const core::Endpoint& endpoint = *controller.state().endpoint_by_id(create.endpoint_id);
  json interface = json::object();
  if (!create.address) {
    const core::Network& network = core::get_docker_network(controller.state(), create.network_id);
    interface["Address"] =
        fmt::format("{}/{}", endpoint.ip.to_string(), network.subnet->prefix_len);
  }
  if (!create.mac) interface["MacAddress"] = endpoint.mac.to_string();
  return json{{"Interface", interface}};
}

json endpoint_oper_info(Controller& controller, core::JsonFields& request) {
  const core::Endpoint& endpoint =
      core::get_docker_endpoint(controller.state(), request.required_string("NetworkID"),
                                request.required_string("EndpointID"));
  return json{{"Value", json{{kPortMapOption, bindings_json(endpoint)}}}};
}

// Leave, DeleteEndpoint and Revoke: Docker retries them after a failure, so
// an endpoint bpfnet does not hold, or with nothing to undo, is a success.
json undo_on_endpoint(Controller& controller, core::JsonFields& request,
                      const std::function<bool(const core::Endpoint&)>& has_something_to_undo,
                      const std::function<void(core::State&, const std::string& network,
                                               const std::string& endpoint)>& undo) {
  std::string network = request.required_string("NetworkID");
  std::string endpoint = request.required_string("EndpointID");
  const core::Endpoint* known = controller.state().endpoint_by_id(endpoint);
  if (known == nullptr || !has_something_to_undo(*known)) return json::object();
  controller.update_docker([&](core::State& next) { undo(next, network, endpoint); });
  return json::object();
}

json delete_endpoint(Controller& controller, core::JsonFields& request) {
  return undo_on_endpoint(
      controller, request, [](const core::Endpoint&) { return true; },
      [](core::State& next, const std::string& network, const std::string& endpoint) {
        core::remove_docker_endpoint(next, network, endpoint);
      });
}

json join(Controller& controller, core::JsonFields& request) {
  std::string network_id = request.required_string("NetworkID");
  std::string endpoint_id = request.required_string("EndpointID");
  std::string sandbox = request.required_string("SandboxKey");
  controller.update_docker([&](core::State& next) {
    core::join_docker_endpoint(next, network_id, endpoint_id, sandbox);
  });
  const core::State& state = controller.state();
  const core::Endpoint& endpoint = core::get_docker_endpoint(state, network_id, endpoint_id);
  const core::Network& network = core::get_docker_network(state, network_id);
  json reply{{"InterfaceName", json{{"SrcName", endpoint.ifname}, {"DstPrefix", "eth"}}}};
  // Without a gateway Docker would attach the container to its own
  // docker_gwbridge (and publish ports there) unless the network is internal.
  if (!network.internal) reply["Gateway"] = network.gateway.to_string();
  return reply;
}

json leave(Controller& controller, core::JsonFields& request) {
  return undo_on_endpoint(
      controller, request, [](const core::Endpoint& known) { return !known.sandbox.empty(); },
      [](core::State& next, const std::string& network, const std::string& endpoint) {
        core::leave_docker_endpoint(next, network, endpoint);
      });
}

json program_external_connectivity(Controller& controller, core::JsonFields& request) {
  std::string network = request.required_string("NetworkID");
  std::string endpoint = request.required_string("EndpointID");
  std::vector<core::PortRequest> requests = port_requests(request);
  core::get_docker_endpoint(controller.state(), network, endpoint);
  core::PortEnvironment env = controller.port_environment();
  controller.update_docker(
      [&](core::State& next) { core::set_endpoint_ports(next, endpoint, requests, env); });
  return json::object();
}

json revoke_external_connectivity(Controller& controller, core::JsonFields& request) {
  return undo_on_endpoint(
      controller, request, [](const core::Endpoint& known) { return !known.ports.empty(); },
      [](core::State& next, const std::string&, const std::string& endpoint) {
        core::set_endpoint_ports(next, endpoint, {}, core::PortEnvironment{});
      });
}

PluginMethods build_methods() {
  PluginMethods table = {
      {"/Plugin.Activate",
       [](Controller&, core::JsonFields&) {
         return json{{"Implements", {"NetworkDriver", "IpamDriver"}}};
       }},
      {"/NetworkDriver.GetCapabilities",
       [](Controller&, core::JsonFields&) {
         return json{{"Scope", "local"}, {"ConnectivityScope", "local"}};
       }},
      {"/NetworkDriver.CreateNetwork", create_network},
      {"/NetworkDriver.DeleteNetwork", delete_network},
      {"/NetworkDriver.CreateEndpoint", create_endpoint},
      {"/NetworkDriver.EndpointOperInfo", endpoint_oper_info},
      {"/NetworkDriver.DeleteEndpoint", delete_endpoint},
      {"/NetworkDriver.Join", join},
      {"/NetworkDriver.Leave", leave},
      {"/NetworkDriver.ProgramExternalConnectivity", program_external_connectivity},
      {"/NetworkDriver.RevokeExternalConnectivity", revoke_external_connectivity},
      // Swarm's node discovery: nothing for a local driver to do.
      {"/NetworkDriver.DiscoverNew", [](Controller&, core::JsonFields&) { return json::object(); }},
      {"/NetworkDriver.DiscoverDelete",
       [](Controller&, core::JsonFields&) { return json::object(); }},
  };
  add_ipam_methods(table);
  return table;
}

const PluginMethods& methods() {
  static const PluginMethods table = build_methods();
  return table;
}

// Invalid UTF-8 in the message (a path echoed as it came) is replaced, not
// thrown: handle() promises never to throw.
PluginReply error_reply(unsigned status, const std::string& message) {
  return PluginReply{status,
                     json{{"Err", message}}.dump(-1, ' ', false, json::error_handler_t::replace)};
}

// A refused request, logged: Docker shows the reason only to the user who
// ran the command.
PluginReply refusal(unsigned status, const std::string& method, const std::string& message) {
  if (message.starts_with(method + ":")) {
    std::cerr << "bpfnetd: docker: " << message << std::endl;
  } else {
    std::cerr << "bpfnetd: docker: " << method << ": " << message << std::endl;
  }
  return error_reply(status, message);
}

}  // namespace

PluginReply DockerDriver::handle(std::string_view path, std::string_view body) {
  auto method = methods().find(path);
  if (method == methods().end()) {
    return error_reply(404,
                       fmt::format("{}: not a method of the bpfnet network or IPAM driver", path));
  }
  std::string name(path.substr(1));  // JsonFields' errors start with it
  try {
    // Activate and GetCapabilities come with an empty body.
    bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
    json request = json::object();
    if (!blank) {
      try {
        request = json::parse(body);
      } catch (const json::parse_error& e) {
        throw MalformedRequest(
            fmt::format("{}: malformed JSON at byte {} of the request body", name, e.byte));
      }
    }
    core::JsonFields fields(request, name, "");
    return PluginReply{200, method->second(controller_, fields).dump()};
  } catch (const MalformedRequest& e) {
    return refusal(400, name, e.what());
  } catch (const std::exception& e) {
    return refusal(500, name, e.what());
  }
}

}  // namespace bpfnet::daemon
