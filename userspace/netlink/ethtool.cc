#include "netlink/ethtool.h"

#include <fmt/format.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "netlink/error.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace bpfnet::netlink {

namespace {

// A datagram socket just to carry ioctls/getsockopt; closed on scope exit.
class ControlSocket {
 public:
  ControlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw NetlinkError(fmt::format("socket: {}", std::strerror(errno)), errno);
  }
  ~ControlSocket() { ::close(fd_); }
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

namespace {

// One SIOCETHTOOL request on `ifname`; `what` names it in the error.
void ethtool_ioctl(std::string_view ifname, void* request, std::string_view what) {
  ControlSocket sock;
  struct ifreq ifr {};
  if (ifname.size() >= IFNAMSIZ)
    throw NetlinkError(fmt::format("{} on {}: name too long", what, ifname), ENAMETOOLONG);
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_data = reinterpret_cast<char*>(request);
  if (::ioctl(sock.fd(), SIOCETHTOOL, &ifr) != 0)
    throw NetlinkError(fmt::format("{} on {}: {}", what, ifname, std::strerror(errno)), errno);
}

}  // namespace

void set_gro(std::string_view ifname, bool on) {
  struct ethtool_value value {};
  value.cmd = ETHTOOL_SGRO;
  value.data = on ? 1 : 0;
  ethtool_ioctl(ifname, &value, on ? "set gro on" : "set gro off");
}

std::string driver_name(std::string_view ifname) {
  struct ethtool_drvinfo info {};
  info.cmd = ETHTOOL_GDRVINFO;
  try {
    ethtool_ioctl(ifname, &info, "get driver");
  } catch (const NetlinkError& e) {
    if (e.error_code() == EOPNOTSUPP) return "";
    throw;
  }
  return std::string(info.driver, strnlen(info.driver, sizeof(info.driver)));
}

uint64_t current_netns_cookie() {
  ControlSocket sock;
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (::getsockopt(sock.fd(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
    throw NetlinkError(fmt::format("SO_NETNS_COOKIE: {}", std::strerror(errno)), errno);
  return cookie;
}

}  // namespace bpfnet::netlink
