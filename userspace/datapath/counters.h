// The datapath's counter rows summed the way users read them: per interface
// (what its container received and sent, and its drops) and per drop reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "datapath/map_model.h"

namespace bpfnet::datapath {

struct InterfaceCounters {
  uint64_t rx_packets = 0, rx_bytes = 0;  // delivered to the container
  uint64_t tx_packets = 0, tx_bytes = 0;  // sent by the container
  uint64_t drops = 0;
  bool operator==(const InterfaceCounters&) const = default;
};

struct DropCounters {
  uint8_t code = 0;
  std::string reason;  // its stable name (`bpfnetctl stats`)
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool operator==(const DropCounters&) const = default;
};

struct CounterSummary {
  std::map<uint32_t, InterfaceCounters> by_ifindex;
  std::vector<DropCounters> drops;  // by code, only reasons that were counted
};

CounterSummary summarize(const std::vector<MetricRow>& rows);

}  // namespace bpfnet::datapath
