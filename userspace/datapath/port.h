// What the daemon needs from a datapath: the adapter between the control
// plane and the kernel's maps and hooks. Datapath (datapath.h) implements it
// with libbpf; tests implement it in memory, so everything above it — the
// projection, conntrack GC, counters, the controller — runs without root.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/flows.h"
#include "datapath/map_model.h"

namespace bpfnet::datapath {

// What the kernel refused (a map write, an attach), with what was being done.
struct DatapathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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
  // Uplinks: tc ingress always; native XDP in front of it when `xdp`, else
  // any XDP program bpfnet attached there before is detached.
  virtual void attach_uplink(uint32_t ifindex, bool xdp) = 0;
  // Host-local access to published ports (cgroup v2 socket hooks).
  virtual void attach_cgroup(const std::string& cgroup_path, uint64_t host_netns_cookie) = 0;
  // Overlay networks: attach (or atomically replace) the decapsulation
  // program at tc ingress of the collect-metadata VXLAN device
  // (netlink::Netlink::ensure_vxlan_device), and tell the endpoint programs
  // to tunnel through it with `underlay_ip` (host order) as the outer
  // source. Idempotent; a restart calls it again.
  virtual void attach_overlay(uint32_t vxlan_ifindex, uint32_t underlay_ip) = 0;
  // Undoes attach_overlay (and attach_underlay): remote overlay
  // destinations are then dropped (no-vxlan). An absent device or program
  // is fine.
  virtual void detach_overlay(uint32_t vxlan_ifindex) = 0;
  // VXLAN in BPF (bpf/lib/vxlan.h), after attach_overlay: the decapsulation
  // program at tc ingress of `ifindex`, the interface the underlay address
  // is on (`prefix_len`: its subnet, whose hosts are next hops), and the
  // endpoint programs encapsulate and send out of it; the VXLAN device
  // carries only what that path cannot. 0: through the device only. Moves
  // the program off an interface given before. Idempotent.
  virtual void attach_underlay(uint32_t ifindex, unsigned prefix_len) = 0;
  // The source ports masquerade allocates from (core/nat_ports.h).
  virtual void set_nat_ports(uint16_t min, uint16_t max) = 0;
  virtual std::vector<CtEntry> read_conntrack() = 0;
  // The same entries as `flows` joins them (core/flows.h). By default made
  // from read_conntrack(); the kernel's datapath reads straight into them
  // (262,144 flows: one array of half a million entries fewer).
  virtual std::vector<core::FlowHalf> read_flow_halves();
  virtual void delete_conntrack(const std::vector<CtKey>& keys) = 0;
  virtual uint32_t conntrack_capacity() = 0;
  // Maglev tables (one inner array per service index). Written as slot
  // changes; a table whose size changes is replaced whole.
  virtual std::vector<uint32_t> read_maglev(uint32_t index) = 0;
  virtual void write_maglev(uint32_t index, uint32_t table_size,
                            const std::vector<std::pair<uint32_t, uint32_t>>& slot_changes) = 0;
  virtual void delete_maglev(uint32_t index) = 0;
  virtual std::vector<uint32_t> maglev_indexes() = 0;
};

}  // namespace bpfnet::datapath
