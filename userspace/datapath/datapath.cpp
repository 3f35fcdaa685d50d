#include "datapath/datapath.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "bpfnet_abi.h"
#include "endpoint_bpf.skel.h"

namespace bpfnet::datapath {

namespace {

// Fixed tc filter identity: a restart attaches with the same handle and
// priority and BPF_TC_F_REPLACE, so the kernel swaps the program atomically
// and the veth is never without one.
constexpr uint32_t kTcHandle = 0xb9f;
constexpr uint32_t kTcPriority = 1;

std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

bool is_bpffs(const std::string& path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

struct bpfnet_network to_abi(const NetworkEntry& n) {
  struct bpfnet_network v {};
  uint32_t mask = n.prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - n.prefix_len);
  v.subnet = htonl(n.subnet);
  v.mask = htonl(mask);
  v.gateway = htonl(n.gateway);
  v.flags = n.flags;
  v.mtu = n.mtu;
  return v;
}

struct bpfnet_endpoint to_abi(const EndpointEntry& e) {
  struct bpfnet_endpoint v {};
  v.ifindex = e.ifindex;
  v.network = e.network;
  v.ip = htonl(e.ip);
  std::memcpy(v.mac, e.mac.data(), 6);
  std::memcpy(v.gw_mac, e.gw_mac.data(), 6);
  return v;
}

EndpointEntry from_abi(const struct bpfnet_endpoint& v) {
  EndpointEntry e;
  e.ifindex = v.ifindex;
  e.network = v.network;
  e.ip = ntohl(v.ip);
  std::memcpy(e.mac.data(), v.mac, 6);
  std::memcpy(e.gw_mac.data(), v.gw_mac, 6);
  return e;
}

uint8_t prefix_of(uint32_t mask_host) {
  return static_cast<uint8_t>(__builtin_popcount(mask_host));
}

void check(int err, const std::string& what) {
  if (err) throw DatapathError(fmt::format("{}: {}", what, errstr(err)));
}

void update(int fd, const void* key, const void* value, const std::string& what) {
  if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0)
    throw DatapathError(fmt::format("{}: {}", what, errstr(errno)));
}

void remove(int fd, const void* key, const std::string& what) {
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

}  // namespace

void ensure_bpffs(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string root = "/sys/fs/bpf";
  std::error_code ec;
  bool under_root = dir == root || dir.starts_with(root + "/");
  std::string mount_point = under_root ? root : dir;
  fs::create_directories(mount_point, ec);
  if (ec) throw DatapathError(fmt::format("create {}: {}", mount_point, ec.message()));
  if (!is_bpffs(mount_point)) {
    if (mount("bpf", mount_point.c_str(), "bpf", 0, "mode=0700") != 0)
      throw DatapathError(fmt::format("mount bpffs at {}: {}", mount_point, errstr(errno)));
  }
  fs::create_directories(dir, ec);
  if (ec) throw DatapathError(fmt::format("create pin dir {}: {}", dir, ec.message()));
  if (!is_bpffs(dir)) throw DatapathError(fmt::format("pin dir {} is not on a bpffs", dir));
}

Datapath::Datapath(const DatapathOptions& opts) {
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (!opts.pin_dir.empty()) {
    ensure_bpffs(opts.pin_dir);
    open_opts.pin_root_path = opts.pin_dir.c_str();
  }
  skel_ = endpoint_bpf::open(&open_opts);
  if (!skel_) throw DatapathError(fmt::format("open BPF object endpoint: {}", errstr(errno)));
  if (opts.pin_dir.empty()) {
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, skel_->obj) bpf_map__set_pin_path(map, nullptr);
  }
  // Loading reuses every map already pinned under pin_dir (a restart keeps
  // conntrack, counters and configuration); libbpf refuses an incompatible one.
  int err = endpoint_bpf::load(skel_);
  if (err) {
    endpoint_bpf::destroy(skel_);
    skel_ = nullptr;
    throw DatapathError(fmt::format("load BPF programs (pin dir {}): {}",
                                    opts.pin_dir.empty() ? "none" : opts.pin_dir, errstr(err)));
  }
}

Datapath::~Datapath() {
  // Maps stay pinned and programs stay attached: the datapath outlives us.
  if (skel_) endpoint_bpf::destroy(skel_);
}

int Datapath::from_container_prog_fd() const {
  return bpf_program__fd(skel_->progs.bpfnet_from_container);
}
int Datapath::to_container_prog_fd() const {
  return bpf_program__fd(skel_->progs.bpfnet_to_container);
}

int Datapath::map_fd(const std::string& name) const {
  bpf_map* map = bpf_object__find_map_by_name(skel_->obj, name.c_str());
  if (!map) throw DatapathError("no map named " + name);
  return bpf_map__fd(map);
}

void Datapath::attach_endpoint(uint32_t ifindex) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST)
    throw DatapathError(
        fmt::format("create clsact on ifindex {}: {}", ifindex, errstr(err)));
  struct Point {
    bpf_tc_attach_point point;
    int fd;
  };
  for (const Point& p : {Point{BPF_TC_INGRESS, from_container_prog_fd()},
                         Point{BPF_TC_EGRESS, to_container_prog_fd()}}) {
    LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = static_cast<int>(ifindex), .attach_point = p.point);
    LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = p.fd, .flags = BPF_TC_F_REPLACE, .handle = kTcHandle,
                .priority = kTcPriority);
    check(bpf_tc_attach(&h, &o),
          fmt::format("attach tc {} on ifindex {}",
                      p.point == BPF_TC_INGRESS ? "ingress" : "egress", ifindex));
  }
}

bool Datapath::endpoint_attached(uint32_t ifindex) {
  for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
    LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = static_cast<int>(ifindex), .attach_point = point);
    LIBBPF_OPTS(bpf_tc_opts, o, .handle = kTcHandle, .priority = kTcPriority);
    if (bpf_tc_query(&h, &o) != 0) return false;
  }
  return true;
}

MapContents Datapath::read_maps() {
  MapContents out;
  int nets = map_fd(BPFNET_MAP_NETWORKS);
  for_each_key<uint32_t>(nets, [&](uint32_t idx) {
    struct bpfnet_network v {};
    if (bpf_map_lookup_elem(nets, &idx, &v) != 0) return;
    uint32_t mask = ntohl(v.mask);
    out.networks[idx] = NetworkEntry{idx, ntohl(v.subnet), prefix_of(mask), ntohl(v.gateway),
                                     v.flags, v.mtu};
  });
  int by_ip = map_fd(BPFNET_MAP_EP_BY_IP);
  for_each_key<uint32_t>(by_ip, [&](uint32_t ip_be) {
    struct bpfnet_endpoint v {};
    if (bpf_map_lookup_elem(by_ip, &ip_be, &v) == 0) out.endpoints_by_ip[ntohl(ip_be)] = from_abi(v);
  });
  int by_if = map_fd(BPFNET_MAP_EP_BY_IFINDEX);
  for_each_key<uint32_t>(by_if, [&](uint32_t ifindex) {
    struct bpfnet_endpoint v {};
    if (bpf_map_lookup_elem(by_if, &ifindex, &v) == 0)
      out.endpoints_by_ifindex[ifindex] = from_abi(v);
  });
  return out;
}

void Datapath::apply(const MapDelta& delta) {
  int nets = map_fd(BPFNET_MAP_NETWORKS);
  int subnets = map_fd(BPFNET_MAP_SUBNETS);
  int by_ip = map_fd(BPFNET_MAP_EP_BY_IP);
  int by_if = map_fd(BPFNET_MAP_EP_BY_IFINDEX);

  for (const NetworkEntry& n : delta.upsert_networks) {
    struct bpfnet_network v = to_abi(n);
    update(nets, &n.index, &v, fmt::format("write network {}", n.index));
    struct bpfnet_subnet_key key {n.prefix_len, v.subnet};
    update(subnets, &key, &n.index, fmt::format("write subnet of network {}", n.index));
  }
  for (const EndpointEntry& e : delta.upsert_ep_ip) {
    struct bpfnet_endpoint v = to_abi(e);
    update(by_ip, &v.ip, &v, fmt::format("write endpoint {}", e.ip));
  }
  for (const EndpointEntry& e : delta.upsert_ep_ifindex) {
    struct bpfnet_endpoint v = to_abi(e);
    update(by_if, &e.ifindex, &v, fmt::format("write endpoint ifindex {}", e.ifindex));
  }
  for (const EndpointEntry& e : delta.delete_ep_ip) {
    uint32_t ip_be = htonl(e.ip);
    remove(by_ip, &ip_be, fmt::format("delete endpoint {}", e.ip));
  }
  for (const EndpointEntry& e : delta.delete_ep_ifindex)
    remove(by_if, &e.ifindex, fmt::format("delete endpoint ifindex {}", e.ifindex));
  for (const NetworkEntry& n : delta.delete_networks) {
    struct bpfnet_subnet_key key {n.prefix_len, htonl(n.subnet)};
    remove(subnets, &key, fmt::format("delete subnet of network {}", n.index));
    remove(nets, &n.index, fmt::format("delete network {}", n.index));
  }
}

std::vector<MetricRow> Datapath::read_metrics() {
  int fd = map_fd(BPFNET_MAP_METRICS);
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) throw DatapathError("cannot count possible CPUs");
  std::vector<struct bpfnet_metrics_value> per_cpu(static_cast<size_t>(ncpu));
  std::vector<MetricRow> rows;
  for_each_key<struct bpfnet_metrics_key>(fd, [&](const struct bpfnet_metrics_key& key) {
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) return;
    MetricRow row{key.ifindex, key.reason, key.dir, 0, 0};
    for (const auto& v : per_cpu) {
      row.packets += v.packets;
      row.bytes += v.bytes;
    }
    rows.push_back(row);
  });
  return rows;
}

void Datapath::forget_metrics(uint32_t ifindex) {
  int fd = map_fd(BPFNET_MAP_METRICS);
  std::vector<struct bpfnet_metrics_key> doomed;
  for_each_key<struct bpfnet_metrics_key>(fd, [&](const struct bpfnet_metrics_key& key) {
    if (key.ifindex == ifindex) doomed.push_back(key);
  });
  for (const auto& key : doomed) bpf_map_delete_elem(fd, &key);
}

}  // namespace bpfnet::datapath
