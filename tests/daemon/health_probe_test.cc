// The health probes against real sockets on loopback: TCP connect, HTTP
// status, refusal, timeout, and the checker's scheduling.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "daemon/health_checker.h"

namespace bpfnet::daemon {
namespace {

constexpr uint32_t kLoopback = 0x7f000001;

// A listening socket on 127.0.0.1 with an ephemeral port.
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(kLoopback);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd, 16);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
  // Answers one HTTP request with `status`.
  std::thread serve_http(int status) {
    return std::thread([this, status] {
      int c = ::accept(fd, nullptr, nullptr);
      char buf[1024];
      ::recv(c, buf, sizeof(buf), 0);
      std::string reply = "HTTP/1.0 " + std::to_string(status) + " X\r\n\r\n";
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
};

TEST(HealthProbe, TcpConnectSucceedsOnAListener) {
  Listener l;
  HealthResult r = probe(HealthTarget{1, kLoopback, l.port});
  EXPECT_TRUE(r.ok) << r.error;
}

TEST(HealthProbe, TcpConnectToAClosedPortFailsWithTheReason) {
  uint16_t port;
  {
    Listener l;
    port = l.port;
  }
  HealthResult r = probe(HealthTarget{1, kLoopback, port});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("Connection refused"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error;
}

TEST(HealthProbe, HttpChecksTheStatus) {
  Listener l;
  HealthTarget t{1, kLoopback, l.port, true, "/healthz", 200, 2000, 1000};
  std::thread ok = l.serve_http(200);
  EXPECT_TRUE(probe(t).ok);
  ok.join();
  std::thread bad = l.serve_http(503);
  HealthResult r = probe(t);
  bad.join();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("status 503 (want 200)"), std::string::npos) << r.error;
}

TEST(HealthProbe, HttpWithoutAnAnswerTimesOut) {
  Listener l;  // accepts (backlog) but never answers
  HealthTarget t{1, kLoopback, l.port, true, "/", 200, 2000, 200};
  auto start = std::chrono::steady_clock::now();
  HealthResult r = probe(t);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no answer within 200 ms"), std::string::npos) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(HealthChecker, ProbesTargetsOnTheirIntervalAndForgetsRemovedOnes) {
  Listener l;
  HealthChecker checker;
  checker.set_targets({HealthTarget{7, kLoopback, l.port, false, "/", 200, 50, 500}});
  std::vector<HealthResult> got;
  for (int i = 0; i < 100 && got.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto& r : checker.take_results()) got.push_back(r);
  }
  ASSERT_GE(got.size(), 3u) << "probed repeatedly";
  for (const auto& r : got) {
    EXPECT_EQ(r.backend_id, 7u);
    EXPECT_TRUE(r.ok) << r.error;
  }
  checker.set_targets({});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  checker.take_results();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE(checker.take_results().empty());
}

}  // namespace
}  // namespace bpfnet::daemon
