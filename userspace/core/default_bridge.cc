#include "core/default_bridge.h"

#include <fmt/format.h>

#include "core/engine.h"
#include "core/engine_steps.h"
#include "core/error.h"
#include "core/network_settings.h"

namespace bpfnet::core {

BridgeIp parse_bip(const std::string& text) {
  auto cidr = Cidr::try_parse(text);
  if (!cidr || cidr->prefix_len > 30 || cidr->is_network_address() ||
      cidr->addr == cidr->broadcast()) {
    throw UserError(
        fmt::format("invalid --bip \"{}\": expected the bridge's address and prefix length, e.g. "
                    "172.26.0.1/16",
                    text));
  }
  return {Cidr{cidr->network(), cidr->prefix_len}, cidr->addr};
}

bool is_default_bridge(const Network& network) {
  auto option = network.options.find(std::string(kOptDefaultBridge));
  return network.name == kDefaultBridgeName && option != network.options.end() &&
         option->second == "true";
}

std::vector<std::string> ensure_default_bridge(State& state, const DefaultBridgeSettings& settings,
                                               const std::vector<Cidr>& avoid, IdSource& ids,
                                               const std::string& now) {
  std::vector<std::string> done;
  const Network* existing = state.network_by_name(kDefaultBridgeName);
  if (existing != nullptr && !is_default_bridge(*existing)) {
    if (settings.enabled)
      done.push_back(fmt::format(
          "no default bridge: a network of yours is named \"{}\" (remove it and restart bpfnetd "
          "to get Docker's default network)",
          kDefaultBridgeName));
    return done;
  }
  if (!settings.enabled) {
    if (existing == nullptr) return done;
    if (!state.endpoints_of_network(existing->id).empty() ||
        !state.services_of_network(existing->id).empty()) {
      done.push_back(fmt::format(
          "--bridge none: the default bridge {} is kept while it has endpoints or services",
          existing->subnet->to_string()));
      return done;
    }
    done.push_back(
        fmt::format("--bridge none: removed the default bridge {}", existing->subnet->to_string()));
    erase_network(state, *existing);
    return done;
  }
  std::optional<BridgeIp> bip;
  if (settings.bip) bip = parse_bip(*settings.bip);
  if (existing != nullptr) {
    if (bip && (*existing->subnet != bip->subnet || existing->gateway != bip->gateway))
      done.push_back(fmt::format(
          "--bip {}: the default bridge stays {} (gateway {}); remove its endpoints and restart "
          "with --bridge none once to recreate it",
          *settings.bip, existing->subnet->to_string(), existing->gateway.to_string()));
    return done;
  }
  NetworkCreate request;
  request.name = std::string(kDefaultBridgeName);
  request.options = {{std::string(kOptDefaultBridge), "true"},
                     {std::string(kOptEnableIcc), "true"},
                     {std::string(kOptEnableIpMasquerade), "true"},
                     {std::string(kOptHostBindingIpv4), "0.0.0.0"}};
  if (bip) {
    request.subnet = bip->subnet.to_string();
    request.gateway = bip->gateway.to_string();
  }
  const Network& created = create_network(state, request, avoid, ids, now);
  done.push_back(fmt::format("default bridge network \"{}\": {} (gateway {})", created.name,
                             created.subnet->to_string(), created.gateway.to_string()));
  return done;
}

}  // namespace bpfnet::core
