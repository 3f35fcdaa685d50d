#include "datapath/map_model.h"

namespace bpfnet::datapath {

namespace {

template <typename Key, typename Value>
void diff_table(const std::map<Key, Value>& current, const std::map<Key, Value>& desired,
                Changes<Key, Value>& changes) {
  for (const auto& [key, want] : desired) {
    auto it = current.find(key);
    if (it == current.end() || it->second != want) changes.upserts.emplace_back(key, want);
  }
  for (const auto& [key, have] : current)
    if (!desired.contains(key)) changes.deletes.emplace_back(key, have);
}

}  // namespace

size_t MapDelta::size() const {
  size_t total = 0;
#define BPFNET_ADD_SIZE(name, Key, Value) total += name.size();
  BPFNET_CONFIG_TABLES(BPFNET_ADD_SIZE)
#undef BPFNET_ADD_SIZE
  return total;
}

MapDelta diff(const MapContents& current, const MapContents& desired) {
  MapDelta delta;
#define BPFNET_DIFF_TABLE(name, Key, Value) diff_table(current.name, desired.name, delta.name);
  BPFNET_CONFIG_TABLES(BPFNET_DIFF_TABLE)
#undef BPFNET_DIFF_TABLE
  return delta;
}

}  // namespace bpfnet::datapath
