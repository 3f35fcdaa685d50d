// bench/udpsink: the receiver a real container has, a UDP socket. Binds
// 0.0.0.0:PORT (in --netns), reads datagrams with recvmmsg (64 a call, never
// sleeping) until SIGINT/SIGTERM or --duration, and prints what it received:
// datagrams, bytes, and the rate over the active window (first to last poll,
// every 10 ms, that saw new datagrams), as xdpcount does. Also the
// namespace's UDP RcvbufErrors and InCsumErrors over the run
// (/proc/net/snmp): datagrams the stack carried all the way to a full socket
// buffer (one reader thread reads fewer datagrams a second than one core can
// deliver), and datagrams refused for a bad checksum.
//
//   udpsink --port 9 [--netns NAME] [--rcvbuf BYTES] [--duration 0]
//           [--ready-file F] [--json] [-q]
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "tool_util.h"

namespace po = boost::program_options;
using namespace bpfnet::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string netns, ready_file;
  uint16_t port = 0;
  int rcvbuf = 8 << 20;
  double duration = 0;
  bool json = false, quiet = false;
};

constexpr int kBatch = 64;
constexpr size_t kBufLen = 2048;

struct Totals {
  std::atomic<uint64_t> packets{0}, bytes{0};
};

// The namespace's UDP counters (this thread's /proc/net/snmp), by name.
std::map<std::string, uint64_t> udp_snmp() {
  std::ifstream f("/proc/thread-self/net/snmp");
  std::string names, values, line;
  while (std::getline(f, line))
    if (line.starts_with("Udp: ")) (names.empty() ? names : values) = line;
  std::istringstream n(names), v(values);
  std::map<std::string, uint64_t> out;
  std::string name, value;
  while (n >> name && v >> value)
    if (name != "Udp:") out[name] = std::stoull(value);
  return out;
}

int open_socket(const Options& o) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  // FORCE: above net.core.rmem_max (root).
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &o.rcvbuf, sizeof(o.rcvbuf)) != 0)
    throw std::runtime_error(fmt::format("setsockopt: {}", std::strerror(errno)));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(o.port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    throw std::runtime_error(fmt::format("bind port {}: {}", o.port, std::strerror(errno)));
  return fd;
}

// The receive loop (its own thread): recvmmsg until `stop`, counting.
void receive(int fd, const std::atomic<bool>& stop, Totals& t) {
  std::vector<std::array<char, kBufLen>> bufs(kBatch);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  while (!stop) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {bufs[i].data(), kBufLen};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // Never sleeps: a sleeping receiver is woken for every datagram (an
    // IPI from the softirq's CPU, a VM exit on a VM), which would make the
    // measured path the wake-up, not the datapath.
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    uint64_t bytes = 0;
    for (int i = 0; i < n; ++i) bytes += msgs[i].msg_len;
    t.packets += static_cast<uint64_t>(n);
    t.bytes += bytes;
  }
}

int run(const Options& o) {
  if (!o.netns.empty()) enter_netns(o.netns);
  if (o.port == 0) throw std::runtime_error("--port is required");
  int fd = open_socket(o);
  const auto snmp_before = udp_snmp();
  Totals t;
  std::atomic<bool> stop{false};
  std::thread rx(receive, fd, std::cref(stop), std::ref(t));
  if (!o.ready_file.empty()) std::ofstream(o.ready_file) << getpid() << "\n";
  if (!o.quiet) std::cerr << fmt::format("udpsink: receiving on port {}\n", o.port);

  const auto start = Clock::now();
  uint64_t prev = 0;
  Clock::time_point first_seen{}, last_change{};
  bool seen = false;
  while (!stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto now = Clock::now();
    uint64_t p = t.packets;
    if (p != prev) {
      if (!seen) first_seen = now;
      seen = true;
      last_change = now;
      prev = p;
    }
    if (o.duration > 0 && std::chrono::duration<double>(now - start).count() >= o.duration) break;
  }
  stop = true;
  rx.join();
  close(fd);
  auto snmp = udp_snmp();
  const uint64_t rcvbuf_errors = snmp["RcvbufErrors"] - snmp_before.at("RcvbufErrors");
  const uint64_t csum_errors = snmp["InCsumErrors"] - snmp_before.at("InCsumErrors");
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  double active = seen ? std::chrono::duration<double>(last_change - first_seen).count() : 0;
  uint64_t packets = t.packets;
  double pps = active > 0 ? packets / active : 0;
  if (o.json) {
    nlohmann::json j = {{"packets", packets},
                        {"bytes", t.bytes.load()},
                        {"seconds", secs},
                        {"active_seconds", active},
                        {"pps", pps},
                        {"port", o.port},
                        {"rcvbuf_errors", rcvbuf_errors},
                        {"csum_errors", csum_errors}};
    std::cout << j.dump() << "\n";
  } else {
    fmt::print(
        "received {} datagrams, {} bytes in {:.3f} s; {:.0f} pps over the {:.3f} s active "
        "window; in the namespace meanwhile: {} datagrams dropped at a full socket buffer, {} with "
        "a bad checksum\n",
        packets, t.bytes.load(), secs, pps, active, rcvbuf_errors, csum_errors);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc("udpsink: count UDP datagrams a socket receives (recvmmsg)");
  desc.add_options()("help,h", "this help")("port,p", po::value(&o.port)->required(),
                                            "UDP port to bind (every address)")(
      "netns", po::value(&o.netns), "enter this network namespace first (name or path)")(
      "rcvbuf", po::value(&o.rcvbuf)->default_value(8 << 20), "socket receive buffer (bytes)")(
      "duration,d", po::value(&o.duration)->default_value(0),
      "stop after this many seconds (0: at SIGINT/SIGTERM)")("ready-file", po::value(&o.ready_file),
                                                             "write this file once bound")(
      "quiet,q", po::bool_switch(&o.quiet), "no progress line on stderr")(
      "json", po::bool_switch(&o.json), "print the summary as one JSON object");
  return tool_main("udpsink", argc, argv, desc, [&] { return run(o); });
}
