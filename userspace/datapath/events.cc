#include "datapath/events.h"

#include <bpf/libbpf.h>

#include <vector>

#include "bpfnet_abi.h"
#include "datapath/bpf_calls.h"
#include "datapath/datapath.h"

namespace bpfnet::datapath {

static_assert(kDefaultEventRate == BPFNET_EVENT_DEFAULT_RATE, "monitor_port.h has the ABI's rate");

using namespace bpf_calls;

void set_monitor(const Datapath& dp, const MonitorSettings& settings) {
  struct bpfnet_monitor m {};
  for (EventType t : settings.types) m.subscribers |= 1U << uint8_t(t);
  m.trace_every = settings.trace_every;
  m.rate = settings.rate;
  m.burst = settings.burst;
  const uint32_t zero = 0;
  update(dp.map_fd(BPFNET_MAP_MONITOR), &zero, &m, "set " BPFNET_MAP_MONITOR);
}

uint64_t lost_events(const Datapath& dp) {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw DatapathError("cannot count possible CPUs");
  std::vector<struct bpfnet_monitor_cpu> per_cpu(static_cast<size_t>(ncpu));
  const uint32_t zero = 0;
  if (bpf_map_lookup_elem(dp.map_fd(BPFNET_MAP_MONITOR_CPU), &zero, per_cpu.data()) != 0)
    throw DatapathError("read " BPFNET_MAP_MONITOR_CPU ": " + errstr(errno));
  uint64_t lost = 0;
  for (const auto& c : per_cpu) lost += c.lost;
  return lost;
}

EventReader::EventReader(const Datapath& dp, Sink sink) : sink_(std::move(sink)) {
  ring_ = ring_buffer__new(dp.map_fd(BPFNET_MAP_EVENTS), &EventReader::on_record, this, nullptr);
  if (!ring_) throw DatapathError("open " BPFNET_MAP_EVENTS ": " + errstr(errno));
}

EventReader::~EventReader() { ring_buffer__free(ring_); }

int EventReader::fd() const { return ring_buffer__epoll_fd(ring_); }

size_t EventReader::drain() {
  const int n = ring_buffer__consume(ring_);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

int EventReader::on_record(void* self, void* data, size_t size) {
  auto* reader = static_cast<EventReader*>(self);
  auto event = decode_event({static_cast<const uint8_t*>(data), size});
  if (!event) {
    ++reader->malformed_;
    return 0;
  }
  reader->sink_(*event);
  return 0;
}

void RingMonitor::start_reading(Sink sink) {
  reader_ = std::make_unique<EventReader>(dp_, std::move(sink));
}

}  // namespace bpfnet::datapath
