// The datapath in memory: the configuration maps, counters, conntrack and
// Maglev tables as plain containers, with every attach and applied delta
// recorded, so the projection, conntrack logic and the Controller run
// without root.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "bpfnet_abi.h"
#include "datapath/map_model.h"
#include "datapath/port.h"

namespace bpfnet::fakes {

// The configuration maps in memory; records attaches and every applied delta.
class FakeDatapath : public datapath::DatapathPort {
 public:
  datapath::MapContents maps;
  std::set<uint32_t> attached;
  std::vector<uint32_t> attach_calls;
  std::vector<datapath::MapDelta> deltas;
  std::vector<datapath::MetricRow> metrics;
  std::vector<uint32_t> forgotten;
  std::vector<uint32_t> uplink_attach_calls;
  std::vector<datapath::CtEntry> conntrack;
  std::vector<datapath::CtKey> ct_deleted;

  void attach_endpoint(uint32_t ifindex) override {
    attach_calls.push_back(ifindex);
    attached.insert(ifindex);
  }
  bool endpoint_attached(uint32_t ifindex) override { return attached.contains(ifindex); }
  size_t read_maps_calls = 0;  // each a read of every map (the kernel's: every entry)
  datapath::MapContents read_maps() override {
    ++read_maps_calls;
    return maps;
  }
  bool refuse_apply = false;  // as a kernel refusing a map write
  void apply(const datapath::MapDelta& delta) override {
    if (refuse_apply) throw datapath::DatapathError("fake: map write refused");
    deltas.push_back(delta);
#define BPFNET_FAKE_APPLY(name, Key, Value)                                   \
  for (const auto& [key, value] : delta.name.upserts) maps.name[key] = value; \
  for (const auto& [key, value] : delta.name.deletes) maps.name.erase(key);
    BPFNET_CONFIG_TABLES(BPFNET_FAKE_APPLY)
#undef BPFNET_FAKE_APPLY
  }
  std::vector<datapath::MetricRow> read_metrics() override { return metrics; }
  void forget_metrics(uint32_t ifindex) override { forgotten.push_back(ifindex); }
  void attach_uplink(uint32_t ifindex, bool xdp) override {
    uplink_attach_calls.push_back(ifindex);
    if (xdp && refuse_xdp) throw datapath::DatapathError("fake: XDP refused");
    uplink_xdp[ifindex] = xdp;
  }
  std::map<uint32_t, bool> uplink_xdp;  // by ifindex: the hook last attached
  bool refuse_xdp = false;              // as a driver without native XDP does
  void attach_cgroup(const std::string&, uint64_t) override {}
  uint32_t overlay_ifindex = 0;  // the VXLAN device attach_overlay was given, 0: none
  uint32_t overlay_underlay = 0;
  void attach_overlay(uint32_t vxlan_ifindex, uint32_t underlay_ip) override {
    overlay_ifindex = vxlan_ifindex;
    overlay_underlay = underlay_ip;
  }
  void detach_overlay(uint32_t) override {
    overlay_ifindex = overlay_underlay = 0;
    underlay_ifindex = underlay_prefix = 0;
  }
  uint32_t underlay_ifindex = 0;  // what attach_underlay was given, 0: none
  unsigned underlay_prefix = 0;
  void attach_underlay(uint32_t ifindex, unsigned prefix_len) override {
    underlay_ifindex = ifindex;
    underlay_prefix = prefix_len;
  }
  std::pair<uint16_t, uint16_t> nat_ports{};  // as set_nat_ports wrote them
  void set_nat_ports(uint16_t min, uint16_t max) override { nat_ports = {min, max}; }
  std::vector<datapath::CtEntry> read_conntrack() override { return conntrack; }
  void delete_conntrack(const std::vector<datapath::CtKey>& keys) override {
    ct_deleted.insert(ct_deleted.end(), keys.begin(), keys.end());
  }
  uint32_t conntrack_capacity() override { return 1024; }
  std::map<uint32_t, std::vector<uint32_t>> maglev;        // index -> table
  std::vector<std::pair<uint32_t, size_t>> maglev_writes;  // index, slots written
  std::vector<uint32_t> read_maglev(uint32_t index) override {
    auto it = maglev.find(index);
    return it == maglev.end() ? std::vector<uint32_t>{} : it->second;
  }
  void write_maglev(uint32_t index, uint32_t table_size,
                    const std::vector<std::pair<uint32_t, uint32_t>>& changes) override {
    auto& t = maglev[index];
    if (t.size() != table_size) t.assign(table_size, BPFNET_NO_BACKEND);
    for (const auto& [slot, backend] : changes) t.at(slot) = backend;
    maglev_writes.emplace_back(index, changes.size());
  }
  void delete_maglev(uint32_t index) override { maglev.erase(index); }
  std::vector<uint32_t> maglev_indexes() override {
    std::vector<uint32_t> out;
    for (const auto& [i, t] : maglev) out.push_back(i);
    return out;
  }
};

}  // namespace bpfnet::fakes
