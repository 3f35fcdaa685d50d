// Network namespace handles and "do X inside namespace N" helpers.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>

#include "netlink/error.h"

namespace bpfnet::netlink {

// An open network namespace file (an fd on nsfs). Move-only; closes on destruction.
class NetnsHandle {
 public:
  // A bare name ("c1") means /var/run/netns/c1; anything containing '/' is a
  // path (/var/run/netns/c1, /proc/1234/ns/net). A missing namespace throws
  // NetlinkError `network namespace "c1" not found`; anything but a network
  // namespace (checked on nsfs before the file is opened, so that a FIFO or
  // a device can never block or be driven) throws `"PATH" is not a network
  // namespace`.
  explicit NetnsHandle(std::string_view name_or_path);

  // The calling thread's current network namespace.
  static NetnsHandle current();

  NetnsHandle(NetnsHandle&& other) noexcept;
  NetnsHandle& operator=(NetnsHandle&& other) noexcept;
  NetnsHandle(const NetnsHandle&) = delete;
  NetnsHandle& operator=(const NetnsHandle&) = delete;
  ~NetnsHandle();

  int fd() const noexcept { return fd_; }
  // Identity of the namespace (with dev()): equal inodes mean the same namespace.
  ino_t inode() const noexcept { return inode_; }
  dev_t dev() const noexcept { return dev_; }
  // The path it was opened from, for messages.
  const std::string& path() const noexcept { return path_; }

 private:
  NetnsHandle(int fd, std::string path, std::string_view display_name);
  int fd_ = -1;
  ino_t inode_ = 0;
  dev_t dev_ = 0;
  std::string path_;
};

namespace detail {
// Switches the calling thread into `target` (setns) and back on destruction.
// If switching back fails the process is terminated: continuing on a thread
// stranded in a container's namespace would silently corrupt state.
class NetnsSwitch {
 public:
  explicit NetnsSwitch(const NetnsHandle& target);
  ~NetnsSwitch();
  NetnsSwitch(const NetnsSwitch&) = delete;
  NetnsSwitch& operator=(const NetnsSwitch&) = delete;

 private:
  NetnsHandle original_;
  bool switched_ = false;
};
}  // namespace detail

// Runs fn() with the calling thread in `ns`, then returns the thread to its
// original namespace, also when fn throws. Only this thread is affected.
template <class F>
decltype(auto) run_in_netns(const NetnsHandle& ns, F&& fn) {
  detail::NetnsSwitch guard(ns);
  return std::forward<F>(fn)();
}

// Writes `value` to a sysctl. `path` is relative to /proc/sys
// ("net/ipv6/conf/eth0/disable_ipv6") or absolute under /proc/sys/.
void write_sysctl(std::string_view path, std::string_view value);

// Same, inside `ns` (/proc/sys/net is resolved per the opener's namespace).
void write_sysctl_in_netns(const NetnsHandle& ns, std::string_view path, std::string_view value);

}  // namespace bpfnet::netlink
