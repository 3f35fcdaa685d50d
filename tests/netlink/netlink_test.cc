// Tests for bpfnet_netlink. They never touch the host's links: the global
// environment moves the process into a private network namespace before any
// test runs, and "container" namespaces are created under unique names
// (bnt-<pid>-<suffix>) and removed on teardown, also after failures.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "netlink/error.h"
#include "netlink/ethtool.h"
#include "netlink/netns.h"
#include "netlink/rtnetlink.h"

namespace bpfnet::netlink {
namespace {

bool g_isolated = false;
ino_t g_host_netns_inode = 0;

uint32_t ip(const char* s) {
  in_addr a{};
  if (inet_pton(AF_INET, s, &a) != 1) throw std::invalid_argument(s);
  return ntohl(a.s_addr);
}

// Runs a shell command (tests only), returns stdout; *status gets the exit code.
std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string ns_prefix() { return fmt::format("bnt-{}-", getpid()); }

void delete_netns(const std::string& name) { run("ip netns del " + name + " 2>/dev/null"); }

// Deletes bnt-<pid>-* namespaces whose owner process is gone (crashed runs),
// or, with only_mine, this process's own.
void sweep_netns(bool only_mine) {
  DIR* d = opendir("/var/run/netns");
  if (d == nullptr) return;
  std::vector<std::string> doomed;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (!name.starts_with("bnt-")) continue;
    if (only_mine) {
      if (name.starts_with(ns_prefix())) doomed.push_back(name);
      continue;
    }
    pid_t pid = static_cast<pid_t>(std::strtol(name.c_str() + 4, nullptr, 10));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) doomed.push_back(name);
  }
  closedir(d);
  for (const auto& name : doomed) delete_netns(name);
}

class IsolationEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    sweep_netns(/*only_mine=*/false);
    struct stat st {};
    ASSERT_EQ(stat("/proc/self/ns/net", &st), 0);
    g_host_netns_inode = st.st_ino;
    if (unshare(CLONE_NEWNET) != 0) {
      if (errno == EPERM) GTEST_SKIP() << "netlink tests need root (unshare(CLONE_NEWNET))";
      FAIL() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
    }
    g_isolated = true;
  }
  void TearDown() override { sweep_netns(/*only_mine=*/true); }
};

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new IsolationEnvironment);

// A named "container" namespace, like Docker's /var/run/docker/netns/<id>.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& suffix) : name_(ns_prefix() + suffix) {
    int status = 0;
    std::string out = run("ip netns add " + name_ + " 2>&1", &status);
    if (status != 0) throw std::runtime_error("ip netns add " + name_ + ": " + out);
  }
  ~ScopedNetns() { delete_netns(name_); }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/var/run/netns/" + name_; }

 private:
  std::string name_;
};

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Never run against the host's namespace.
    ASSERT_TRUE(g_isolated);
    ASSERT_NE(NetnsHandle::current().inode(), g_host_netns_inode);
  }
};

// Message of the NetlinkError thrown by fn ("" if none was thrown).
template <class F>
std::string error_of(F&& fn, int* code = nullptr) {
  try {
    fn();
  } catch (const NetlinkError& e) {
    if (code != nullptr) *code = e.error_code();
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string read_file_in(const NetnsHandle& ns, const std::string& path) {
  return run_in_netns(ns, [&] {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  });
}

// ------------------------------------------------------------------ netns

TEST_F(NetlinkTest, NetnsHandleByNameAndPathIsTheSameNamespace) {
  ScopedNetns c("h1");
  NetnsHandle by_name(c.name());
  NetnsHandle by_path(c.path());
  EXPECT_EQ(by_name.path(), c.path());
  EXPECT_GE(by_name.fd(), 0);
  EXPECT_EQ(by_name.inode(), by_path.inode());
  EXPECT_NE(by_name.inode(), NetnsHandle::current().inode());
  struct stat st {};
  ASSERT_EQ(stat(c.path().c_str(), &st), 0);
  EXPECT_EQ(by_name.inode(), st.st_ino);

  NetnsHandle moved = std::move(by_name);
  EXPECT_EQ(moved.inode(), by_path.inode());
  EXPECT_EQ(by_name.fd(), -1);  // NOLINT(bugprone-use-after-move)
}

TEST_F(NetlinkTest, MissingNetnsIsReadable) {
  std::string name = ns_prefix() + "nope";
  int code = 0;
  EXPECT_EQ(error_of([&] { NetnsHandle h(name); }, &code),
            fmt::format("network namespace \"{}\" not found", name));
  EXPECT_EQ(code, ENOENT);
  EXPECT_EQ(error_of([&] { NetnsHandle h("/var/run/netns/" + name); }),
            fmt::format("network namespace \"/var/run/netns/{}\" not found", name));
  EXPECT_EQ(error_of([&] { Netlink nl{NetnsHandle(name)}; }),
            fmt::format("network namespace \"{}\" not found", name));
  EXPECT_EQ(error_of([&] { NetnsHandle h("/proc/self/status"); }),
            "\"/proc/self/status\" is not a network namespace");
}

TEST_F(NetlinkTest, RunInNetnsSwitchesOnlyForTheCallAndRestoresOnThrow) {
  ScopedNetns c("r1");
  NetnsHandle target(c.name());
  ino_t before = NetnsHandle::current().inode();
  ino_t inside = run_in_netns(target, [] { return NetnsHandle::current().inode(); });
  EXPECT_EQ(inside, target.inode());
  EXPECT_EQ(NetnsHandle::current().inode(), before);

  EXPECT_THROW(run_in_netns(target, [] { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_EQ(NetnsHandle::current().inode(), before);

  // Switching into the namespace we are already in is a no-op.
  NetnsHandle self = NetnsHandle::current();
  EXPECT_EQ(run_in_netns(self, [] { return NetnsHandle::current().inode(); }), before);

  // Netlink bound to another namespace leaves the thread where it was.
  Netlink in_c(target);
  EXPECT_EQ(NetnsHandle::current().inode(), before);
  EXPECT_TRUE(in_c.link_exists("lo"));
}

// ------------------------------------------------------------------ links

TEST_F(NetlinkTest, VethIntoContainerAsEth0WithAddressAndDefaultRoute) {
  ScopedNetns c("c1");
  NetnsHandle cns(c.name());
  Netlink host;
  const MacAddress mac{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};

  host.create_veth("bnvh1", "bnvp1", 1450);
  LinkInfo h = host.get_link("bnvh1");
  LinkInfo p = host.get_link("bnvp1");
  EXPECT_EQ(h.kind, "veth");
  EXPECT_EQ(h.mtu, 1450u);
  EXPECT_EQ(p.mtu, 1450u);
  EXPECT_FALSE(h.up);
  EXPECT_GT(h.ifindex, 0);
  EXPECT_EQ(host.ifindex("bnvh1"), h.ifindex);
  EXPECT_EQ(host.get_link(h.ifindex).name, "bnvh1");

  host.set_mac("bnvp1", mac);
  EXPECT_EQ(host.get_link("bnvp1").mac, mac);
  host.move_link_to_netns("bnvp1", cns, "eth0");
  EXPECT_FALSE(host.link_exists("bnvp1"));
  EXPECT_FALSE(host.ifindex("bnvp1").has_value());
  host.set_up("bnvh1");
  EXPECT_TRUE(host.get_link("bnvh1").up);

  Netlink ctr(cns);
  LinkInfo e = ctr.get_link("eth0");
  EXPECT_EQ(e.mac, mac);
  EXPECT_EQ(e.mtu, 1450u);
  EXPECT_EQ(e.kind, "veth");
  ctr.set_up("lo");
  ctr.set_up("eth0");
  EXPECT_TRUE(ctr.get_link("eth0").up);
  ctr.add_address("eth0", ip("172.18.0.2"), 16);
  ctr.add_address("eth0", ip("172.18.0.2"), 16);  // idempotent
  ctr.add_default_route(ip("172.18.0.1"), "eth0");
  ctr.add_default_route(ip("172.18.0.1"), "eth0");  // idempotent (replace)
  write_sysctl_in_netns(cns, "net/ipv6/conf/eth0/disable_ipv6", "1");

  // Seen from inside through the library...
  auto addrs = ctr.list_addresses("eth0");
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(addrs[0].addr, ip("172.18.0.2"));
  EXPECT_EQ(addrs[0].prefix_len, 16);
  EXPECT_EQ(addrs[0].ifindex, e.ifindex);
  auto routes = ctr.list_routes();
  auto def = std::find_if(routes.begin(), routes.end(),
                          [](const RouteInfo& r) { return r.prefix_len == 0; });
  ASSERT_NE(def, routes.end());
  EXPECT_EQ(def->dst, 0u);
  EXPECT_EQ(def->gateway, ip("172.18.0.1"));
  EXPECT_EQ(def->oif, e.ifindex);
  EXPECT_EQ(def->protocol, RTPROT_BOOT);
  EXPECT_EQ(def->scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(std::count_if(routes.begin(), routes.end(),
                          [](const RouteInfo& r) { return r.prefix_len == 0; }),
            1);
  auto subnet = std::find_if(routes.begin(), routes.end(), [](const RouteInfo& r) {
    return r.dst == ip("172.18.0.0") && r.prefix_len == 16;
  });
  ASSERT_NE(subnet, routes.end());
  EXPECT_EQ(subnet->pref_src, ip("172.18.0.2"));
  EXPECT_FALSE(subnet->gateway.has_value());
  // ...and the host namespace got none of it.
  EXPECT_TRUE(host.list_addresses("bnvh1").empty());
  EXPECT_FALSE(host.link_exists("eth0"));

  // ...and by iproute2.
  std::string link = run(fmt::format("ip -n {} link show dev eth0", c.name()));
  EXPECT_TRUE(contains(link, "mtu 1450")) << link;
  EXPECT_TRUE(contains(link, "link/ether 02:42:ac:12:00:02")) << link;
  std::string addr = run(fmt::format("ip -n {} -4 addr show dev eth0", c.name()));
  EXPECT_TRUE(contains(addr, "inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0")) << addr;
  std::string route = run(fmt::format("ip -n {} -4 route show", c.name()));
  EXPECT_TRUE(contains(route, "default via 172.18.0.1 dev eth0")) << route;
  EXPECT_EQ(read_file_in(cns, "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"), "1\n");

  // Deleting the host end removes the container end too.
  host.delete_link("bnvh1");
  EXPECT_FALSE(host.link_exists("bnvh1"));
  EXPECT_FALSE(ctr.link_exists("eth0"));
  host.delete_link("bnvh1");  // idempotent
}

TEST_F(NetlinkTest, VethCanBeCreatedInsideAnotherNamespace) {
  ScopedNetns c("c2");
  Netlink ctr{NetnsHandle(c.name())};
  ctr.create_veth("bnva", "bnvb", 0);
  EXPECT_TRUE(ctr.link_exists("bnva"));
  EXPECT_TRUE(ctr.link_exists("bnvb"));
  EXPECT_FALSE(Netlink().link_exists("bnva"));
  int code = 0;
  EXPECT_EQ(error_of([&] { ctr.create_veth("bnva", "bnvc", 0); }, &code),
            fmt::format("create veth bnva / bnvc in netns {}: File exists", c.path()));
  EXPECT_EQ(code, EEXIST);
}

TEST_F(NetlinkTest, DuplicateVethNameIsReadable) {
  Netlink nl;
  nl.create_veth("bnvdup0", "bnvdup1", 1500);
  int code = 0;
  EXPECT_EQ(error_of([&] { nl.create_veth("bnvdup0", "bnvdup2", 1500); }, &code),
            "create veth bnvdup0 / bnvdup2: File exists");
  EXPECT_EQ(code, EEXIST);
  // The peer name colliding is an error too.
  EXPECT_EQ(error_of([&] { nl.create_veth("bnvdup3", "bnvdup1", 1500); }),
            "create veth bnvdup3 / bnvdup1: File exists");
  EXPECT_FALSE(nl.link_exists("bnvdup2"));
  EXPECT_FALSE(nl.link_exists("bnvdup3"));
  EXPECT_EQ(error_of([&] { nl.create_veth("name-too-long-for-linux", "x", 1500); }),
            "create veth name-too-long-for-linux / x: invalid interface name "
            "\"name-too-long-for-linux\"");
  nl.delete_link("bnvdup0");
}

TEST_F(NetlinkTest, MoveRenameCollisionIsReported) {
  ScopedNetns c("c3");
  NetnsHandle cns(c.name());
  Netlink host;
  Netlink ctr(cns);
  ctr.create_dummy("eth0", 1500);
  host.create_veth("bnvh3", "bnvp3", 1500);
  std::string msg = error_of([&] { host.move_link_to_netns("bnvp3", cns, "eth0"); });
  EXPECT_TRUE(
      contains(msg, fmt::format("move link bnvp3 to netns {} as eth0: File exists", c.path())))
      << msg;
  // Deleting the host end cleans up whatever reached the container.
  host.delete_link("bnvh3");
  EXPECT_FALSE(ctr.link_exists("bnvp3"));
}

TEST_F(NetlinkTest, MissingLinkErrorsAreReadable) {
  Netlink nl;
  int code = 0;
  EXPECT_EQ(error_of([&] { nl.get_link("bnnosuch0"); }, &code),
            "get link bnnosuch0: No such device");
  EXPECT_EQ(code, ENODEV);
  EXPECT_EQ(error_of([&] { nl.get_link(999999); }), "get link #999999: No such device");
  EXPECT_EQ(error_of([&] { nl.set_up("bnnosuch0"); }), "set link bnnosuch0 up: No such device");
  EXPECT_EQ(error_of([&] { nl.set_mtu("bnnosuch0", 1400); }),
            "set mtu 1400 on link bnnosuch0: No such device");
  EXPECT_EQ(error_of([&] { nl.add_address("bnnosuch0", ip("10.1.0.1"), 24); }),
            "add address 10.1.0.1/24 to bnnosuch0: No such device");
  EXPECT_FALSE(nl.find_link("bnnosuch0").has_value());
  EXPECT_FALSE(nl.ifindex("bnnosuch0").has_value());

  ScopedNetns c("m1");
  NetnsHandle cns(c.name());
  EXPECT_EQ(error_of([&] { nl.move_link_to_netns("bnnosuch0", cns, "eth0"); }),
            fmt::format("move link bnnosuch0 to netns {} as eth0: No such device", c.path()));
  Netlink ctr(cns);
  EXPECT_EQ(error_of([&] {
              ctr.set_mac("bnnosuch0", {2, 0, 0, 0, 0, 1});
            }),
            fmt::format("set mac 02:00:00:00:00:01 on link bnnosuch0 in netns {}: No such device",
                        c.path()));
}

TEST_F(NetlinkTest, KernelExtendedAckTextIsKept) {
  Netlink nl;
  nl.create_dummy("bndx0", 1500);
  nl.set_up("bndx0");
  // No address on the link, so the gateway is unreachable.
  int code = 0;
  std::string msg = error_of([&] { nl.add_default_route(ip("10.123.0.1"), "bndx0"); }, &code);
  EXPECT_TRUE(contains(msg, "add route 0.0.0.0/0 dev bndx0 via 10.123.0.1: Network is unreachable"))
      << msg;
  EXPECT_EQ(code, ENETUNREACH);
  std::printf("kernel error as reported: %s\n", msg.c_str());
  nl.delete_link("bndx0");
}

TEST_F(NetlinkTest, MovedFromConnectionStillReportsKernelErrors) {
  Netlink a;
  a.create_veth("bnvmv0", "bnvmv1", 1500);
  Netlink b = std::move(a);
  EXPECT_EQ(error_of([&] { b.create_veth("bnvmv0", "bnvmv1", 1500); }),
            "create veth bnvmv0 / bnvmv1: File exists");
  b.delete_link("bnvmv0");
}

// ------------------------------------------------------------------ dummy + addresses

TEST_F(NetlinkTest, DummyWithAddressIsIdempotent) {
  Netlink nl;
  nl.create_dummy("bnd0", 1500);
  nl.create_dummy("bnd0", 1500);  // exists as a dummy: fine
  LinkInfo d = nl.get_link("bnd0");
  EXPECT_TRUE(is_dummy_kind(d.kind)) << d.kind;  // "ifb" on kernels without CONFIG_DUMMY
  EXPECT_EQ(d.mtu, 1500u);
  nl.create_dummy("bnd0", 9000);  // exists: MTU is brought in line
  EXPECT_EQ(nl.get_link("bnd0").mtu, 9000u);
  nl.set_up("bnd0");
  nl.add_address("bnd0", ip("10.200.0.1"), 24);
  nl.add_address("bnd0", ip("10.200.0.1"), 24);
  nl.add_address("bnd0", ip("10.201.0.1"), 32);
  auto addrs = nl.list_addresses("bnd0");
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_EQ(addrs[0].addr, ip("10.200.0.1"));
  EXPECT_EQ(addrs[0].prefix_len, 24);
  EXPECT_EQ(addrs[1].addr, ip("10.201.0.1"));
  EXPECT_EQ(addrs[1].prefix_len, 32);
  auto all = nl.list_addresses();
  EXPECT_GE(all.size(), 2u);
  EXPECT_TRUE(nl.list_addresses("bnnosuch0").empty());
  std::string shown = run("ip -4 addr show dev bnd0");
  EXPECT_TRUE(contains(shown, "inet 10.200.0.1/24 brd 10.200.0.255 scope global bnd0")) << shown;

  nl.delete_address("bnd0", ip("10.201.0.1"), 32);
  nl.delete_address("bnd0", ip("10.201.0.1"), 32);  // idempotent
  nl.delete_address("bnnosuch0", ip("10.201.0.1"), 32);
  EXPECT_EQ(nl.list_addresses("bnd0").size(), 1u);

  nl.set_down("bnd0");
  EXPECT_FALSE(nl.get_link("bnd0").up);
  nl.delete_link("bnd0");
  nl.delete_link("bnd0");
  EXPECT_FALSE(nl.link_exists("bnd0"));
}

TEST_F(NetlinkTest, DummyOverAnotherKindFails) {
  Netlink nl;
  nl.create_veth("bnvk0", "bnvk1", 1500);
  int code = 0;
  EXPECT_EQ(error_of([&] { nl.create_dummy("bnvk0", 1500); }, &code),
            "create dummy bnvk0: a link with that name exists and is a veth, not a dummy");
  EXPECT_EQ(code, EEXIST);
  nl.delete_link("bnvk0");
}

// ------------------------------------------------------------------ vxlan

TEST_F(NetlinkTest, VxlanDeviceIsExternalOnItsPortUpAndIdempotent) {
  Netlink nl;
  LinkInfo v = nl.ensure_vxlan_device("bnvx0", 4789, 1500);
  EXPECT_EQ(v.kind, "vxlan");
  EXPECT_TRUE(v.up);
  EXPECT_EQ(v.mtu, 1500u);
  std::string shown = run("ip -d link show dev bnvx0");
  EXPECT_TRUE(contains(shown, "vxlan external")) << shown;
  EXPECT_TRUE(contains(shown, "dstport 4789")) << shown;
  EXPECT_TRUE(contains(shown, "nolearning")) << shown;
  // Again, with another underlay MTU: the same device, brought in line.
  run("ip link set bnvx0 down");
  LinkInfo again = nl.ensure_vxlan_device("bnvx0", 4789, 9000);
  EXPECT_EQ(again.ifindex, v.ifindex);
  EXPECT_EQ(again.mtu, 9000u);
  EXPECT_TRUE(again.up);
  nl.delete_link("bnvx0");
}

TEST_F(NetlinkTest, VxlanDeviceOverSomethingElseFailsAndChangesNothing) {
  Netlink nl;
  nl.create_veth("bnvx1", "bnvx2", 1400);
  int code = 0;
  EXPECT_EQ(error_of([&] { nl.ensure_vxlan_device("bnvx1", 4789, 1500); }, &code),
            "ensure VXLAN device bnvx1 (external, UDP 4789, mtu 1500): a link with that name "
            "exists and it is a veth, not a VXLAN device");
  EXPECT_EQ(code, EEXIST);
  EXPECT_EQ(nl.get_link("bnvx1").mtu, 1400u);
  nl.delete_link("bnvx1");

  int status = -1;
  run("ip link add bnvx3 type vxlan id 42 dstport 4789", &status);
  ASSERT_EQ(status, 0);
  EXPECT_TRUE(contains(error_of([&] { nl.ensure_vxlan_device("bnvx3", 4789, 1500); }),
                       "exists and it is a VXLAN device without collect-metadata (external)"));
  nl.delete_link("bnvx3");
  run("ip link add bnvx4 type vxlan external dstport 8472", &status);
  ASSERT_EQ(status, 0);
  EXPECT_TRUE(contains(error_of([&] { nl.ensure_vxlan_device("bnvx4", 4789, 1500); }),
                       "exists and it is a VXLAN device on UDP port 8472, not 4789"));
  EXPECT_FALSE(nl.get_link("bnvx4").up);
  nl.delete_link("bnvx4");
  EXPECT_TRUE(contains(error_of([&] { nl.ensure_vxlan_device("bad/name", 4789, 1500); }),
                       "invalid interface name"));
}

// ------------------------------------------------------------------ routes

TEST_F(NetlinkTest, RoutesAddListDeleteIdempotent) {
  Netlink nl;
  nl.create_dummy("bnr0", 1500);
  nl.set_up("bnr0");
  nl.add_address("bnr0", ip("10.77.0.1"), 24);
  int idx = *nl.ifindex("bnr0");

  auto find = [&](uint32_t dst, int len) -> std::optional<RouteInfo> {
    for (const auto& r : nl.list_routes()) {
      if (r.dst == dst && r.prefix_len == len) return r;
    }
    return std::nullopt;
  };

  nl.add_route({ip("10.88.0.0"), 16}, "bnr0");
  nl.add_route({ip("10.88.0.0"), 16}, "bnr0");  // replace: no EEXIST
  auto r = find(ip("10.88.0.0"), 16);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->oif, idx);
  EXPECT_FALSE(r->gateway.has_value());
  EXPECT_EQ(r->scope, RT_SCOPE_LINK);

  nl.add_route({ip("10.99.0.0"), 16}, "bnr0", ip("10.77.0.254"), ip("10.77.0.1"));
  r = find(ip("10.99.0.0"), 16);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->gateway, ip("10.77.0.254"));
  EXPECT_EQ(r->pref_src, ip("10.77.0.1"));
  EXPECT_EQ(r->scope, RT_SCOPE_UNIVERSE);
  // Replacing changes the gateway in place.
  nl.add_route({ip("10.99.0.0"), 16}, "bnr0", ip("10.77.0.253"));
  r = find(ip("10.99.0.0"), 16);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->gateway, ip("10.77.0.253"));

  // A link-scope route added as universe is still deletable.
  nl.add_route({ip("10.66.0.0"), 24}, "bnr0", std::nullopt, std::nullopt, RouteScope::kUniverse);
  EXPECT_EQ(find(ip("10.66.0.0"), 24)->scope, RT_SCOPE_UNIVERSE);
  std::string shown = run("ip -4 route show dev bnr0");
  EXPECT_TRUE(contains(shown, "10.88.0.0/16 scope link")) << shown;
  EXPECT_TRUE(contains(shown, "10.99.0.0/16 via 10.77.0.253")) << shown;

  for (auto [dst, len] : {std::pair{"10.88.0.0", 16}, {"10.99.0.0", 16}, {"10.66.0.0", 24}}) {
    nl.delete_route({ip(dst), len}, "bnr0");
    nl.delete_route({ip(dst), len}, "bnr0");  // idempotent
    EXPECT_FALSE(find(ip(dst), len).has_value()) << dst;
  }
  nl.delete_route({ip("10.88.0.0"), 16}, "bnnosuch0");  // absent link: fine
  // The kernel's own prefix route is untouched.
  EXPECT_TRUE(find(ip("10.77.0.0"), 24).has_value());
  nl.delete_link("bnr0");
}

// ------------------------------------------------------------------ sysctl

TEST_F(NetlinkTest, SysctlWriteLandsInTheTargetNamespaceOnly) {
  ScopedNetns c("s1");
  NetnsHandle cns(c.name());
  const std::string rel = "net/ipv6/conf/lo/disable_ipv6";
  write_sysctl_in_netns(cns, rel, "1");
  EXPECT_EQ(read_file_in(cns, "/proc/sys/" + rel), "1\n");
  EXPECT_EQ(run(fmt::format("ip netns exec {} cat /proc/sys/{}", c.name(), rel)), "1\n");
  // Our own namespace is unchanged.
  std::ifstream mine("/proc/sys/" + rel);
  std::string v;
  mine >> v;
  EXPECT_EQ(v, "0");
  write_sysctl_in_netns(cns, "/proc/sys/" + rel, "0");  // absolute form
  EXPECT_EQ(read_file_in(cns, "/proc/sys/" + rel), "0\n");

  int code = 0;
  EXPECT_EQ(
      error_of([&] { write_sysctl_in_netns(cns, "net/ipv6/conf/bnnosuch0/disable_ipv6", "1"); },
               &code),
      fmt::format("write sysctl /proc/sys/net/ipv6/conf/bnnosuch0/disable_ipv6=1 in netns {}: "
                  "No such file or directory",
                  c.path()));
  EXPECT_EQ(code, ENOENT);
  EXPECT_EQ(error_of([&] { write_sysctl_in_netns(cns, "net/../../etc/passwd", "x"); }),
            "invalid sysctl path \"net/../../etc/passwd\"");
  EXPECT_EQ(error_of([&] { write_sysctl("/etc/passwd", "x"); }),
            "invalid sysctl path \"/etc/passwd\"");
}

TEST_F(NetlinkTest, DriverNameAsEthtoolReportsIt) {
  Netlink nl;
  nl.create_veth("bnvdrv0", "bnvdrv1", 1500);
  EXPECT_EQ(driver_name("bnvdrv0"), "veth");
  nl.create_dummy("bnddrv0", 1500);
  EXPECT_TRUE(is_dummy_kind(driver_name("bnddrv0"))) << driver_name("bnddrv0");
  int code = 0;
  EXPECT_TRUE(
      contains(error_of([] { driver_name("bnnosuch0"); }, &code), "get driver on bnnosuch0"));
  EXPECT_EQ(code, ENODEV);
  nl.delete_link("bnvdrv0");
  nl.delete_link("bnddrv0");
}

}  // namespace
}  // namespace bpfnet::netlink
