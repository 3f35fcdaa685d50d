// Internal to the netlink layer: the libnl session behind Netlink (one
// socket, kernel error capture, link lookups) and the small conversions the
// link, address and route code share. Not installed, not used elsewhere.
#pragma once

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "netlink/error.h"
#include "netlink/rtnetlink.h"

namespace bpfnet::netlink {
namespace libnl {

// ---- RAII for libnl objects ----
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using SockPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache_free>>;
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route_put>>;
using NexthopPtr = std::unique_ptr<rtnl_nexthop, Deleter<rtnl_route_nh_free>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr_put>>;

template <class T>
T* check_alloc(T* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

// What the kernel said in its last NLMSG_ERROR. libnl folds errno values into
// its own NLE_* codes (most become NLE_FAILURE "Unspecific failure") and drops
// the extended-ack text, so we record both from the error callback.
struct KernelError {
  int err = 0;         // positive errno, 0 if none
  std::string extack;  // NLMSGERR_ATTR_MSG, if the kernel sent one
};

inline int on_kernel_error(sockaddr_nl* /*who*/, nlmsgerr* e, void* arg) {
  auto* ke = static_cast<KernelError*>(arg);
  ke->err = -e->error;
  ke->extack.clear();
  // libnl hands us nlmsg_data(hdr); the header sits right before it.
  const auto* hdr =
      reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
  if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) == 0 || hdr->nlmsg_len < NLMSG_HDRLEN) return NL_STOP;
  size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
  size_t hlen = sizeof(nlmsgerr);
  if ((hdr->nlmsg_flags & NLM_F_CAPPED) == 0) {
    if (e->msg.nlmsg_len < NLMSG_HDRLEN) return NL_STOP;
    hlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  hlen = NLMSG_ALIGN(hlen);
  if (hlen >= payload) return NL_STOP;
  auto* head = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(e) + hlen);
  nlattr* a = nullptr;
  int rem = 0;
  nla_for_each_attr(a, head, static_cast<int>(payload - hlen), rem) {
    if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
      const char* s = static_cast<const char*>(nla_data(a));
      ke->extack.assign(s, strnlen(s, static_cast<size_t>(nla_len(a))));
    }
  }
  return NL_STOP;  // libnl then returns -nl_syserr2nlerr(e->error)
}

inline std::string ip_str(uint32_t host) {
  return fmt::format("{}.{}.{}.{}", host >> 24, (host >> 16) & 0xff, (host >> 8) & 0xff,
                     host & 0xff);
}

inline std::string mac_str(const MacAddress& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

inline uint32_t prefix_mask(int prefix_len) {
  return prefix_len <= 0 ? 0 : prefix_len >= 32 ? 0xffffffffu : ~0u << (32 - prefix_len);
}

inline NlAddrPtr make_ipv4(uint32_t host, int prefix_len) {
  uint32_t be = htonl(host);
  NlAddrPtr a(check_alloc(nl_addr_build(AF_INET, &be, sizeof(be))));
  nl_addr_set_prefixlen(a.get(), prefix_len);
  return a;
}

inline std::optional<uint32_t> read_ipv4(nl_addr* a) {
  if (a == nullptr || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) {
    return std::nullopt;
  }
  uint32_t be = 0;
  std::memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
  return ntohl(be);
}

// Same rules as the kernel's dev_valid_name().
inline bool valid_ifname(std::string_view n) {
  if (n.empty() || n.size() >= IFNAMSIZ || n == "." || n == "..") return false;
  return std::none_of(n.begin(), n.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
  });
}

inline LinkInfo to_link_info(rtnl_link* l) {
  LinkInfo info;
  if (const char* name = rtnl_link_get_name(l)) info.name = name;
  info.ifindex = rtnl_link_get_ifindex(l);
  if (nl_addr* a = rtnl_link_get_addr(l); a != nullptr && nl_addr_get_len(a) == info.mac.size()) {
    std::memcpy(info.mac.data(), nl_addr_get_binary_addr(a), info.mac.size());
  }
  info.mtu = rtnl_link_get_mtu(l);
  info.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  if (const char* kind = rtnl_link_get_type(l)) info.kind = kind;
  return info;
}

template <class T, class F>
void for_each_in_cache(nl_cache* cache, F&& fn) {
  for (nl_object* o = nl_cache_get_first(cache); o != nullptr; o = nl_cache_get_next(o)) {
    fn(reinterpret_cast<T*>(o));
  }
}

}  // namespace libnl

using namespace libnl;

struct Netlink::State {
  SockPtr sock;
  std::string where;  // "" or " in netns <path>", appended to operation names
  KernelError kerr;

  // Runs one libnl request with a clean error record.
  template <class F>
  int call(F&& f) {
    kerr = {};
    return f();
  }

  // errno for a libnl return code: what the kernel said if it said anything.
  int errno_of(int nlerr) const {
    if (kerr.err != 0) return kerr.err;
    switch (-nlerr) {
      case NLE_EXIST:
        return EEXIST;
      case NLE_NODEV:
        return ENODEV;
      case NLE_OBJ_NOTFOUND:
        return ENOENT;
      case NLE_NOADDR:
        return EADDRNOTAVAIL;
      case NLE_NOMEM:
        return ENOMEM;
      case NLE_PERM:
        return EPERM;
      default:
        return 0;
    }
  }

  [[noreturn]] void fail(std::string_view op, int nlerr) const {
    std::string text;
    if (kerr.err != 0) {
      text = std::strerror(kerr.err);
      if (!kerr.extack.empty()) text += fmt::format(" ({})", kerr.extack);
    } else {
      text = nl_geterror(nlerr);
    }
    throw NetlinkError(fmt::format("{}{}: {}", op, where, text), errno_of(nlerr));
  }

  [[noreturn]] void fail_with(std::string_view op, int err, std::string_view text) const {
    throw NetlinkError(fmt::format("{}{}: {}", op, where, text), err);
  }

  void require_ifname(std::string_view op, std::string_view name) const {
    if (!valid_ifname(name))
      fail_with(op, EINVAL, fmt::format("invalid interface name \"{}\"", name));
  }

  // nullptr if absent; throws on other errors.
  LinkPtr lookup(std::string_view op, int ifindex, std::string_view name) {
    std::string n(name);
    rtnl_link* raw = nullptr;
    int err = call([&] {
      return rtnl_link_get_kernel(sock.get(), ifindex, n.empty() ? nullptr : n.c_str(), &raw);
    });
    LinkPtr link(raw);
    if (err < 0) {
      if (errno_of(err) == ENODEV) return nullptr;
      fail(op, err);
    }
    return link;
  }

  LinkPtr lookup_or_throw(std::string_view op, std::string_view name) {
    require_ifname(op, name);
    LinkPtr link = lookup(op, 0, name);
    if (!link) fail_with(op, ENODEV, std::strerror(ENODEV));
    return link;
  }

  // Sends an RTM_NEWLINK change for an existing link.
  template <class Fill>
  void change_link(std::string_view op, std::string_view name, Fill&& fill) {
    LinkPtr orig = lookup_or_throw(op, name);
    LinkPtr changes(check_alloc(rtnl_link_alloc()));
    fill(changes.get());
    int err = call([&] { return rtnl_link_change(sock.get(), orig.get(), changes.get(), 0); });
    if (err < 0) fail(op, err);
  }

  CachePtr route_cache(std::string_view op) {
    nl_cache* raw = nullptr;
    int err = call([&] { return rtnl_route_alloc_cache(sock.get(), AF_INET, 0, &raw); });
    CachePtr cache(raw);
    if (err < 0) fail(op, err);
    return cache;
  }
};

}  // namespace bpfnet::netlink
