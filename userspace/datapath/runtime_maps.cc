// The maps the datapath writes and the daemon reads: counters (per-CPU,
// summed here), conntrack, and the Maglev tables (an array of maps).
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpfnet_abi.h"
#include "datapath/bpf_calls.h"
#include "datapath/datapath.h"
#include "endpoint_bpf.skel.h"

namespace bpfnet::datapath {

namespace {

using namespace bpf_calls;

size_t possible_cpus() {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw DatapathError("cannot count possible CPUs");
  return static_cast<size_t>(ncpu);
}

// Forwarded packets of low ifindexes live in the per-CPU array, one batch
// read for all of it.
void read_fast_counters(bpf_map* map, size_t ncpu, std::vector<MetricRow>& rows) {
  constexpr uint32_t kFast = BPFNET_FAST_COUNTER_IFINDEXES;
  std::vector<uint32_t> keys(kFast);
  std::vector<struct bpfnet_if_counters> values(size_t(kFast) * ncpu);
  uint32_t count = kFast, out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, batch_opts);
  int err = bpf_map_lookup_batch(bpf_map__fd(map), nullptr, &out_batch, keys.data(), values.data(),
                                 &count, &batch_opts);
  if (err && errno != ENOENT)
    throw DatapathError(fmt::format("read {}: {}", bpf_map__name(map), errstr(-errno)));
  for (uint32_t i = 0; i < count; ++i) {
    for (uint8_t dir = 0; dir < 2; ++dir) {
      MetricRow row{keys[i], BPFNET_OK, dir, 0, 0};
      for (size_t cpu = 0; cpu < ncpu; ++cpu) {
        const auto& v = values[size_t(i) * ncpu + cpu].dir[dir];
        row.packets += v.packets;
        row.bytes += v.bytes;
      }
      if (row.packets) rows.push_back(row);
    }
  }
}

// The inner table of a service, or -1 when there is none. Caller closes.
int maglev_inner_fd(int outer, uint32_t index) {
  uint32_t id = 0;
  if (bpf_map_lookup_elem(outer, &index, &id) != 0) return -1;
  return bpf_map_get_fd_by_id(id);
}

uint32_t max_entries_of(int fd) {
  struct bpf_map_info info {};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 0;
}

}  // namespace

std::vector<MetricRow> Datapath::read_metrics() {
  const size_t ncpu = possible_cpus();
  std::vector<struct bpfnet_metrics_value> per_cpu(ncpu);
  std::vector<MetricRow> rows;
  int fd = bpf_map__fd(endpoint_->maps.bpfnet_metrics);
  for_each_key<struct bpfnet_metrics_key>(fd, [&](const struct bpfnet_metrics_key& key) {
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) return;
    MetricRow row{key.ifindex, key.reason, key.dir, 0, 0};
    for (const auto& v : per_cpu) {
      row.packets += v.packets;
      row.bytes += v.bytes;
    }
    rows.push_back(row);
  });
  read_fast_counters(endpoint_->maps.bpfnet_if_counters, ncpu, rows);
  return rows;
}

void Datapath::forget_metrics(uint32_t ifindex) {
  int fd = bpf_map__fd(endpoint_->maps.bpfnet_metrics);
  std::vector<struct bpfnet_metrics_key> doomed;
  for_each_key<struct bpfnet_metrics_key>(fd, [&](const struct bpfnet_metrics_key& key) {
    if (key.ifindex == ifindex) doomed.push_back(key);
  });
  for (const auto& key : doomed) bpf_map_delete_elem(fd, &key);
  if (ifindex < BPFNET_FAST_COUNTER_IFINDEXES) {
    std::vector<struct bpfnet_if_counters> zero(possible_cpus());
    update(bpf_map__fd(endpoint_->maps.bpfnet_if_counters), &ifindex, zero.data(),
           fmt::format("reset counters of ifindex {}", ifindex));
  }
}

std::vector<CtEntry> Datapath::read_conntrack() {
  std::vector<CtEntry> out;
  for_each_entry_batched<
      struct bpfnet_ct_key,
      struct bpfnet_ct_value>(bpf_map__fd(endpoint_->maps.bpfnet_ct), [&](const auto& k,
                                                                          const auto& v) {
    CtEntry e;
    std::memcpy(e.key.data(), &k, sizeof(k));
    std::memcpy(e.peer.data(), &v.peer, sizeof(v.peer));
    e.expires_ns = v.expires_ns;
    e.state = v.state;
    e.flags = v.flags;
    e.packets = v.packets;
    e.bytes = v.bytes;
    e.created_ns = v.created_ns;
    e.tuple = CtTuple{ntohl(k.saddr), ntohl(k.daddr), ntohs(k.sport), ntohs(k.dport), k.proto};
    e.rewrite = CtTuple{ntohl(v.saddr), ntohl(v.daddr), ntohs(v.sport), ntohs(v.dport), k.proto};
    out.push_back(e);
  });
  return out;
}

std::vector<core::FlowHalf> Datapath::read_flow_halves() {
  std::vector<core::FlowHalf> out;
  // Room for a full conntrack: only the pages written are touched.
  out.reserve(conntrack_capacity());
  auto tuple = [](const auto& t, uint8_t proto) {
    return core::FlowTuple{ntohl(t.saddr), ntohl(t.daddr), ntohs(t.sport), ntohs(t.dport), proto};
  };
  for_each_entry_batched<struct bpfnet_ct_key, struct bpfnet_ct_value>(
      bpf_map__fd(endpoint_->maps.bpfnet_ct), [&](const auto& k, const auto& v) {
        out.push_back(core::FlowHalf{tuple(k, k.proto), tuple(v.peer, v.peer.proto),
                                     tuple(v, k.proto), v.state, v.flags, v.expires_ns,
                                     v.created_ns, v.packets, v.bytes});
      });
  return out;
}

void Datapath::delete_conntrack(const std::vector<CtKey>& keys) {
  int fd = bpf_map__fd(endpoint_->maps.bpfnet_ct);
  constexpr size_t kChunk = 4096;
  size_t done = 0;
  while (done < keys.size()) {
    uint32_t count = uint32_t(std::min(keys.size() - done, kChunk));
    int err = bpf_map_delete_batch(fd, keys[done].data(), &count, nullptr);
    done += count;
    if (!err) continue;
    if (errno != ENOENT) {  // no batch operations: one key at a time
      for (; done < keys.size(); ++done) bpf_map_delete_elem(fd, keys[done].data());
      return;
    }
    ++done;  // that key was gone already (the datapath deleted its flow)
  }
}

uint32_t Datapath::conntrack_capacity() { return bpf_map__max_entries(endpoint_->maps.bpfnet_ct); }

std::vector<uint32_t> Datapath::read_maglev(uint32_t index) {
  int inner = maglev_inner_fd(bpf_map__fd(endpoint_->maps.bpfnet_maglev), index);
  if (inner < 0) return {};
  std::vector<uint32_t> table(max_entries_of(inner), BPFNET_NO_BACKEND);
  for (uint32_t slot = 0; slot < table.size(); ++slot)
    bpf_map_lookup_elem(inner, &slot, &table[slot]);
  close(inner);
  return table;
}

void Datapath::write_maglev(uint32_t index, uint32_t table_size,
                            const std::vector<std::pair<uint32_t, uint32_t>>& slot_changes) {
  int outer = bpf_map__fd(endpoint_->maps.bpfnet_maglev);
  int inner = maglev_inner_fd(outer, index);
  if (inner >= 0 && max_entries_of(inner) != table_size) {
    close(inner);
    inner = -1;
  }
  const bool fresh = inner < 0;
  if (fresh) {
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
    inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfnet_mag_tbl", sizeof(uint32_t), sizeof(uint32_t),
                           table_size, &opts);
    if (inner < 0)
      throw DatapathError(fmt::format("create Maglev table {}: {}", index, errstr(errno)));
  }
  try {
    if (fresh) {
      // A new table starts empty everywhere, then takes the changes, and only
      // then replaces the old one in a single outer-map update.
      uint32_t none = BPFNET_NO_BACKEND;
      for (uint32_t slot = 0; slot < table_size; ++slot)
        update(inner, &slot, &none, "fill Maglev table");
    }
    for (const auto& [slot, backend] : slot_changes)
      update(inner, &slot, &backend, fmt::format("write Maglev slot {}", slot));
    if (fresh) update(outer, &index, &inner, fmt::format("install Maglev table {}", index));
  } catch (...) {
    close(inner);
    throw;
  }
  close(inner);
}

void Datapath::delete_maglev(uint32_t index) {
  remove(bpf_map__fd(endpoint_->maps.bpfnet_maglev), &index,
         fmt::format("delete Maglev table {}", index));
}

std::vector<uint32_t> Datapath::maglev_indexes() {
  int outer = bpf_map__fd(endpoint_->maps.bpfnet_maglev);
  std::vector<uint32_t> out;
  for (uint32_t index = 0; index < BPFNET_MAX_SERVICE_TABLES; ++index) {
    uint32_t id = 0;
    if (bpf_map_lookup_elem(outer, &index, &id) == 0) out.push_back(index);
  }
  return out;
}

}  // namespace bpfnet::datapath
