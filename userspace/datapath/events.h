// The monitor's side of the datapath: who listens (bpfnet_monitor), what the
// rate limit skipped (bpfnet_mon_cpu) and the ring buffer reader
// (bpfnet_events). bpfnetd opens a reader only while a monitor is connected.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "datapath/monitor_port.h"

struct ring_buffer;

namespace bpfnet::datapath {

class Datapath;

// Writes bpfnet_monitor[0]. Throws DatapathError.
void set_monitor(const Datapath& dp, const MonitorSettings& settings);

// Events skipped so far, every CPU's (over the rate, or the ring was full).
uint64_t lost_events(const Datapath& dp);

class EventReader {
 public:
  using Sink = MonitorPort::Sink;

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

// The MonitorPort over a Datapath's maps (what bpfnetd uses).
class RingMonitor final : public MonitorPort {
 public:
  explicit RingMonitor(const Datapath& dp) : dp_(dp) {}
  void configure(const MonitorSettings& settings) override { set_monitor(dp_, settings); }
  uint64_t lost_events() override { return datapath::lost_events(dp_); }
  void start_reading(Sink sink) override;
  void stop_reading() override { reader_.reset(); }
  int fd() const override { return reader_ ? reader_->fd() : -1; }
  void drain() override {
    if (reader_) reader_->drain();
  }

 private:
  const Datapath& dp_;
  std::unique_ptr<EventReader> reader_;
};

}  // namespace bpfnet::datapath
