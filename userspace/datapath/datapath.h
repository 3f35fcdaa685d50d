// The only code that calls libbpf: loads the programs (skeletons), pins and
// reuses the maps, attaches tc programs by atomic replace, and reads/writes
// map entries. Everything above it speaks the DatapathPort (port.h).
//
// Sources: datapath.cc (load, pin, attach), overlay.cc (the VXLAN device's
// program and the overlay settings), config_maps.cc (the configuration maps,
// one codec each), runtime_maps.cc (counters, conntrack, Maglev tables).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "datapath/pinned_maps.h"
#include "datapath/port.h"

struct bpf_link;
struct bpf_program;
struct endpoint_bpf;
struct uplink_bpf;
struct sock_bpf;
struct overlay_bpf;
struct bpfnet_config;

namespace bpfnet::datapath {

// Makes sure `dir` is on a bpffs: mounts one at /sys/fs/bpf when `dir` is
// below it, else at `dir` itself. Creates `dir`.
void ensure_bpffs(const std::string& dir);

struct DatapathOptions {
  // Where maps and links are pinned (LIBBPF_PIN_BY_NAME). Empty: nothing is
  // pinned (tests).
  std::string pin_dir;
  // Conntrack entries (two per flow) when the map is first created; an
  // already pinned map keeps its size (changing it would drop every flow).
  uint32_t ct_max = 0;  // 0: BPFNET_CT_DEFAULT_MAX
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
  void attach_uplink(uint32_t ifindex, bool xdp) override;
  void attach_cgroup(const std::string& cgroup_path, uint64_t host_netns_cookie) override;
  void attach_overlay(uint32_t vxlan_ifindex, uint32_t underlay_ip) override;
  void detach_overlay(uint32_t vxlan_ifindex) override;
  void attach_underlay(uint32_t ifindex, unsigned prefix_len) override;
  void set_nat_ports(uint16_t min, uint16_t max) override;
  std::vector<CtEntry> read_conntrack() override;
  std::vector<core::FlowHalf> read_flow_halves() override;
  void delete_conntrack(const std::vector<CtKey>& keys) override;
  uint32_t conntrack_capacity() override;
  std::vector<uint32_t> read_maglev(uint32_t index) override;
  void write_maglev(uint32_t index, uint32_t table_size,
                    const std::vector<std::pair<uint32_t, uint32_t>>& slot_changes) override;
  void delete_maglev(uint32_t index) override;
  std::vector<uint32_t> maglev_indexes() override;

  // For BPF program tests and benchmarks.
  int from_container_prog_fd() const;
  int to_container_prog_fd() const;
  int xdp_uplink_prog_fd() const;
  int tc_uplink_prog_fd() const;
  int from_overlay_prog_fd() const;
  int from_underlay_prog_fd() const;
  // A map by its pinned name (tests and benchmarks poke maps directly; the
  // datapath itself uses the skeleton's typed handles).
  int map_fd(const std::string& name) const;

  // Pinned maps of another layout (an older or newer build) that this start
  // recreated, with what it cost: for the daemon's log.
  const std::vector<ReplacedPin>& replaced_pins() const { return replaced_; }

 private:
  // Attaches `prog` through a bpf_link pinned as `name` (so it outlives the
  // daemon), or atomically swaps the program of the already pinned link.
  void attach_pinned_link(const std::string& name, struct bpf_program* prog,
                          const std::function<struct bpf_link*()>& attach);
  // Detaches and unpins what attach_pinned_link(name) attached, if anything.
  void detach_pinned_link(const std::string& name);
  // `handle`: which of bpfnet's filters (one interface may have two: an
  // uplink's and the underlay's, tried newest first at the same priority).
  void tc_attach(uint32_t ifindex, int ingress_fd, int egress_fd, uint32_t handle = kTcHandle);
  // Removes what tc_attach put at ingress; an absent filter or device is fine.
  void tc_detach_ingress(uint32_t ifindex, uint32_t handle = kTcHandle);
  // Read-modify-write of bpfnet_config (key 0): its fields have different
  // owners (the cgroup hooks, the overlay), none may wipe the others'.
  void update_config(const std::function<void(struct bpfnet_config&)>& change);

  static constexpr uint32_t kTcHandle = 0xb9f;
  static constexpr uint32_t kTcUnderlayHandle = 0xba0;

  std::string pin_dir_;
  // The endpoint object owns every map; the others reuse its maps.
  endpoint_bpf* endpoint_ = nullptr;
  uplink_bpf* uplink_ = nullptr;
  sock_bpf* sock_ = nullptr;
  overlay_bpf* overlay_ = nullptr;
  std::map<std::string, struct bpf_link*> links_;  // unpinned links (tests), by name
  std::vector<ReplacedPin> replaced_;
};

}  // namespace bpfnet::datapath
