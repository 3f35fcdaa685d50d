#include "datapath/map_model.h"

namespace bpfnet::datapath {

namespace {

template <typename Map, typename Entry>
void diff_one(const Map& current, const Map& desired, std::vector<Entry>& upserts,
              std::vector<Entry>& deletes) {
  for (const auto& [key, want] : desired) {
    auto it = current.find(key);
    if (it == current.end() || it->second != want) upserts.push_back(want);
  }
  for (const auto& [key, have] : current) {
    if (!desired.contains(key)) deletes.push_back(have);
  }
}

// For maps whose value is not the entry itself: emit keys.
template <typename Map, typename Key>
void diff_keys(const Map& current, const Map& desired, std::vector<Key>& upserts,
               std::vector<Key>& deletes) {
  for (const auto& [key, want] : desired) {
    auto it = current.find(key);
    if (it == current.end() || it->second != want) upserts.push_back(key);
  }
  for (const auto& [key, have] : current) {
    if (!desired.contains(key)) deletes.push_back(key);
  }
}

}  // namespace

MapDelta diff(const MapContents& current, const MapContents& desired) {
  MapDelta delta;
  diff_one(current.networks, desired.networks, delta.upsert_networks, delta.delete_networks);
  diff_one(current.endpoints_by_ip, desired.endpoints_by_ip, delta.upsert_ep_ip,
           delta.delete_ep_ip);
  diff_one(current.endpoints_by_ifindex, desired.endpoints_by_ifindex, delta.upsert_ep_ifindex,
           delta.delete_ep_ifindex);
  diff_one(current.portmaps, desired.portmaps, delta.upsert_portmaps, delta.delete_portmaps);
  diff_keys(current.host_addrs, desired.host_addrs, delta.upsert_host_addrs,
            delta.delete_host_addrs);
  diff_one(current.uplinks, desired.uplinks, delta.upsert_uplinks, delta.delete_uplinks);
  diff_one(current.services, desired.services, delta.upsert_services, delta.delete_services);
  diff_keys(current.vips, desired.vips, delta.upsert_vips, delta.delete_vips);
  diff_keys(current.backends, desired.backends, delta.upsert_backends, delta.delete_backends);
  delta.vip_values = desired.vips;
  delta.backend_values = desired.backends;
  return delta;
}

}  // namespace bpfnet::datapath
