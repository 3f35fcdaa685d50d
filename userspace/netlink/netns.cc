#include "netlink/netns.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace bpfnet::netlink {
namespace {

constexpr std::string_view kNetnsDir = "/var/run/netns/";
constexpr std::string_view kSysctlDir = "/proc/sys/";

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

NetnsHandle::NetnsHandle(std::string_view name_or_path) {
  if (name_or_path.empty() || name_or_path == "." || name_or_path == "..") {
    throw NetlinkError(fmt::format("invalid network namespace name \"{}\"", name_or_path), EINVAL);
  }
  std::string path = name_or_path.find('/') == std::string_view::npos
                         ? std::string(kNetnsDir) + std::string(name_or_path)
                         : std::string(name_or_path);
  // O_PATH opens without opening the file itself: no FIFO waits for a
  // writer, no device driver runs. Only a file on nsfs is opened for real.
  int path_fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (path_fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      throw NetlinkError(fmt::format("network namespace \"{}\" not found", name_or_path), err);
    }
    throw NetlinkError(fmt::format("open network namespace {}: {}", path, errno_text(err)), err);
  }
  struct statfs fs {};
  if (::fstatfs(path_fd, &fs) != 0 || fs.f_type != NSFS_MAGIC) {
    ::close(path_fd);
    throw NetlinkError(fmt::format("\"{}\" is not a network namespace", name_or_path), EINVAL);
  }
  // setns() and ioctl() need a real open file: reopen that very inode.
  int fd =
      ::open(fmt::format("/proc/self/fd/{}", path_fd).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  int err = errno;
  ::close(path_fd);
  if (fd < 0) {
    throw NetlinkError(fmt::format("open network namespace {}: {}", path, errno_text(err)), err);
  }
  *this = NetnsHandle(fd, std::move(path), name_or_path);
}

NetnsHandle::NetnsHandle(int fd, std::string path, std::string_view display_name)
    : fd_(fd), path_(std::move(path)) {
  // Check it really is a network namespace (nsfs also holds the other kinds;
  // a stale /var/run/netns entry whose bind mount is gone is an empty regular
  // file, refused before).
  int type = ::ioctl(fd_, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    int err = type < 0 ? errno : EINVAL;
    ::close(fd_);
    fd_ = -1;
    throw NetlinkError(fmt::format("\"{}\" is not a network namespace", display_name), err);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw NetlinkError(fmt::format("stat network namespace {}: {}", path_, errno_text(err)), err);
  }
  inode_ = st.st_ino;
  dev_ = st.st_dev;
}

NetnsHandle NetnsHandle::current() {
  // thread-self: setns() is per thread, so "current" is this thread's namespace.
  static constexpr const char* kSelf = "/proc/thread-self/ns/net";
  int fd = ::open(kSelf, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw NetlinkError(fmt::format("open current network namespace {}: {}", kSelf, errno_text(err)),
                       err);
  }
  return NetnsHandle(fd, kSelf, kSelf);
}

NetnsHandle::NetnsHandle(NetnsHandle&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      inode_(other.inode_),
      dev_(other.dev_),
      path_(std::move(other.path_)) {}

NetnsHandle& NetnsHandle::operator=(NetnsHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    inode_ = other.inode_;
    dev_ = other.dev_;
    path_ = std::move(other.path_);
  }
  return *this;
}

NetnsHandle::~NetnsHandle() {
  if (fd_ >= 0) ::close(fd_);
}

namespace detail {

NetnsSwitch::NetnsSwitch(const NetnsHandle& target) : original_(NetnsHandle::current()) {
  if (original_.inode() == target.inode() && original_.dev() == target.dev()) return;
  if (::setns(target.fd(), CLONE_NEWNET) != 0) {
    int err = errno;
    throw NetlinkError(
        fmt::format("enter network namespace {}: {}", target.path(), errno_text(err)), err);
  }
  switched_ = true;
}

NetnsSwitch::~NetnsSwitch() {
  if (!switched_) return;
  if (::setns(original_.fd(), CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "bpfnet: cannot return to the original network namespace: %s\n",
                 std::strerror(errno));
    std::terminate();
  }
}

}  // namespace detail

namespace {

std::string sysctl_path(std::string_view path) {
  std::string full =
      path.starts_with('/') ? std::string(path) : std::string(kSysctlDir) + std::string(path);
  if (!full.starts_with(kSysctlDir) || full.find("/../") != std::string::npos ||
      full.ends_with("/..")) {
    throw NetlinkError(fmt::format("invalid sysctl path \"{}\"", path), EINVAL);
  }
  return full;
}

// Opens and writes in the calling thread's current namespace.
void write_file(const std::string& full, std::string_view value, const std::string& where) {
  int fd = ::open(full.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw NetlinkError(fmt::format("write sysctl {}={}{}: {}", full, value, where, errno_text(err)),
                       err);
  }
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) != value.size()) {
    if (n >= 0) err = EIO;
    throw NetlinkError(fmt::format("write sysctl {}={}{}: {}", full, value, where, errno_text(err)),
                       err);
  }
}

}  // namespace

void write_sysctl(std::string_view path, std::string_view value) {
  write_file(sysctl_path(path), value, "");
}

void write_sysctl_in_netns(const NetnsHandle& ns, std::string_view path, std::string_view value) {
  std::string full = sysctl_path(path);
  // The file must be opened inside the namespace; once open it stays bound to it.
  run_in_netns(ns, [&] { write_file(full, value, " in netns " + ns.path()); });
}

}  // namespace bpfnet::netlink
