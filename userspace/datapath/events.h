// The monitor's side of the datapath: who listens (bpfnet_monitor), what the
// rate limit skipped (bpfnet_mon_cpu) and the ring buffer reader
// (bpfnet_events). bpfnetd opens a reader only while a monitor is connected.
#pragma once

#include <cstdint>
#include <functional>
#include <set>

#include "datapath/event_decode.h"

struct ring_buffer;

namespace bpfnet::datapath {

class Datapath;

struct MonitorSettings {
  std::set<EventType> types;  // what someone listens to; empty: nobody, nothing is written
  uint32_t trace_every = 0;   // trace 1 forwarded packet in N per CPU; 0: none
  uint32_t rate = 0;          // events per second per CPU; 0: the datapath's default (1000)
  uint32_t burst = 0;         // 0: a second's worth
};

// Writes bpfnet_monitor[0]. Throws DatapathError.
void set_monitor(const Datapath& dp, const MonitorSettings& settings);

// Events skipped so far, every CPU's (over the rate, or the ring was full).
uint64_t lost_events(const Datapath& dp);

class EventReader {
 public:
  using Sink = std::function<void(const MonitorEvent&)>;

  // Reads bpfnet_events; `sink` gets each well-formed event. Throws DatapathError.
  EventReader(const Datapath& dp, Sink sink);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // Readable when events wait (an epoll fd: poll() it).
  int fd() const;
  // Hands every waiting event to the sink; returns how many records it read.
  size_t drain();
  // Records that were not well-formed events (decode_event refused them).
  uint64_t malformed() const { return malformed_; }

 private:
  static int on_record(void* self, void* data, size_t size);

  Sink sink_;
  struct ring_buffer* ring_ = nullptr;
  uint64_t malformed_ = 0;
};

}  // namespace bpfnet::datapath
