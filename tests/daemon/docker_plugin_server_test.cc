// The Docker plugin's HTTP layer for real: a DockerPluginServer on a unix
// socket in a temporary directory, driven by a raw-socket client that sends
// the bytes Docker's plugin client (Go net/http) sends.
#include "daemon/docker_plugin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.h"
#include "daemon/controller.h"
#include "daemon/server.h"
#include "daemon/state_store.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

const std::string kNet = "6f1b4e3c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f";

// A request as Docker's plugin client writes it: no Content-Type, a body
// that ends in "\n" (or none at all).
std::string docker_request(const std::string& method, const std::string& body) {
  return "POST /" + method +
         " HTTP/1.1\r\n"
         "Host: plugin.moby.localhost\r\n"
         "User-Agent: Go-http-client/1.1\r\n"
         "Content-Length: " +
         std::to_string(body.size()) +
         "\r\n"
         "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
         "Accept-Encoding: gzip\r\n"
         "\r\n" +
         body;
}

struct HttpAnswer {
  int status = 0;
  std::string headers;
  std::string body;
};

// One client connection, kept open across requests as Docker keeps it.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }

  HttpAnswer send(const std::string& raw) {
    EXPECT_EQ(::send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL), ssize_t(raw.size()));
    return read_answer();
  }

  // True when the server closed the connection (read returns 0).
  bool closed_by_server() {
    char byte;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  HttpAnswer read_answer() {
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return {};
    }
    HttpAnswer answer;
    answer.headers = pending_.substr(0, header_end + 2);
    answer.status = std::stoi(answer.headers.substr(answer.headers.find(' ') + 1, 3));
    size_t length_at = answer.headers.find("Content-Length: ");
    size_t length =
        length_at == std::string::npos ? 0 : std::stoul(answer.headers.substr(length_at + 16));
    size_t body_start = header_end + 4;
    while (pending_.size() < body_start + length) {
      if (!fill()) return {};
    }
    answer.body = pending_.substr(body_start, length);
    pending_.erase(0, body_start + length);
    return answer;
  }
  bool fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

class DockerPluginServerTest : public ::testing::Test {
 protected:
  DockerPluginServerTest() {
    ctl = std::make_unique<Controller>(
        store, plumbing, ids, [] { return std::string("2024-05-01T12:00:00Z"); },
        without_default_bridge());
    ctl->load(std::nullopt);
    ctl->set_datapath(datapath);
    ctl->reconcile_all();
    driver = std::make_unique<DockerDriver>(*ctl);
  }

  std::unique_ptr<DockerPluginServer> serve() {
    return std::make_unique<DockerPluginServer>(
        socket_path, "--docker-plugin-socket",
        [this](std::string_view path, std::string_view body) {
          std::lock_guard lock(controller_lock);
          return driver->handle(path, body);
        });
  }

  TempDir dir;
  std::string socket_path = dir.path() + "/plugins/bpfnet.sock";
  StateStore store{dir.path()};
  FakePlumbing plumbing;
  FakeDatapath datapath;
  FakeIds ids;
  std::mutex controller_lock;
  std::unique_ptr<Controller> ctl;
  std::unique_ptr<DockerDriver> driver;
};

TEST_F(DockerPluginServerTest, ActivateOverTheSocket) {
  auto server = serve();
  Client client(socket_path);
  ASSERT_TRUE(client.connected());
  HttpAnswer answer = client.send(docker_request("Plugin.Activate", ""));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(json::parse(answer.body),
            json::parse(R"({"Implements":["NetworkDriver","IpamDriver"]})"));
  EXPECT_NE(answer.headers.find("Content-Type: application/vnd.docker.plugins.v1+json"),
            std::string::npos);
}

TEST_F(DockerPluginServerTest, KeepAliveServesRequestsInTurnOnOneConnection) {
  auto server = serve();
  Client client(socket_path);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.send(docker_request("Plugin.Activate", "")).status, 200);
  HttpAnswer caps = client.send(docker_request("NetworkDriver.GetCapabilities", ""));
  EXPECT_EQ(caps.status, 200);
  EXPECT_EQ(json::parse(caps.body)["Scope"], "local");
  const std::string create =
      R"({"NetworkID":")" + kNet +
      R"(","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{}},)"
      R"("IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"172.30.0.1/16","Pool":"172.30.0.0/16"}],)"
      R"("IPv6Data":[]})"
      "\n";
  HttpAnswer created = client.send(docker_request("NetworkDriver.CreateNetwork", create));
  EXPECT_EQ(created.status, 200);
  EXPECT_EQ(json::parse(created.body), json::object());
  std::lock_guard lock(controller_lock);
  EXPECT_NE(ctl->state().network_by_id(kNet), nullptr);
}

TEST_F(DockerPluginServerTest, UnknownPathIs404AndRefusalsCarryErr) {
  auto server = serve();
  Client client(socket_path);
  HttpAnswer unknown = client.send(docker_request("VolumeDriver.Create", ""));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["Err"],
            "/VolumeDriver.Create: not a method of the bpfnet network or IPAM driver");
  HttpAnswer malformed = client.send(docker_request("NetworkDriver.CreateNetwork", "{\n"));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(json::parse(malformed.body)["Err"],
            "NetworkDriver.CreateNetwork: malformed JSON at byte 3 of the request body");
  HttpAnswer missing = client.send(docker_request(
      "NetworkDriver.Join", R"({"NetworkID":")" + kNet + R"(","EndpointID":"x"})" + "\n"));
  EXPECT_EQ(missing.status, 500);
  EXPECT_EQ(json::parse(missing.body)["Err"],
            "NetworkDriver.Join: SandboxKey: missing (expected a string)");
}

TEST_F(DockerPluginServerTest, ConnectionCloseIsHonoured) {
  auto server = serve();
  Client client(socket_path);
  std::string request = docker_request("Plugin.Activate", "");
  request.insert(request.find("\r\n\r\n"), "\r\nConnection: close");
  EXPECT_EQ(client.send(request).status, 200);
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(DockerPluginServerTest, RefusesASocketAnotherProcessServesAndRemovesItsOwnOnExit) {
  {
    auto server = serve();
    EXPECT_TRUE(std::filesystem::exists(socket_path));
    try {
      serve();
      ADD_FAILURE() << "a second server started on the same socket";
    } catch (const core::UserError& e) {
      EXPECT_EQ(std::string(e.what()),
                "--docker-plugin-socket " + socket_path + ": another process is serving it");
    }
    // The first one still serves.
    Client client(socket_path);
    EXPECT_EQ(client.send(docker_request("Plugin.Activate", "")).status, 200);
  }
  EXPECT_FALSE(std::filesystem::exists(socket_path));
}

TEST_F(DockerPluginServerTest, StopsWithAConnectionStillOpen) {
  auto server = serve();
  Client client(socket_path);
  EXPECT_EQ(client.send(docker_request("Plugin.Activate", "")).status, 200);
  server.reset();  // Docker keeps its connection: shutting down must not wait for it
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_FALSE(std::filesystem::exists(socket_path));
}

TEST_F(DockerPluginServerTest, ReplacesAStaleSocketFile) {
  // A socket file nobody listens on, as a killed bpfnetd leaves behind.
  int fd = listen_unix_socket(socket_path, "--docker-plugin-socket");
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(socket_path));
  auto server = serve();
  Client client(socket_path);
  EXPECT_EQ(client.send(docker_request("Plugin.Activate", "")).status, 200);
}

}  // namespace
}  // namespace bpfnet::daemon
