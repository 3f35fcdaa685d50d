#include "datapath/counters.h"

#include "bpfnet_abi.h"
#include "core/drop_reasons.h"

namespace bpfnet::datapath {

CounterSummary summarize(const std::vector<MetricRow>& rows) {
  CounterSummary out;
  std::map<uint8_t, DropCounters> drops;
  for (const auto& row : rows) {
    InterfaceCounters& c = out.by_ifindex[row.ifindex];
    if (row.reason != BPFNET_OK) {
      c.drops += row.packets;
      DropCounters& d = drops[row.reason];
      d.packets += row.packets;
      d.bytes += row.bytes;
    } else if (row.dir == BPFNET_DIR_TO_CONTAINER) {
      c.rx_packets += row.packets;
      c.rx_bytes += row.bytes;
    } else {
      c.tx_packets += row.packets;
      c.tx_bytes += row.bytes;
    }
  }
  for (auto& [code, d] : drops) {
    d.code = code;
    d.reason = std::string(core::drop_reason_name(code));
    out.drops.push_back(std::move(d));
  }
  return out;
}

}  // namespace bpfnet::datapath
