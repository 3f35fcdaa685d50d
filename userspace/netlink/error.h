// Error type of the netlink layer.
#pragma once

#include <stdexcept>
#include <string>

namespace bpfnet::netlink {

// Thrown by everything in bpfnet::netlink. what() names the operation, the
// interface / namespace and the kernel's (or libnl's) error text, e.g.
//   create veth bnv1234 / eth0 in netns /var/run/netns/c1: File exists
class NetlinkError : public std::runtime_error {
 public:
  explicit NetlinkError(const std::string& what, int error_code = 0)
      : std::runtime_error(what), error_code_(error_code) {}

  // The errno value (EEXIST, ENODEV, ...) when the failure came from the kernel
  // or a syscall; 0 when it did not (libnl-internal failure, validation).
  int error_code() const noexcept { return error_code_; }

 private:
  int error_code_;
};

}  // namespace bpfnet::netlink
