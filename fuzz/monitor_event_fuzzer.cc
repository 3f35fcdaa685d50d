// The monitor's two readers of outside input: the daemon's decoder of ring
// buffer records the kernel wrote (datapath/event_decode.h) with the packet
// summary of what they captured (core/packet_summary.h), and bpfnetctl's
// parser of the daemon's stream lines (ctl/monitor_stream.h).
//
// Invariants, whatever the bytes:
// - a decoded record holds at most 128 captured bytes, no more than the
//   packet's length, and encodes back to a record that decodes equal;
// - summarize_packet reads any bytes (ASan checks nothing past their end);
// - a stream line is parsed or refused with ProtocolError, never another
//   exception; a parsed event prints (text and JSON) without throwing.
#include <string>

#include "core/packet_summary.h"
#include "ctl/monitor_stream.h"
#include "datapath/event_decode.h"
#include "fuzz_check.h"

namespace {

using namespace bpfnet;

void check_record(std::span<const uint8_t> bytes) {
  core::summarize_packet(bytes);
  auto event = datapath::decode_event(bytes);
  if (!event) return;
  FUZZ_CHECK(event->packet.size() <= 128, "{} bytes captured", event->packet.size());
  FUZZ_CHECK(event->packet.size() <= event->orig_len, "{} captured of {}", event->packet.size(),
             event->orig_len);
  core::summarize_packet(event->packet);
  auto again = datapath::decode_event(datapath::encode_event(*event));
  FUZZ_CHECK(again && *again == *event, "a decoded record does not encode back{}", "");
}

void check_line(std::string_view line) {
  ctl::MonitorStreamItem item;
  try {
    item = ctl::parse_monitor_line(line);
  } catch (const ctl::ProtocolError&) {
    return;
  }
  if (!item.event) return;
  FUZZ_CHECK(item.event->packet.size() <= 128, "{} bytes in a line", item.event->packet.size());
  ctl::format_event(*item.event);
  ctl::format_event_json(*item.event);
  ctl::MonitorSummary summary;
  summary.count(*item.event);
  summary.render();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_record({data, size});
  check_line(bpfnet::fuzz::as_text(data, size));
  return 0;
}
