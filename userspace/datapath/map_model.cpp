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

}  // namespace

MapDelta diff(const MapContents& current, const MapContents& desired) {
  MapDelta delta;
  diff_one(current.networks, desired.networks, delta.upsert_networks, delta.delete_networks);
  diff_one(current.endpoints_by_ip, desired.endpoints_by_ip, delta.upsert_ep_ip,
           delta.delete_ep_ip);
  diff_one(current.endpoints_by_ifindex, desired.endpoints_by_ifindex, delta.upsert_ep_ifindex,
           delta.delete_ep_ifindex);
  return delta;
}

}  // namespace bpfnet::datapath
