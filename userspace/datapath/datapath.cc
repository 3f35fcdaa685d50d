#include "datapath/datapath.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "bpfnet_abi.h"
#include "endpoint_bpf.skel.h"
#include "sock_bpf.skel.h"
#include "uplink_bpf.skel.h"

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

namespace {

// The same-named maps of the later objects are the first object's maps.
void share_maps(bpf_object* from, bpf_object* to) {
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, to) {
    bpf_map* src = bpf_object__find_map_by_name(from, bpf_map__name(map));
    if (src && bpf_map__fd(src) >= 0) {
      int err = bpf_map__reuse_fd(map, bpf_map__fd(src));
      if (err)
        throw DatapathError(fmt::format("share map {}: {}", bpf_map__name(map), errstr(err)));
    }
  }
}

void unpin_all(bpf_object* obj) {
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj) bpf_map__set_pin_path(map, nullptr);
}

// Opens and loads one skeleton, turning libbpf's errno into a message.
template <typename Skel>
Skel* open_and_load(const char* name, const bpf_object_open_opts* opts, bool pin,
                    const std::function<void(Skel*)>& before_load) {
  Skel* skel = Skel::open(opts);
  if (!skel) throw DatapathError(fmt::format("open BPF object {}: {}", name, errstr(errno)));
  try {
    if (!pin) unpin_all(skel->obj);
    before_load(skel);
  } catch (...) {
    Skel::destroy(skel);
    throw;
  }
  int err = Skel::load(skel);
  if (err) {
    Skel::destroy(skel);
    throw DatapathError(fmt::format("load BPF object {}: {}", name, errstr(err)));
  }
  return skel;
}

uint32_t pinned_max_entries(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return 0;
  struct bpf_map_info info {};
  uint32_t len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(fd, &info, &len);
  close(fd);
  return err ? 0 : info.max_entries;
}

}  // namespace

Datapath::Datapath(const DatapathOptions& opts) : pin_dir_(opts.pin_dir) {
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  const bool pin = !pin_dir_.empty();
  if (pin) {
    ensure_bpffs(pin_dir_);
    open_opts.pin_root_path = pin_dir_.c_str();
  }
  uint32_t ct_max = opts.ct_max ? opts.ct_max : BPFNET_CT_DEFAULT_MAX;
  if (pin) {
    // Loading reuses every map pinned under pin_dir (a restart keeps
    // conntrack, counters and configuration); a pinned conntrack map keeps
    // the size it was created with.
    uint32_t pinned = pinned_max_entries(pin_dir_ + "/" BPFNET_MAP_CT);
    if (pinned) ct_max = pinned;
  }
  try {
    endpoint_ = open_and_load<endpoint_bpf>("endpoint", &open_opts, pin, [&](endpoint_bpf* s) {
      bpf_map__set_max_entries(s->maps.bpfnet_ct, ct_max);
    });
    uplink_ = open_and_load<uplink_bpf>("uplink", &open_opts, pin,
                                        [&](uplink_bpf* s) { share_maps(endpoint_->obj, s->obj); });
    sock_ = open_and_load<sock_bpf>("sock", &open_opts, pin,
                                    [&](sock_bpf* s) { share_maps(endpoint_->obj, s->obj); });
  } catch (...) {
    if (uplink_) uplink_bpf::destroy(uplink_);
    if (endpoint_) endpoint_bpf::destroy(endpoint_);
    throw;
  }
}

Datapath::~Datapath() {
  // Maps and links stay pinned, tc programs stay attached: the datapath
  // outlives us. Only unpinned links (tests) go with the process.
  for (bpf_link* link : links_) bpf_link__destroy(link);
  if (sock_) sock_bpf::destroy(sock_);
  if (uplink_) uplink_bpf::destroy(uplink_);
  if (endpoint_) endpoint_bpf::destroy(endpoint_);
}

int Datapath::from_container_prog_fd() const {
  return bpf_program__fd(endpoint_->progs.bpfnet_from_container);
}
int Datapath::to_container_prog_fd() const {
  return bpf_program__fd(endpoint_->progs.bpfnet_to_container);
}
int Datapath::xdp_uplink_prog_fd() const {
  return bpf_program__fd(uplink_->progs.bpfnet_xdp_uplink);
}
int Datapath::tc_uplink_prog_fd() const { return bpf_program__fd(uplink_->progs.bpfnet_tc_uplink); }

int Datapath::map_fd(const std::string& name) const {
  bpf_map* map = bpf_object__find_map_by_name(endpoint_->obj, name.c_str());
  if (!map) throw DatapathError("no map named " + name);
  return bpf_map__fd(map);
}

namespace {

// bpf_tc_hook_create() on an interface that already has its clsact qdisc
// (every endpoint at every restart) fails with EEXIST, which tc_attach
// expects; libbpf still prints the kernel's "Exclusivity flag on, cannot
// modify" for it, which reads like an error in the daemon's log. This filter
// drops that one message while a hook is being created and passes the rest
// on to whatever printer was installed before.
thread_local bool t_creating_tc_hook = false;
libbpf_print_fn_t g_next_printer = nullptr;

int print_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (t_creating_tc_hook && std::strstr(format, "Kernel error message") != nullptr) return 0;
  return g_next_printer ? g_next_printer(level, format, args) : 0;
}

int create_tc_hook(bpf_tc_hook* hook) {
  static std::once_flag installed;
  std::call_once(installed, [] { g_next_printer = libbpf_set_print(print_libbpf); });
  t_creating_tc_hook = true;
  int err = bpf_tc_hook_create(hook);
  t_creating_tc_hook = false;
  return err;
}

}  // namespace

void Datapath::tc_attach(uint32_t ifindex, int ingress_fd, int egress_fd) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
  int err = create_tc_hook(&hook);
  if (err && err != -EEXIST)
    throw DatapathError(fmt::format("create clsact on ifindex {}: {}", ifindex, errstr(err)));
  struct Point {
    bpf_tc_attach_point point;
    int fd;
  };
  for (const Point& p : {Point{BPF_TC_INGRESS, ingress_fd}, Point{BPF_TC_EGRESS, egress_fd}}) {
    if (p.fd < 0) continue;
    LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = static_cast<int>(ifindex), .attach_point = p.point);
    LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = p.fd, .flags = BPF_TC_F_REPLACE, .handle = kTcHandle,
                .priority = kTcPriority);
    check(bpf_tc_attach(&h, &o),
          fmt::format("attach tc {} on ifindex {}",
                      p.point == BPF_TC_INGRESS ? "ingress" : "egress", ifindex));
  }
}

void Datapath::attach_endpoint(uint32_t ifindex) {
  tc_attach(ifindex, from_container_prog_fd(), to_container_prog_fd());
}

void Datapath::attach_pinned_link(const std::string& name, bpf_program* prog,
                                  const std::function<bpf_link*()>& attach) {
  if (pin_dir_.empty()) {
    bpf_link* link = attach();
    if (!link) throw DatapathError(fmt::format("attach {}: {}", name, errstr(errno)));
    links_.push_back(link);
    return;
  }
  std::string dir = pin_dir_ + "/links";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + name;
  bpf_link* old = std::filesystem::exists(path) ? bpf_link__open(path.c_str()) : nullptr;
  if (old) {
    // Restart: swap the program under the existing link, never detach.
    int err = bpf_link__update_program(old, prog);
    bpf_link__disconnect(old);
    bpf_link__destroy(old);
    if (!err) return;
    // The link's target is gone (interface or cgroup removed): start over.
    unlink(path.c_str());
  }
  bpf_link* link = attach();
  if (!link) throw DatapathError(fmt::format("attach {}: {}", name, errstr(errno)));
  int err = bpf_link__pin(link, path.c_str());
  bpf_link__disconnect(link);
  bpf_link__destroy(link);
  if (err) throw DatapathError(fmt::format("pin link {}: {}", path, errstr(err)));
}

void Datapath::attach_uplink(uint32_t ifindex, bool xdp) {
  tc_attach(ifindex, tc_uplink_prog_fd(), -1);
  if (!xdp) return;
  bpf_program* prog = uplink_->progs.bpfnet_xdp_uplink;
  attach_pinned_link(fmt::format("xdp_{}", ifindex), prog,
                     [&] { return bpf_program__attach_xdp(prog, static_cast<int>(ifindex)); });
}

void Datapath::attach_cgroup(const std::string& cgroup_path, uint64_t host_netns_cookie) {
  uint32_t zero = 0;
  struct bpfnet_config cfg {};
  cfg.host_netns_cookie = host_netns_cookie;
  update(map_fd(BPFNET_MAP_CONFIG), &zero, &cfg, "write config");
  int cg = open(cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) throw DatapathError(fmt::format("open cgroup {}: {}", cgroup_path, errstr(errno)));
  struct Hook {
    const char* name;
    bpf_program* prog;
  };
  try {
    for (const Hook& h : {Hook{"connect4", sock_->progs.bpfnet_sock_connect4},
                          Hook{"sendmsg4", sock_->progs.bpfnet_sock_sendmsg4},
                          Hook{"recvmsg4", sock_->progs.bpfnet_sock_recvmsg4},
                          Hook{"getpeername4", sock_->progs.bpfnet_sock_getpeername4}}) {
      attach_pinned_link(std::string("cgroup_") + h.name, h.prog,
                         [&] { return bpf_program__attach_cgroup(h.prog, cg); });
    }
  } catch (...) {
    close(cg);
    throw;
  }
  close(cg);
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
    out.networks[idx] =
        NetworkEntry{idx, ntohl(v.subnet), prefix_of(mask), ntohl(v.gateway), v.flags, v.mtu};
  });
  int by_ip = map_fd(BPFNET_MAP_EP_BY_IP);
  for_each_key<uint32_t>(by_ip, [&](uint32_t ip_be) {
    struct bpfnet_endpoint v {};
    if (bpf_map_lookup_elem(by_ip, &ip_be, &v) == 0)
      out.endpoints_by_ip[ntohl(ip_be)] = from_abi(v);
  });
  int by_if = map_fd(BPFNET_MAP_EP_BY_IFINDEX);
  for_each_key<uint32_t>(by_if, [&](uint32_t ifindex) {
    struct bpfnet_endpoint v {};
    if (bpf_map_lookup_elem(by_if, &ifindex, &v) == 0)
      out.endpoints_by_ifindex[ifindex] = from_abi(v);
  });
  int portmap = map_fd(BPFNET_MAP_PORTMAP);
  for_each_key<struct bpfnet_portmap_key>(portmap, [&](const struct bpfnet_portmap_key& k) {
    struct bpfnet_portmap_value v {};
    if (bpf_map_lookup_elem(portmap, &k, &v) != 0) return;
    out.add_portmap(PortMapEntry{ntohl(k.addr), ntohs(k.port), k.proto, ntohl(v.backend_ip),
                                 ntohs(v.backend_port)});
  });
  int hostaddr = map_fd(BPFNET_MAP_HOST_ADDRS);
  for_each_key<uint32_t>(hostaddr, [&](uint32_t be) {
    uint32_t flags = 0;
    if (bpf_map_lookup_elem(hostaddr, &be, &flags) == 0) out.host_addrs[ntohl(be)] = flags;
  });
  int uplinks = map_fd(BPFNET_MAP_UPLINKS);
  for_each_key<uint32_t>(uplinks, [&](uint32_t ifindex) {
    struct bpfnet_uplink v {};
    if (bpf_map_lookup_elem(uplinks, &ifindex, &v) != 0) return;
    UplinkEntry u{ifindex, ntohl(v.ip), {}};
    std::memcpy(u.mac.data(), v.mac, 6);
    out.uplinks[ifindex] = u;
  });
  int svc = map_fd(BPFNET_MAP_SERVICES);
  for_each_key<struct bpfnet_svc_key>(svc, [&](const struct bpfnet_svc_key& k) {
    struct bpfnet_svc_value v {};
    if (bpf_map_lookup_elem(svc, &k, &v) != 0) return;
    out.add_service(ServiceEntry{ntohl(k.vip), ntohs(k.port), k.proto, v.index, v.table_size,
                                 v.affinity_timeout_s});
  });
  int vips = map_fd(BPFNET_MAP_VIPS);
  for_each_key<uint32_t>(vips, [&](uint32_t be) {
    uint32_t net = 0;
    if (bpf_map_lookup_elem(vips, &be, &net) == 0) out.vips[ntohl(be)] = net;
  });
  int backends = map_fd(BPFNET_MAP_BACKENDS);
  for_each_key<uint32_t>(backends, [&](uint32_t id) {
    struct bpfnet_backend v {};
    if (bpf_map_lookup_elem(backends, &id, &v) == 0) out.backends[id] = ntohl(v.ip);
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
    struct bpfnet_subnet_key key {
      n.prefix_len, v.subnet
    };
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
  int portmap = map_fd(BPFNET_MAP_PORTMAP);
  for (const PortMapEntry& pm : delta.upsert_portmaps) {
    struct bpfnet_portmap_key k {
      htonl(pm.host_ip), htons(pm.host_port), pm.proto, 0
    };
    struct bpfnet_portmap_value v {
      htonl(pm.backend_ip), htons(pm.backend_port), 0
    };
    update(portmap, &k, &v, fmt::format("write published port {}", pm.host_port));
  }
  for (const PortMapEntry& pm : delta.delete_portmaps) {
    struct bpfnet_portmap_key k {
      htonl(pm.host_ip), htons(pm.host_port), pm.proto, 0
    };
    remove(portmap, &k, fmt::format("delete published port {}", pm.host_port));
  }
  int hostaddr = map_fd(BPFNET_MAP_HOST_ADDRS);
  for (uint32_t ip : delta.upsert_host_addrs) {
    uint32_t be = htonl(ip), flags = 0;
    update(hostaddr, &be, &flags, "write host address");
  }
  for (uint32_t ip : delta.delete_host_addrs) {
    uint32_t be = htonl(ip);
    remove(hostaddr, &be, "delete host address");
  }
  int uplinks = map_fd(BPFNET_MAP_UPLINKS);
  for (const UplinkEntry& u : delta.upsert_uplinks) {
    struct bpfnet_uplink v {};
    v.ip = htonl(u.ip);
    std::memcpy(v.mac, u.mac.data(), 6);
    update(uplinks, &u.ifindex, &v, fmt::format("write uplink {}", u.ifindex));
  }
  for (const UplinkEntry& u : delta.delete_uplinks)
    remove(uplinks, &u.ifindex, fmt::format("delete uplink {}", u.ifindex));
  int svc = map_fd(BPFNET_MAP_SERVICES);
  for (const ServiceEntry& e : delta.upsert_services) {
    struct bpfnet_svc_key k {
      htonl(e.vip), htons(e.port), e.proto, 0
    };
    struct bpfnet_svc_value v {
      e.index, e.table_size, e.affinity_timeout_s, 0
    };
    update(svc, &k, &v, fmt::format("write service frontend {}", e.port));
  }
  for (const ServiceEntry& e : delta.delete_services) {
    struct bpfnet_svc_key k {
      htonl(e.vip), htons(e.port), e.proto, 0
    };
    remove(svc, &k, fmt::format("delete service frontend {}", e.port));
  }
  int vips = map_fd(BPFNET_MAP_VIPS);
  for (uint32_t ip : delta.upsert_vips) {
    uint32_t be = htonl(ip), net = delta.vip_values.at(ip);
    update(vips, &be, &net, "write service VIP");
  }
  for (uint32_t ip : delta.delete_vips) {
    uint32_t be = htonl(ip);
    remove(vips, &be, "delete service VIP");
  }
  int backends = map_fd(BPFNET_MAP_BACKENDS);
  for (uint32_t id : delta.upsert_backends) {
    struct bpfnet_backend v {
      htonl(delta.backend_values.at(id)), 0
    };
    update(backends, &id, &v, fmt::format("write backend {}", id));
  }
  for (uint32_t id : delta.delete_backends)
    remove(backends, &id, fmt::format("delete backend {}", id));
  for (const NetworkEntry& n : delta.delete_networks) {
    struct bpfnet_subnet_key key {
      n.prefix_len, htonl(n.subnet)
    };
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
  // Forwarded packets of low ifindexes live in the per-CPU array, one batch
  // read for all of it.
  int fast = map_fd(BPFNET_MAP_IF_COUNTERS);
  constexpr uint32_t kFast = BPFNET_FAST_COUNTER_IFINDEXES;
  std::vector<uint32_t> keys(kFast);
  std::vector<struct bpfnet_if_counters> values(size_t(kFast) * size_t(ncpu));
  uint32_t count = kFast, out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, batch_opts);
  int err = bpf_map_lookup_batch(fast, nullptr, &out_batch, keys.data(), values.data(), &count,
                                 &batch_opts);
  if (err && errno != ENOENT)
    throw DatapathError(fmt::format("read {}: {}", BPFNET_MAP_IF_COUNTERS, errstr(-errno)));
  for (uint32_t i = 0; i < count; ++i) {
    for (uint8_t dir = 0; dir < 2; ++dir) {
      MetricRow row{keys[i], BPFNET_OK, dir, 0, 0};
      for (int cpu = 0; cpu < ncpu; ++cpu) {
        const auto& v = values[size_t(i) * size_t(ncpu) + size_t(cpu)].dir[dir];
        row.packets += v.packets;
        row.bytes += v.bytes;
      }
      if (row.packets) rows.push_back(row);
    }
  }
  return rows;
}

void Datapath::forget_metrics(uint32_t ifindex) {
  int fd = map_fd(BPFNET_MAP_METRICS);
  std::vector<struct bpfnet_metrics_key> doomed;
  for_each_key<struct bpfnet_metrics_key>(fd, [&](const struct bpfnet_metrics_key& key) {
    if (key.ifindex == ifindex) doomed.push_back(key);
  });
  for (const auto& key : doomed) bpf_map_delete_elem(fd, &key);
  if (ifindex < BPFNET_FAST_COUNTER_IFINDEXES) {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) throw DatapathError("cannot count possible CPUs");
    std::vector<struct bpfnet_if_counters> zero(static_cast<size_t>(ncpu));
    update(map_fd(BPFNET_MAP_IF_COUNTERS), &ifindex, zero.data(),
           fmt::format("reset counters of ifindex {}", ifindex));
  }
}

}  // namespace bpfnet::datapath

namespace bpfnet::datapath {

std::vector<CtEntry> Datapath::read_conntrack() {
  int fd = map_fd(BPFNET_MAP_CT);
  std::vector<CtEntry> out;
  for_each_key<struct bpfnet_ct_key>(fd, [&](const struct bpfnet_ct_key& k) {
    struct bpfnet_ct_value v {};
    if (bpf_map_lookup_elem(fd, &k, &v) != 0) return;
    CtEntry e;
    std::memcpy(e.key.data(), &k, sizeof(k));
    std::memcpy(e.peer.data(), &v.peer, sizeof(v.peer));
    e.expires_ns = v.expires_ns;
    e.state = v.state;
    e.flags = v.flags;
    e.rewrite_daddr = ntohl(v.daddr);
    out.push_back(e);
  });
  return out;
}

void Datapath::delete_conntrack(const std::vector<std::array<uint8_t, 16>>& keys) {
  int fd = map_fd(BPFNET_MAP_CT);
  for (const auto& k : keys) bpf_map_delete_elem(fd, k.data());
}

uint32_t Datapath::conntrack_capacity() { return bpf_map__max_entries(endpoint_->maps.bpfnet_ct); }

}  // namespace bpfnet::datapath

namespace bpfnet::datapath {

namespace {

// The inner table of a service, or -1 when there is none. Caller closes.
int maglev_inner_fd(int outer, uint32_t index) {
  uint32_t id = 0;
  if (bpf_map_lookup_elem(outer, &index, &id) != 0) return -1;
  return bpf_map_get_fd_by_id(id);
}

}  // namespace

std::vector<uint32_t> Datapath::read_maglev(uint32_t index) {
  int inner = maglev_inner_fd(map_fd(BPFNET_MAP_MAGLEV), index);
  if (inner < 0) return {};
  struct bpf_map_info info {};
  uint32_t len = sizeof(info);
  std::vector<uint32_t> table;
  if (bpf_obj_get_info_by_fd(inner, &info, &len) == 0) {
    table.resize(info.max_entries, BPFNET_NO_BACKEND);
    for (uint32_t slot = 0; slot < info.max_entries; ++slot)
      bpf_map_lookup_elem(inner, &slot, &table[slot]);
  }
  close(inner);
  return table;
}

void Datapath::write_maglev(uint32_t index, uint32_t table_size,
                            const std::vector<std::pair<uint32_t, uint32_t>>& slot_changes) {
  int outer = map_fd(BPFNET_MAP_MAGLEV);
  int inner = maglev_inner_fd(outer, index);
  bool fresh = false;
  if (inner >= 0) {
    struct bpf_map_info info {};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(inner, &info, &len) != 0 || info.max_entries != table_size) {
      close(inner);
      inner = -1;
    }
  }
  if (inner < 0) {
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
    inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfnet_mag_tbl", sizeof(uint32_t), sizeof(uint32_t),
                           table_size, &opts);
    if (inner < 0)
      throw DatapathError(fmt::format("create Maglev table {}: {}", index, errstr(errno)));
    fresh = true;
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
  remove(map_fd(BPFNET_MAP_MAGLEV), &index, fmt::format("delete Maglev table {}", index));
}

std::vector<uint32_t> Datapath::maglev_indexes() {
  int outer = map_fd(BPFNET_MAP_MAGLEV);
  std::vector<uint32_t> out;
  for (uint32_t index = 0; index < BPFNET_MAX_SERVICE_TABLES; ++index) {
    uint32_t id = 0;
    if (bpf_map_lookup_elem(outer, &index, &id) == 0) out.push_back(index);
  }
  return out;
}

}  // namespace bpfnet::datapath
