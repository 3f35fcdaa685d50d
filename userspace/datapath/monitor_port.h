// What `bpfnetctl monitor` needs of the datapath, as an interface so that the
// daemon stays free of libbpf (datapath/events.h implements it; tests fake it).
#pragma once

#include <cstdint>
#include <functional>
#include <set>

#include "datapath/event_decode.h"

namespace bpfnet::datapath {

// BPFNET_EVENT_DEFAULT_RATE (the datapath's default rate limit, events per
// second per CPU) for layers without the ABI; datapath/events.cc checks it.
inline constexpr uint32_t kDefaultEventRate = 1000;

struct MonitorSettings {
  std::set<EventType> types;  // what someone listens to; empty: nobody, nothing is written
  uint32_t trace_every = 0;   // trace 1 forwarded packet in N per CPU; 0: none
  uint32_t rate = 0;          // events per second per CPU; 0: kDefaultEventRate
  uint32_t burst = 0;         // 0: a second's worth

  bool operator==(const MonitorSettings&) const = default;
};

class MonitorPort {
 public:
  using Sink = std::function<void(const MonitorEvent&)>;
  virtual ~MonitorPort() = default;

  // Tells the datapath what to write (bpfnet_monitor).
  virtual void configure(const MonitorSettings& settings) = 0;
  // Events the datapath skipped so far (rate limit, full ring), every CPU's.
  virtual uint64_t lost_events() = 0;
  // Reading the ring: events go to `sink` from drain().
  virtual void start_reading(Sink sink) = 0;
  virtual void stop_reading() = 0;
  // Readable when events wait; -1 while not reading.
  virtual int fd() const = 0;
  virtual void drain() = 0;
};

}  // namespace bpfnet::datapath
