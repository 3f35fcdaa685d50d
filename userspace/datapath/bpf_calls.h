// Internal to the datapath layer: libbpf's syscall wrappers with errors
// turned into DatapathError messages that say what was being done.
#pragma once

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "datapath/datapath.h"

namespace bpfnet::datapath::bpf_calls {

// The kernel's ENOTSUPP (not in userspace's errno.h): an operation the map
// type does not implement.
inline constexpr int kEnotsupp = 524;

inline std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

inline void check(int err, const std::string& what) {
  if (err) throw DatapathError(fmt::format("{}: {}", what, errstr(err)));
}

inline void update(int fd, const void* key, const void* value, const std::string& what) {
  if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0)
    throw DatapathError(fmt::format("{}: {}", what, errstr(errno)));
}

// Deleting what is already gone is fine.
inline void remove(int fd, const void* key, const std::string& what) {
  if (bpf_map_delete_elem(fd, key) != 0 && errno != ENOENT)
    throw DatapathError(fmt::format("{}: {}", what, errstr(errno)));
}

// Iterates every key of a map (keys only; values are read by the caller).
template <typename Key, typename Fn>
void for_each_key(int fd, Fn&& fn) {
  Key key{};
  Key next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    fn(next);
    key = next;
    prev = &key;
  }
}

// Every key and value of a map whose value is a single (not per-CPU) struct.
template <typename Key, typename Value, typename Fn>
void for_each_entry(int fd, Fn&& fn) {
  for_each_key<Key>(fd, [&](const Key& key) {
    Value value{};
    if (bpf_map_lookup_elem(fd, &key, &value) == 0) fn(key, value);
  });
}

// Every key and value of a hash map, read with BPF_MAP_LOOKUP_BATCH a few
// thousand at a time. For a large map that the datapath changes while it is
// read (the conntrack under a flood of new flows) this is the way that ends:
// get_next_key() starts over from the first bucket whenever the key it was
// given has gone meanwhile, and takes two syscalls per entry.
// A kernel without batch operations for the map (EINVAL before any entry,
// ENOTSUPP) is read one key at a time instead.
template <typename Key, typename Value, typename Fn>
void for_each_entry_batched(int fd, Fn&& fn) {
  uint32_t chunk = 4096;
  std::vector<Key> keys(chunk);
  std::vector<Value> values(chunk);
  uint32_t cursor = 0;  // a bucket index for hash maps
  bool first = true;
  for (;;) {
    uint32_t count = chunk;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &cursor, &cursor, keys.data(),
                                   values.data(), &count, nullptr);
    if (err && errno == ENOSPC && count == 0) {  // one bucket holds more than a chunk
      chunk *= 2;
      keys.resize(chunk);
      values.resize(chunk);
      continue;
    }
    if (err && first && count == 0 && (errno == EINVAL || errno == kEnotsupp)) {
      for_each_entry<Key, Value>(fd, fn);
      return;
    }
    if (err && errno != ENOENT)
      throw DatapathError(fmt::format("read map in batches: {}", errstr(errno)));
    for (uint32_t i = 0; i < count; ++i) fn(keys[i], values[i]);
    if (err) return;  // ENOENT: the last bucket was read
    first = false;
  }
}

}  // namespace bpfnet::datapath::bpf_calls
