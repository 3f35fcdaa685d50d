#include "tool_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace bpfnet::bench {

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
}  // namespace

bool stop_requested() { return g_stop; }

int tool_main(const char* name, int argc, char** argv,
              const boost::program_options::options_description& desc,
              const std::function<int()>& run) {
  namespace po = boost::program_options;
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}
namespace {

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

void enter_netns(const std::string& name_or_path) {
  std::string path =
      name_or_path.find('/') == std::string::npos ? "/var/run/netns/" + name_or_path : name_or_path;
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) throw sys_error("open netns " + path);
  if (setns(fd.fd, CLONE_NEWNET) != 0) throw sys_error("setns " + path);
}

int ifindex_of(const std::string& ifname) {
  unsigned idx = if_nametoindex(ifname.c_str());
  if (!idx) throw sys_error("interface " + ifname);
  return static_cast<int>(idx);
}

Mac mac_of(const std::string& ifname) {
  Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.fd < 0) throw sys_error("socket");
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname.c_str());
  if (ioctl(s.fd, SIOCGIFHWADDR, &ifr) != 0) throw sys_error("MAC of " + ifname);
  Mac m;
  std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

uint32_t ipv4_of(const std::string& ifname) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw sys_error("getifaddrs");
  uint32_t found = 0;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && ifname == a->ifa_name) {
      found = reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr;
      break;
    }
  }
  freeifaddrs(list);
  if (!found)
    throw std::runtime_error("interface " + ifname + " has no IPv4 address (use --src-ip)");
  return found;
}

Mac parse_mac(const std::string& s) {
  Mac m{};
  unsigned v[6];
  char tail;
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &tail) != 6)
    throw std::runtime_error("bad MAC address: " + s);
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 0xff) throw std::runtime_error("bad MAC address: " + s);
    m[i] = static_cast<uint8_t>(v[i]);
  }
  return m;
}

uint32_t parse_ipv4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::runtime_error("bad IPv4 address: " + s);
  return a.s_addr;
}

std::string format_mac(const Mac& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

void set_gro(const std::string& ifname, bool on) {
  Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.fd < 0) throw sys_error("socket");
  ethtool_value ev{};
  ev.cmd = ETHTOOL_SGRO;
  ev.data = on ? 1 : 0;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname.c_str());
  ifr.ifr_data = reinterpret_cast<char*>(&ev);
  if (ioctl(s.fd, SIOCETHTOOL, &ifr) != 0) throw sys_error("set GRO on " + ifname);
}

IdleVeth::IdleVeth(std::string name) : name_(std::move(name)) {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) throw std::runtime_error("nl_socket_alloc");
  int err = nl_connect(sk, NETLINK_ROUTE);
  if (err == 0) err = rtnl_link_veth_add(sk, name_.c_str(), (name_ + "p").c_str(), getpid());
  nl_socket_free(sk);
  if (err < 0) throw std::runtime_error("create veth " + name_ + ": " + nl_geterror(err));
  ifindex_ = ifindex_of(name_);
}

IdleVeth::~IdleVeth() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return;
  if (nl_connect(sk, NETLINK_ROUTE) == 0) {
    rtnl_link* link = rtnl_link_alloc();
    rtnl_link_set_name(link, name_.c_str());
    rtnl_link_delete(sk, link);
    rtnl_link_put(link);
  }
  nl_socket_free(sk);
}

uint32_t csum_partial(const uint8_t* data, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(data[len - 1] << 8);
  return sum;
}

uint16_t inet_csum(const uint8_t* data, size_t len, uint32_t seed) {
  uint32_t sum = csum_partial(data, len, seed);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

}  // namespace bpfnet::bench
