// Small helpers shared by bench/pktgen and bench/xdpcount: their main,
// namespaces, interface facts, address parsing, GRO. Everything throws
// std::runtime_error with a one-line message.
#pragma once

#include <array>
#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace bpfnet::bench {

using Mac = std::array<uint8_t, 6>;

// The main of a tool whose options DESC declares: parses the command line
// into them (--help prints DESC), turns SIGINT and SIGTERM into
// stop_requested(), and runs RUN. Exit status: RUN's; 2 for a bad command
// line, 1 for an exception, each with "NAME: message" on stderr.
int tool_main(const char* name, int argc, char** argv,
              const boost::program_options::options_description& desc,
              const std::function<int()>& run);
// True once SIGINT or SIGTERM arrived (after tool_main installed its handlers).
bool stop_requested();

// Moves the calling thread (call it before starting others) into the network
// namespace NAME (under /var/run/netns) or PATH.
void enter_netns(const std::string& name_or_path);

int ifindex_of(const std::string& ifname);
Mac mac_of(const std::string& ifname);
// First IPv4 address of the interface, network order; throws if none.
uint32_t ipv4_of(const std::string& ifname);

Mac parse_mac(const std::string& s);
uint32_t parse_ipv4(const std::string& s);  // network order
std::string format_mac(const Mac& m);

// ethtool -K IFNAME gro on|off, without ethtool (ETHTOOL_SGRO ioctl).
void set_gro(const std::string& ifname, bool on);

// A veth pair NAME <-> NAME+"p" in the current namespace, left down; deleted by
// the destructor.
class IdleVeth {
 public:
  explicit IdleVeth(std::string name);
  ~IdleVeth();
  IdleVeth(const IdleVeth&) = delete;
  IdleVeth& operator=(const IdleVeth&) = delete;
  int ifindex() const { return ifindex_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int ifindex_ = 0;
};

// Ones' complement checksum (RFC 1071) over bytes, returned in network order
// as it is stored in a header.
uint16_t inet_csum(const uint8_t* data, size_t len, uint32_t seed = 0);
uint32_t csum_partial(const uint8_t* data, size_t len, uint32_t sum);

}  // namespace bpfnet::bench
