// The only code that calls libbpf: loads the programs (skeletons), pins and
// reuses the maps, attaches tc programs by atomic replace, and reads/writes
// map entries. Everything above it speaks MapContents/MapDelta.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "datapath/map_model.h"

struct endpoint_bpf;

namespace bpfnet::datapath {

struct DatapathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the daemon needs from a datapath; a fake records calls in tests.
class DatapathPort {
 public:
  virtual ~DatapathPort() = default;
  // Attach (or atomically replace) the endpoint programs on a host-side veth.
  virtual void attach_endpoint(uint32_t ifindex) = 0;
  virtual bool endpoint_attached(uint32_t ifindex) = 0;
  virtual MapContents read_maps() = 0;
  virtual void apply(const MapDelta& delta) = 0;
  virtual std::vector<MetricRow> read_metrics() = 0;
  virtual void forget_metrics(uint32_t ifindex) = 0;
};

// Makes sure `dir` is on a bpffs: mounts one at /sys/fs/bpf when `dir` is
// below it, else at `dir` itself. Creates `dir`.
void ensure_bpffs(const std::string& dir);

struct DatapathOptions {
  // Where maps are pinned (LIBBPF_PIN_BY_NAME). Empty: nothing is pinned (tests).
  std::string pin_dir;
};

class Datapath final : public DatapathPort {
 public:
  explicit Datapath(const DatapathOptions& opts);
  ~Datapath() override;
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  void attach_endpoint(uint32_t ifindex) override;
  bool endpoint_attached(uint32_t ifindex) override;
  MapContents read_maps() override;
  void apply(const MapDelta& delta) override;
  std::vector<MetricRow> read_metrics() override;
  void forget_metrics(uint32_t ifindex) override;

  // For BPF program tests and benchmarks.
  int from_container_prog_fd() const;
  int to_container_prog_fd() const;
  int map_fd(const std::string& name) const;

 private:
  endpoint_bpf* skel_ = nullptr;
};

}  // namespace bpfnet::datapath
