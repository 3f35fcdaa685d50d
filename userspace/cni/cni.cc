#include "cni/cni.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "ctl/client.h"

namespace bpfnet::cni {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A key of `object` matched case-insensitively (go-cni sends "HostPort").
const Json* field(const Json& object, std::string_view key) {
  for (auto it = object.begin(); it != object.end(); ++it)
    if (lower(it.key()) == lower(std::string(key))) return &it.value();
  return nullptr;
}

std::string string_field(const Json& object, std::string_view key, std::string_view where) {
  const Json* value = field(object, key);
  if (value == nullptr) return {};
  if (!value->is_string())
    throw CniError(kInvalidConfig, fmt::format("{}.{}: expected a string", where, key));
  return value->get<std::string>();
}

uint16_t port_field(const Json& mapping, std::string_view key) {
  const Json* value = field(mapping, key);
  if (value == nullptr || !value->is_number_integer() || value->get<int64_t>() < 1 ||
      value->get<int64_t>() > 65535)
    throw CniError(kInvalidConfig,
                   fmt::format("runtimeConfig.portMappings: {} must be a port 1..65535, got {}",
                               key, value ? value->dump() : "nothing"));
  return static_cast<uint16_t>(value->get<int64_t>());
}

PortMapping read_mapping(const Json& mapping) {
  if (!mapping.is_object())
    throw CniError(kInvalidConfig, "runtimeConfig.portMappings: expected objects");
  PortMapping out;
  out.host_port = port_field(mapping, "hostPort");
  out.container_port = port_field(mapping, "containerPort");
  std::string protocol = lower(string_field(mapping, "protocol", "portMappings"));
  if (!protocol.empty()) out.protocol = protocol;
  if (out.protocol != "tcp" && out.protocol != "udp")
    throw CniError(
        kInvalidConfig,
        fmt::format("runtimeConfig.portMappings: protocol \"{}\" is not tcp or udp", out.protocol));
  out.host_ip = string_field(mapping, "hostIP", "portMappings");
  if (out.host_ip == "0.0.0.0") out.host_ip.clear();
  return out;
}

bool is_not_found(const std::string& message) {
  return message.find("not found") != std::string::npos ||
         message.find("No such network") != std::string::npos ||
         message.find("is not connected") != std::string::npos;
}

// The daemon's verdict as the spec's error: a refusal keeps its words; no
// daemon is "try again later" (the runtime retries).
template <class F>
auto ask(F&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const ctl::DaemonError& e) {
    throw CniError(kDaemonRefused, e.what());
  } catch (const ctl::ClientError& e) {
    throw CniError(kTryAgainLater, "bpfnetd is not answering", e.what());
  }
}

Json inspect_network(const CniConfig& config, const DaemonCall& daemon) {
  try {
    Json found = daemon("network.inspect", Json{{"name", config.network}});
    return found.is_array() && !found.empty() ? found[0] : found;
  } catch (const ctl::DaemonError& e) {
    if (!is_not_found(e.what())) throw CniError(kDaemonRefused, e.what());
    return nullptr;
  } catch (const ctl::ClientError& e) {
    throw CniError(kTryAgainLater, "bpfnetd is not answering", e.what());
  }
}

Json ensure_network(const CniConfig& config, const DaemonCall& daemon) {
  Json network = inspect_network(config, daemon);
  if (!network.is_null()) return network;
  if (!config.subnet)
    throw CniError(kInvalidConfig, fmt::format("bpfnet network {} does not exist", config.network),
                   "give \"subnet\" in the plugin's config to create it on the first ADD, or "
                   "create it with bpfnetctl network create");
  Json args{{"name", config.network}, {"driver", "bridge"}, {"subnet", *config.subnet}};
  if (config.gateway) args["gateway"] = *config.gateway;
  return ask([&] { return daemon("network.create", args); });
}

std::string port_spec(const PortMapping& m) {
  return fmt::format("{}{}:{}/{}", m.host_ip.empty() ? "" : m.host_ip + ":", m.host_port,
                     m.container_port, m.protocol);
}

Json add(const CniEnv& env, const CniConfig& config, const DaemonCall& daemon) {
  const Json network = ensure_network(config, daemon);
  const std::string name = container_name(env.container_id);
  Json args{{"network", config.network},
            {"container", name},
            {"netns", env.netns},
            {"ifname", env.ifname}};
  if (config.ip) args["ip"] = *config.ip;
  if (config.mac) args["mac"] = *config.mac;
  const Json ep = ask([&] { return daemon("network.connect", args); });
  if (!config.port_mappings.empty()) {
    Json specs = Json::array();
    for (const PortMapping& m : config.port_mappings) specs.push_back(port_spec(m));
    try {
      ask([&] {
        return daemon("port.add",
                      Json{{"container", name}, {"network", config.network}, {"specs", specs}});
      });
    } catch (const CniError&) {
      // All or nothing: the runtime will not call DEL for a failed ADD.
      try {
        daemon("network.disconnect", Json{{"network", config.network}, {"container", name}});
      } catch (const std::exception&) {
      }
      throw;
    }
  }
  Json result{{"cniVersion", config.cni_version}};
  result["interfaces"] = Json::array(
      {Json{{"name", ep.value("host_ifname", "")}}, Json{{"name", ep.value("ifname", "")},
                                                         {"mac", ep.value("mac", "")},
                                                         {"sandbox", env.netns}}});
  const std::string gateway = ep.value("gateway", "");
  result["ips"] = Json::array(
      {Json{{"address", fmt::format("{}/{}", ep.value("ip", ""), ep.value("prefix_len", 0))},
            {"gateway", gateway},
            {"interface", 1}}});
  result["routes"] = Json::array();
  if (!network.value("Internal", false))
    result["routes"].push_back(Json{{"dst", "0.0.0.0/0"}, {"gw", gateway}});
  result["dns"] = Json::object();
  return result;
}

Json del(const CniEnv& env, const CniConfig& config, const DaemonCall& daemon) {
  // Idempotent and best effort: a network or attachment already gone is done.
  if (inspect_network(config, daemon).is_null()) return nullptr;
  try {
    daemon("network.disconnect",
           Json{{"network", config.network}, {"container", container_name(env.container_id)}});
  } catch (const ctl::DaemonError& e) {
    if (!is_not_found(e.what())) throw CniError(kDaemonRefused, e.what());
  } catch (const ctl::ClientError& e) {
    throw CniError(kTryAgainLater, "bpfnetd is not answering", e.what());
  }
  return nullptr;
}

Json gc(const CniConfig& config, const DaemonCall& daemon) {
  const Json network = inspect_network(config, daemon);
  if (network.is_null()) return nullptr;
  const Json containers = network.contains("Containers") ? network["Containers"] : Json::object();
  for (const auto& [endpoint_id, c] : containers.items()) {
    std::string name = c.value("Name", "");
    if (!name.starts_with("cni-")) continue;  // not ours: bpfnetctl's or Docker's
    std::string id = name.substr(4);
    bool valid = std::any_of(config.valid_attachments.begin(), config.valid_attachments.end(),
                             [&](const auto& a) { return a.first == id; });
    if (valid) continue;
    ask([&] {
      return daemon("network.disconnect", Json{{"network", config.network}, {"container", name}});
    });
  }
  return nullptr;
}

}  // namespace

std::string container_name(const std::string& container_id) { return "cni-" + container_id; }

CniEnv read_env(const std::map<std::string, std::string>& environment) {
  auto get = [&](const char* key) {
    auto it = environment.find(key);
    return it == environment.end() ? std::string() : it->second;
  };
  CniEnv env;
  env.command = get("CNI_COMMAND");
  const std::vector<std::string> commands = {"ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"};
  if (std::find(commands.begin(), commands.end(), env.command) == commands.end())
    throw CniError(kInvalidEnv, fmt::format("CNI_COMMAND \"{}\" is not one of ADD, DEL, CHECK, "
                                            "GC, STATUS, VERSION",
                                            env.command));
  env.container_id = get("CNI_CONTAINERID");
  env.netns = get("CNI_NETNS");
  env.ifname = get("CNI_IFNAME");
  bool per_container = env.command == "ADD" || env.command == "DEL" || env.command == "CHECK";
  if (per_container) {
    if (env.container_id.empty()) throw CniError(kInvalidEnv, "CNI_CONTAINERID is required");
    bool id_ok =
        std::isalnum(static_cast<unsigned char>(env.container_id[0])) &&
        std::all_of(env.container_id.begin(), env.container_id.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
        });
    if (!id_ok)
      throw CniError(kInvalidEnv,
                     fmt::format("CNI_CONTAINERID \"{}\": only letters, digits, _ . - are allowed",
                                 env.container_id));
    if (env.ifname.empty()) throw CniError(kInvalidEnv, "CNI_IFNAME is required");
    if (env.command != "DEL" && env.netns.empty())
      throw CniError(kInvalidEnv, "CNI_NETNS is required");
  }
  // K=V;K=V (containerd sends IgnoreUnknown=1 and the K8S_POD_* keys).
  std::string args = get("CNI_ARGS");
  size_t start = 0;
  while (start < args.size()) {
    size_t end = args.find(';', start);
    std::string pair = args.substr(start, end == std::string::npos ? end : end - start);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      if (eq == std::string::npos || eq == 0)
        throw CniError(kInvalidEnv, fmt::format("CNI_ARGS: \"{}\" is not KEY=VALUE", pair));
      env.args[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return env;
}

CniConfig read_config(const std::string& stdin_text, const CniEnv& env) {
  Json in;
  try {
    in = Json::parse(stdin_text);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for 1e777
    throw CniError(kDecodeFailure, "the network configuration is not JSON", e.what());
  }
  if (!in.is_object()) throw CniError(kDecodeFailure, "the network configuration is not an object");
  CniConfig config;
  config.cni_version = string_field(in, "cniVersion", "config");
  if (env.command == "VERSION") return config;
  if (std::find(kSupportedVersions.begin(), kSupportedVersions.end(), config.cni_version) ==
      kSupportedVersions.end())
    throw CniError(kIncompatibleVersion,
                   fmt::format("CNI version \"{}\" is not supported", config.cni_version),
                   "bpfnet-cni speaks 1.0.0 and 1.1.0");
  if ((env.command == "GC" || env.command == "STATUS") && config.cni_version != "1.1.0")
    throw CniError(kIncompatibleVersion, fmt::format("{} needs CNI 1.1.0, the config says {}",
                                                     env.command, config.cni_version));
  config.name = string_field(in, "name", "config");
  config.network = string_field(in, "network", "config");
  if (config.network.empty()) config.network = config.name;
  if (config.network.empty()) throw CniError(kInvalidConfig, "config: \"name\" is required");
  if (std::string socket = string_field(in, "socket", "config"); !socket.empty())
    config.socket = socket;
  if (std::string subnet = string_field(in, "subnet", "config"); !subnet.empty())
    config.subnet = subnet;
  if (std::string gateway = string_field(in, "gateway", "config"); !gateway.empty())
    config.gateway = gateway;
  if (const Json* runtime = field(in, "runtimeConfig"); runtime && runtime->is_object()) {
    if (const Json* maps = field(*runtime, "portMappings"); maps && !maps->is_null()) {
      if (!maps->is_array())
        throw CniError(kInvalidConfig, "runtimeConfig.portMappings: expected an array");
      for (const Json& m : *maps) config.port_mappings.push_back(read_mapping(m));
    }
    if (const Json* ips = field(*runtime, "ips"); ips && ips->is_array() && !ips->empty()) {
      if (ips->size() > 1 || !(*ips)[0].is_string())
        throw CniError(kInvalidConfig, "runtimeConfig.ips: one IPv4 address is supported");
      std::string ip = (*ips)[0].get<std::string>();
      config.ip = ip.substr(0, ip.find('/'));  // "10.0.0.5/24" or "10.0.0.5"
    }
    if (std::string mac = string_field(*runtime, "mac", "runtimeConfig"); !mac.empty())
      config.mac = mac;
  }
  if (!config.ip && env.args.count("IP")) config.ip = env.args.at("IP");
  if (!config.mac && env.args.count("MAC")) config.mac = env.args.at("MAC");
  if (const Json* valid = field(in, "cni.dev/valid-attachments"); valid && valid->is_array())
    for (const Json& a : *valid)
      if (a.is_object())
        config.valid_attachments.emplace_back(string_field(a, "containerID", "valid-attachments"),
                                              string_field(a, "ifname", "valid-attachments"));
  return config;
}

Json run_command(const CniEnv& env, const CniConfig& config, const DaemonCall& daemon) {
  if (env.command == "VERSION")
    return Json{{"cniVersion", config.cni_version.empty() ? "1.1.0" : config.cni_version},
                {"supportedVersions", kSupportedVersions}};
  if (env.command == "ADD") return add(env, config, daemon);
  if (env.command == "DEL") return del(env, config, daemon);
  if (env.command == "GC") return gc(config, daemon);
  if (env.command == "STATUS") {
    try {
      daemon("ping", Json::object());
    } catch (const std::exception& e) {
      throw CniError(kUnavailable, fmt::format("bpfnetd is not answering on {}", config.socket),
                     e.what());
    }
    return nullptr;
  }
  // CHECK: the attachment is bpfnetd's (the interface inside is checked by main.cc).
  const Json network = inspect_network(config, daemon);
  const std::string name = container_name(env.container_id);
  const Json containers = network.is_object() && network.contains("Containers")
                              ? network["Containers"]
                              : Json::object();
  for (const auto& [id, c] : containers.items())
    if (c.value("Name", "") == name) return Json{{"ip", c.value("IPv4Address", "")}};
  throw CniError(kUnknownContainer, fmt::format("container {} is not attached to bpfnet network {}",
                                                env.container_id, config.network));
}

Json error_json(const std::string& cni_version, const CniError& error) {
  Json out{{"cniVersion", cni_version.empty() ? "1.1.0" : cni_version},
           {"code", error.code},
           {"msg", error.what()}};
  if (!error.details.empty()) out["details"] = error.details;
  return out;
}

}  // namespace bpfnet::cni
