// bpfnet-cni's input: the network configuration a runtime writes on stdin
// (and the CNI_ARGS it sets), read for every command, then ADD, DEL, GC and
// CHECK run against a fake bpfnetd that records its requests.
//
// Invariants, whatever the bytes:
// - refusals are CniError with a code of the spec (1..11) or ours (100+),
//   never another exception or a crash;
// - error objects are valid JSON whatever the message holds;
// - a config that reads has a network name, a supported version, and port
//   mappings with ports 1..65535 and protocol tcp or udp;
// - every request names the configured network, and the container is
//   always "cni-" + CNI_CONTAINERID (GC touches only such containers).
#include <nlohmann/json.hpp>
#include <string>

#include "cni/cni.h"
#include "fuzz_check.h"

namespace {

using namespace bpfnet;
using cni::Json;

bool known_code(unsigned code) { return (code >= 1 && code <= 11) || code >= 50; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  // The first line is CNI_ARGS, the rest the config.
  size_t newline = text.find('\n');
  std::string args = newline == std::string::npos ? "" : text.substr(0, newline);
  std::string config_text = newline == std::string::npos ? text : text.substr(newline + 1);
  for (const char* command : {"ADD", "DEL", "CHECK", "GC", "VERSION"}) {
    cni::CniEnv env;
    cni::CniConfig config;
    try {
      env = cni::read_env({{"CNI_COMMAND", command},
                           {"CNI_CONTAINERID", "c0ffee"},
                           {"CNI_NETNS", "/var/run/netns/x"},
                           {"CNI_IFNAME", "eth0"},
                           {"CNI_ARGS", args}});
      config = cni::read_config(config_text, env);
    } catch (const cni::CniError& e) {
      FUZZ_CHECK(known_code(e.code), "unknown error code {}", e.code);
      FUZZ_CHECK(
          !cni::error_json("1.0.0", e).dump(-1, ' ', false, Json::error_handler_t::replace).empty(),
          "error object");
      continue;
    }
    if (env.command == "VERSION") continue;
    FUZZ_CHECK(!config.network.empty(), "no network: {}", config_text);
    for (const auto& m : config.port_mappings)
      FUZZ_CHECK(m.host_port && m.container_port && (m.protocol == "tcp" || m.protocol == "udp"),
                 "bad mapping accepted: {}", config_text);
    auto daemon = [&](const std::string& op, const Json& request) -> Json {
      FUZZ_CHECK(request.value("network", request.value("name", config.network)) == config.network,
                 "{} names another network", op);
      if (request.contains("container"))
        FUZZ_CHECK(request["container"].get<std::string>().starts_with("cni-"),
                   "{} on a container that is not CNI's", op);
      if (op == "network.inspect")
        return Json::array({Json{{"Containers", {{"e", {{"Name", "cni-other"}}}}}}});
      if (op == "network.connect")
        return Json{{"ip", "10.0.0.2"}, {"prefix_len", 24}, {"gateway", "10.0.0.1"}};
      return Json::object();
    };
    try {
      cni::run_command(env, config, daemon);
    } catch (const cni::CniError& e) {
      FUZZ_CHECK(known_code(e.code), "unknown error code {}", e.code);
    }
  }
  return 0;
}
