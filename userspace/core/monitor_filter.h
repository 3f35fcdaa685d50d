// `bpfnetctl monitor`'s filters: which events a monitor asked for, checked
// against the state when it connects (an unknown container, network, type
// or reason is refused, naming it), and matched against each event.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "core/state.h"

namespace bpfnet::core {

// The event types, as `--type` names them (the datapath's enum
// bpfnet_event_type, in order: drop = 1, trace, flow).
std::span<const std::string_view> monitor_event_types();

struct MonitorFilter {
  std::set<std::string> types;           // never empty
  std::optional<std::string> container;  // a container name
  std::optional<std::string> network;    // a network name
  std::optional<unsigned> reason;        // a drop reason's code: drops with it only

  bool operator==(const MonitorFilter&) const = default;
};

// The monitor request's args: {"types": ["drop", ...]?, "container"?,
// "network"?, "reason"?}; no types: every type. Throws UserError
// ("monitor: --reason bogus: no such drop reason").
MonitorFilter parse_monitor_filter(const nlohmann::json& args, const State& state);

// What one event is about: the containers and networks of the interfaces it
// crossed and of its addresses.
struct EventSubjects {
  std::string type;
  unsigned reason = 0;
  std::set<std::string> containers;
  std::set<std::string> networks;
};

bool monitor_matches(const MonitorFilter& filter, const EventSubjects& event);

}  // namespace bpfnet::core
