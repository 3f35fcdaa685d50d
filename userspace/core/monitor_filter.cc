#include "core/monitor_filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/drop_reasons.h"
#include "core/error.h"
#include "core/json_fields.h"

namespace bpfnet::core {
namespace {

constexpr std::array<std::string_view, 3> kTypes{"drop", "trace", "flow"};

}  // namespace

std::span<const std::string_view> monitor_event_types() { return kTypes; }

MonitorFilter parse_monitor_filter(const nlohmann::json& args, const State& state) {
  JsonFields fields(args, "monitor", "");
  MonitorFilter filter;
  if (auto types = fields.optional_string_array("types"); types && !types->empty()) {
    for (const std::string& t : *types) {
      if (std::find(kTypes.begin(), kTypes.end(), t) == kTypes.end())
        throw UserError(
            fmt::format("monitor: --type {}: no such event type (drop, trace, flow)", t));
      filter.types.insert(t);
    }
  } else {
    filter.types.insert(kTypes.begin(), kTypes.end());
  }
  if (auto c = fields.optional_string("container")) {
    if (state.endpoints_of_container(*c).empty())
      throw UserError(fmt::format("monitor: --container {}: no such container", *c));
    filter.container = *c;
  }
  if (auto n = fields.optional_string("network")) {
    const Network* net = state.find_network(*n);
    if (!net) throw UserError(fmt::format("monitor: --network {}: no such network", *n));
    filter.network = net->name;
  }
  if (auto r = fields.optional_string("reason")) {
    filter.reason = drop_reason_code(*r);
    if (!filter.reason)
      throw UserError(fmt::format("monitor: --reason {}: no such drop reason", *r));
  }
  fields.reject_unknown_keys();
  return filter;
}

bool monitor_matches(const MonitorFilter& filter, const EventSubjects& event) {
  if (!filter.types.contains(event.type)) return false;
  if (filter.reason && (event.type != "drop" || event.reason != *filter.reason)) return false;
  if (filter.container && !event.containers.contains(*filter.container)) return false;
  if (filter.network && !event.networks.contains(*filter.network)) return false;
  return true;
}

}  // namespace bpfnet::core
