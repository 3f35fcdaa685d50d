// Internal to the datapath layer: libbpf's syscall wrappers with errors
// turned into DatapathError messages that say what was being done.
#pragma once

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "datapath/datapath.h"

namespace bpfnet::datapath::bpf_calls {

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

}  // namespace bpfnet::datapath::bpf_calls
