// The Docker plugin server's limits (issue 12): nothing is answered before
// serve() (the daemon calls it once reconciled), idle and trickling
// connections are closed, connections past the cap wait, and a body nested
// too deep is refused before anything parses it.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "daemon/docker_plugin_server.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string post(const std::string& method, const std::string& body) {
  return "POST /" + method +
         " HTTP/1.1\r\nHost: plugin\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// A raw connection; reads with a deadline.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const std::string& raw) { EXPECT_TRUE(try_send(raw)); }
  // False once the server has closed the connection.
  bool try_send(const std::string& raw) {
    return ::send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL) == ssize_t(raw.size());
  }
  // What arrives within `wait`: "" when nothing, "<closed>" at EOF first.
  std::string read(std::chrono::milliseconds wait) {
    std::string got;
    const auto deadline = Clock::now() + wait;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0) return got;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return got.empty() ? "<closed>" : got;
      got.append(buf, size_t(n));
      if (got.find("\r\n\r\n") != std::string::npos && got.back() == '}') return got;
    }
  }

 private:
  int fd_ = -1;
};

class DockerPluginLimitsTest : public ::testing::Test {
 protected:
  std::unique_ptr<DockerPluginServer> start(DockerPluginOptions options) {
    return std::make_unique<DockerPluginServer>(
        socket_path, "--docker-plugin-socket",
        [this](std::string_view path, std::string_view) {
          ++calls;
          return PluginReply{200, nlohmann::json{{"Path", path}}.dump()};
        },
        options);
  }

  fakes::TempDir dir;
  std::string socket_path = dir.path() + "/bpfnet.sock";
  std::atomic<int> calls = 0;
};

TEST_F(DockerPluginLimitsTest, AnswersNothingUntilServed) {
  DockerPluginOptions options;
  options.serve_now = false;
  auto server = start(options);
  RawClient client(socket_path);  // bound: the connection is queued
  client.send(post("Plugin.Activate", ""));
  EXPECT_EQ(client.read(300ms), "");
  EXPECT_EQ(calls, 0);
  server->serve();
  EXPECT_NE(client.read(2s).find("200 OK"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

TEST_F(DockerPluginLimitsTest, IdleAndTricklingConnectionsAreClosed) {
  DockerPluginOptions options;
  options.idle_timeout = 300ms;
  auto server = start(options);
  RawClient idle(socket_path);
  RawClient trickle(socket_path);
  RawClient served(socket_path);
  served.send(post("Plugin.Activate", ""));
  EXPECT_NE(served.read(2s).find("200 OK"), std::string::npos);
  std::string request = post("Plugin.Activate", "");
  for (size_t i = 0; i < 8; ++i) {  // one byte every 100 ms: 800 ms, past the timeout
    trickle.try_send(request.substr(i, 1));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(idle.read(2s), "<closed>");
  EXPECT_EQ(trickle.read(2s), "<closed>");
  EXPECT_EQ(served.read(2s), "<closed>") << "idle after its answer";
  EXPECT_EQ(calls, 1);
}

TEST_F(DockerPluginLimitsTest, ConnectionsPastTheCapWait) {
  DockerPluginOptions options;
  options.max_connections = 2;
  auto server = start(options);
  RawClient first(socket_path);
  RawClient second(socket_path);
  first.send(post("Plugin.Activate", ""));
  second.send(post("Plugin.Activate", ""));
  EXPECT_NE(first.read(2s).find("200 OK"), std::string::npos);
  EXPECT_NE(second.read(2s).find("200 OK"), std::string::npos);
  RawClient third(socket_path);  // queued in the backlog
  third.send(post("NetworkDriver.GetCapabilities", ""));
  EXPECT_EQ(third.read(300ms), "");
  first.close();
  EXPECT_NE(third.read(2s).find("GetCapabilities"), std::string::npos);
  EXPECT_EQ(calls, 3);
}

TEST_F(DockerPluginLimitsTest, DeepBodiesAreRefusedBeforeTheHandler) {
  auto server = start({});
  RawClient client(socket_path);
  client.send(post("NetworkDriver.CreateNetwork", std::string(500000, '[')));
  std::string answer = client.read(5s);
  EXPECT_NE(answer.find("400 Bad Request"), std::string::npos) << answer;
  EXPECT_NE(answer.find("NetworkDriver.CreateNetwork: request body nested deeper than 64 levels"),
            std::string::npos)
      << answer;
  EXPECT_EQ(calls, 0);
  client.send(post("Plugin.Activate", "{\"a\": [[[[]]]]}"));
  EXPECT_NE(client.read(2s).find("200 OK"), std::string::npos) << "the connection goes on";
}

TEST_F(DockerPluginLimitsTest, TargetsThatAreNotAsciiAreRefusedBeforeTheHandler) {
  auto server = start({});
  RawClient client(socket_path);
  // Echoing such a path in an error would throw (nlohmann refuses to dump
  // invalid UTF-8): fuzz/corpus/docker_plugin/invalid-utf8-path.
  client.send(
      post("NetworkDriver.GetCa\x97"
           "abilities",
           ""));
  std::string answer = client.read(2s);
  EXPECT_NE(answer.find("404 Not Found"), std::string::npos) << answer;
  EXPECT_NE(answer.find("not a method of the bpfnet network or IPAM driver"), std::string::npos)
      << answer;
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(screen_plugin_request("/Plugin.Activate", ""), std::nullopt);
  EXPECT_EQ(screen_plugin_request("/Plugin Activate", "")->status, 404u);
}

}  // namespace
}  // namespace bpfnet::daemon
