// `bpfnetd --metrics [ADDR:]PORT`: Prometheus's /metrics, a projection of
// what `bpfnetctl stats`, `service ls` and the daemon's own counters say, so
// that both views come from one place. Served by daemon/http_server.h on its
// own thread; every call here must hold the daemon's controller lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/prometheus.h"
#include "daemon/http_server.h"

namespace bpfnet::daemon {

class Controller;

// Requests by verb and result, counted where they are answered (the control
// socket's verbs as `bpfnetctl` names them in the protocol, and the Docker
// plugin's methods as "docker:NetworkDriver.Join").
class RequestCounters {
 public:
  // A control op not in daemon/requests.h's table counts as "unknown", so a
  // client cannot grow the label set.
  void count(std::string_view verb, bool ok);
  // A plugin method as "docker:METHOD"; an unknown one (404) as
  // "docker:unknown".
  void count_docker(std::string_view target, unsigned status);
  const std::map<std::pair<std::string, bool>, uint64_t>& counts() const { return counts_; }

 private:
  std::map<std::pair<std::string, bool>, uint64_t> counts_;
};

// Every family /metrics serves (see README's metrics table).
std::vector<core::MetricFamily> collect_metrics(Controller& ctl, const RequestCounters& requests);

// GET /metrics (or /): 200 with Prometheus's text format; other paths 404,
// other methods 405. `render` is called only for a metrics request.
HttpReply metrics_http(const HttpRequest& request, const std::function<std::string()>& render);

}  // namespace bpfnet::daemon
