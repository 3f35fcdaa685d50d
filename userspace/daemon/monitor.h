// `bpfnetctl monitor` on the daemon's side: each connected monitor is a
// stream of the control socket (daemon/server.h) with its filter
// (core/monitor_filter.h). While at least one is connected the datapath is
// told which event types to write and the ring buffer is read; each event
// is named from the state (interface -> container, network) and sent as one
// JSON line to the monitors whose filter it matches. With none connected,
// nothing is written nor read.
//
// Lines after the first answer: {"event": {...}} per event and {"lost": N}
// whenever the count of events this monitor missed (skipped by the
// datapath's rate limit or a full ring since it connected, or dropped
// because it read too slowly) changes. userspace/README.md has the fields.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/monitor_filter.h"
#include "daemon/controller.h"
#include "datapath/monitor_port.h"

namespace bpfnet::daemon {

struct MonitorOptions {
  uint32_t trace_every = 100;  // trace monitors see 1 forwarded packet in N per CPU
  uint32_t rate = 0;           // events per second per CPU; 0: the datapath's default
};

class EventNames;  // monitor.cc: ifindex and address -> container, network

class MonitorHub {
 public:
  // Queues a line for stream `id`; false when it could not (too slow, gone).
  using Send = std::function<bool(uint64_t id, std::string_view line)>;

  MonitorHub(Controller& controller, datapath::MonitorPort& port, MonitorOptions options,
             Send send);
  // Tells the datapath nobody listens (a monitor of a daemon that died may
  // have left it listening).
  void reset();

  // daemon/server.h's StreamHooks.
  std::optional<nlohmann::json> open(uint64_t id, const std::string& op,
                                     const nlohmann::json& args);
  void close(uint64_t id);
  int fd() const { return port_.fd(); }
  void on_readable();
  // Whether a connected monitor listens to flow events.
  bool wants_flows() const;
  // The flows bpfnetd's conntrack GC or a purge removed at `now_ns`
  // (CLOCK_MONOTONIC): flow end events in the same stream as the
  // datapath's, under the same rate limit (options.rate a second, a
  // second's worth of burst): a GC that expires 262,144 flows at once must
  // not stall the daemon writing them. What is skipped counts as lost.
  void flows_ended(const std::vector<datapath::FlowRecord>& flows, uint64_t now_ns);
  // Sends each monitor its lost count when it changed.
  void report_lost();

  size_t monitors() const { return monitors_.size(); }

  // The line an event makes, with the names it is given (exposed for tests).
  // `owner`: for a flow, the container ({"container", "network"}) it
  // belongs to, or null.
  static nlohmann::json event_json(const datapath::MonitorEvent& event, const nlohmann::json& where,
                                   const nlohmann::json& peer, uint64_t unix_ns,
                                   const nlohmann::json& owner = nullptr);

 private:
  struct Monitor {
    core::MonitorFilter filter;
    uint64_t lost_base = 0;       // the datapath's lost count when it connected
    uint64_t ends_lost_base = 0;  // flow_ends_lost_ when it connected
    uint64_t too_slow = 0;        // lines it could not take
    uint64_t lost_reported = 0;   // what it was last told
  };

  void apply_settings();
  void deliver(const datapath::MonitorEvent& event);

  Controller& controller_;
  datapath::MonitorPort& port_;
  MonitorOptions options_;
  Send send_;
  std::map<uint64_t, Monitor> monitors_;
  // flows_ended()'s token bucket, and the ends it skipped.
  double end_tokens_ = -1;  // < 0: full at the first call
  uint64_t end_tokens_at_ns_ = 0;
  uint64_t flow_ends_lost_ = 0;
  // The names of the state while a batch of events is read (one index per
  // batch, not per event); nullptr between batches.
  const EventNames* names_ = nullptr;
};

}  // namespace bpfnet::daemon
