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
#include <utility>

#include "bpfnet_abi.h"
#include "datapath/bpf_calls.h"
#include "datapath/pinned_maps.h"
#include "endpoint_bpf.skel.h"
#include "overlay_bpf.skel.h"
#include "sock_bpf.skel.h"
#include "uplink_bpf.skel.h"

namespace bpfnet::datapath {

namespace {

using namespace bpf_calls;

// Fixed tc filter identity: a restart attaches with the same handle and
// priority and BPF_TC_F_REPLACE, so the kernel swaps the program atomically
// and the veth is never without one.
constexpr uint32_t kTcPriority = 1;

bool is_bpffs(const std::string& path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
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
  const uint32_t ct_max = opts.ct_max ? opts.ct_max : BPFNET_CT_DEFAULT_MAX;
  try {
    endpoint_ = open_and_load<endpoint_bpf>("endpoint", &open_opts, pin, [&](endpoint_bpf* s) {
      // Loading reuses every map pinned under pin_dir (a restart keeps
      // conntrack, counters and configuration); a pinned conntrack map keeps
      // the size it was created with.
      const char* pinned_ct = bpf_map__pin_path(s->maps.bpfnet_ct);
      const uint32_t pinned = pinned_ct ? pinned_max_entries(pinned_ct) : 0;
      bpf_map__set_max_entries(s->maps.bpfnet_ct, pinned ? pinned : ct_max);
      // The endpoint object owns every pinned map (the others reuse its
      // maps): pins of another layout (an older build) are set aside here.
      if (pin) replaced_ = set_aside_incompatible_pins(s->obj);
    });
    uplink_ = open_and_load<uplink_bpf>("uplink", &open_opts, pin,
                                        [&](uplink_bpf* s) { share_maps(endpoint_->obj, s->obj); });
    sock_ = open_and_load<sock_bpf>("sock", &open_opts, pin,
                                    [&](sock_bpf* s) { share_maps(endpoint_->obj, s->obj); });
    overlay_ = open_and_load<overlay_bpf>(
        "overlay", &open_opts, pin, [&](overlay_bpf* s) { share_maps(endpoint_->obj, s->obj); });
  } catch (...) {
    if (sock_) sock_bpf::destroy(sock_);
    if (uplink_) uplink_bpf::destroy(uplink_);
    if (endpoint_) endpoint_bpf::destroy(endpoint_);
    restore_set_aside(replaced_);  // nothing changed: the old maps stay pinned
    throw;
  }
  drop_set_aside(replaced_);
}

Datapath::~Datapath() {
  // Maps and links stay pinned, tc programs stay attached: the datapath
  // outlives us. Only unpinned links (tests) go with the process.
  for (auto& [name, link] : links_) bpf_link__destroy(link);
  if (overlay_) overlay_bpf::destroy(overlay_);
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

void Datapath::tc_attach(uint32_t ifindex, int ingress_fd, int egress_fd, uint32_t handle) {
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
    LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = p.fd, .flags = BPF_TC_F_REPLACE, .handle = handle,
                .priority = kTcPriority);
    check(bpf_tc_attach(&h, &o),
          fmt::format("attach tc {} on ifindex {}",
                      p.point == BPF_TC_INGRESS ? "ingress" : "egress", ifindex));
  }
}

void Datapath::update_config(const std::function<void(bpfnet_config&)>& change) {
  const int fd = bpf_map__fd(endpoint_->maps.bpfnet_config);
  uint32_t zero = 0;
  struct bpfnet_config cfg {};
  if (bpf_map_lookup_elem(fd, &zero, &cfg) != 0)
    throw DatapathError(fmt::format("read config: {}", errstr(errno)));
  change(cfg);
  update(fd, &zero, &cfg, "write config");
}

void Datapath::tc_detach_ingress(uint32_t ifindex, uint32_t handle) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = kTcPriority);
  int err = bpf_tc_detach(&hook, &opts);
  // Gone already: the filter (ENOENT), or the device (ENODEV; EINVAL for a
  // stale ifindex).
  if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
    check(err, fmt::format("detach tc ingress on ifindex {}", ifindex));
}

void Datapath::attach_endpoint(uint32_t ifindex) {
  tc_attach(ifindex, from_container_prog_fd(), to_container_prog_fd());
}

void Datapath::attach_pinned_link(const std::string& name, bpf_program* prog,
                                  const std::function<bpf_link*()>& attach) {
  if (pin_dir_.empty()) {
    bpf_link* link = attach();
    if (!link) throw DatapathError(fmt::format("attach {}: {}", name, errstr(errno)));
    if (bpf_link* old = std::exchange(links_[name], link)) bpf_link__destroy(old);
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

void Datapath::detach_pinned_link(const std::string& name) {
  auto unpinned = links_.find(name);
  if (unpinned != links_.end()) {
    bpf_link__destroy(unpinned->second);  // not pinned: destroying detaches
    links_.erase(unpinned);
  }
  if (pin_dir_.empty()) return;
  std::string path = pin_dir_ + "/links/" + name;
  if (!std::filesystem::exists(path)) return;
  if (bpf_link* link = bpf_link__open(path.c_str())) {
    int err = bpf_link__detach(link);
    bpf_link__destroy(link);
    if (err && err != -ENOENT && err != -ENODEV)
      throw DatapathError(fmt::format("detach {}: {}", name, errstr(err)));
  }
  unlink(path.c_str());
}

void Datapath::attach_uplink(uint32_t ifindex, bool xdp) {
  tc_attach(ifindex, tc_uplink_prog_fd(), -1);
  const std::string link_name = fmt::format("xdp_{}", ifindex);
  if (!xdp) {
    // The uplink was XDP before (another mode, an older bpfnetd): tc alone now.
    detach_pinned_link(link_name);
    return;
  }
  bpf_program* prog = uplink_->progs.bpfnet_xdp_uplink;
  attach_pinned_link(link_name, prog,
                     [&] { return bpf_program__attach_xdp(prog, static_cast<int>(ifindex)); });
}

void Datapath::set_nat_ports(uint16_t min, uint16_t max) {
  update_config([&](bpfnet_config& cfg) {
    cfg.nat_port_min = min;
    cfg.nat_port_max = max;
  });
}

void Datapath::attach_cgroup(const std::string& cgroup_path, uint64_t host_netns_cookie) {
  update_config([&](bpfnet_config& cfg) { cfg.host_netns_cookie = host_netns_cookie; });
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

}  // namespace bpfnet::datapath
