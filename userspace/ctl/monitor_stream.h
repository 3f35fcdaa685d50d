// `bpfnetctl monitor`'s reading of the daemon's stream (userspace/README.md,
// "Monitor stream"): each line after the first answer is an event or a lost
// count. Parsing, printing (one tcpdump-like line per event) and the
// Ctrl-C summary; no I/O. Reads what the daemon sends: any line, however
// malformed, gives a ProtocolError, never undefined behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/client.h"
#include "ctl/json.h"

namespace bpfnet::ctl {

// An interface an event crossed, with what the daemon knows of it.
struct MonitorPlace {
  uint32_t ifindex = 0;
  std::string interface;
  std::string container;  // empty: not a container's veth
  std::string network;
};

// A flow event's flow, as the daemon names it.
struct MonitorFlow {
  std::string phase;                         // start, end
  std::string end;                           // end: expired, reopened, displaced, gc
  std::string proto;                         // tcp, udp, icmp
  std::string src, dst, xlat_src, xlat_dst;  // "10.0.0.1:4242"
  std::vector<std::string> nat;              // dnat, snat
  uint64_t packets_orig = 0, bytes_orig = 0, packets_reply = 0, bytes_reply = 0;
  uint64_t age_ns = 0;
};

struct MonitorEventLine {
  std::string type;    // drop, trace, flow
  std::string reason;  // drops: the drop reason's name
  uint64_t time_unix_ns = 0;
  std::string hook;  // tc, xdp
  std::string dir;   // from-container, to-container, from-outside
  uint32_t orig_len = 0;
  std::vector<uint8_t> packet;      // the captured bytes (at most 128)
  std::optional<MonitorPlace> at;   // where it arrived
  std::optional<MonitorPlace> to;   // trace: the container it went to
  std::optional<MonitorFlow> flow;  // flow events
  std::string container, network;   // flow: the container it belongs to, if any
  Json raw;                         // the event object as sent
};

struct MonitorStreamItem {
  std::optional<MonitorEventLine> event;
  std::optional<uint64_t> lost;  // the monitor's lost count so far
};

// One stream line. Throws ProtocolError naming what is wrong.
MonitorStreamItem parse_monitor_line(std::string_view line);

// "12:34:56.789012 drop invalid-source-ip c1 (net1) bnv0a1b from-container:
// IP 10.9.9.9.40000 > 172.18.0.3.80: tcp [S]" (local time); a flow:
// "12:34:56.789012 FLOW end tcp 10.0.0.1:4242 -> 192.168.1.2:8080 (dnat
// 172.18.0.2:80) web1 [net]: 12 pkts/1.3 kB ->, 10 pkts/9.0 kB <-, 2.1 s, gc".
std::string format_event(const MonitorEventLine& event);
// -o json: the event object with "summary" (the packet's line) added.
std::string format_event_json(const MonitorEventLine& event);

// What Ctrl-C prints.
class MonitorSummary {
 public:
  void count(const MonitorEventLine& event);
  void set_lost(uint64_t lost) { lost_ = lost; }
  uint64_t events() const { return events_; }
  uint64_t lost() const { return lost_; }
  std::string render() const;
  Json to_json() const;

 private:
  uint64_t events_ = 0;
  uint64_t lost_ = 0;
  std::map<std::string, uint64_t> by_kind_;  // "drop invalid-source-ip", "trace"
};

}  // namespace bpfnet::ctl
