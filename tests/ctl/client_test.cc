#include "ctl/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>

#include "fake_server.h"

namespace bpfnet::ctl {
namespace {

using namespace std::chrono_literals;
using fake::FakeServer;
using fake::Reply;
using fake::TempDir;

Json ping() { return Json::parse(R"({"op":"ping","args":{}})"); }

// The ClientError message of client.call(ping()), or "<no error>".
template <typename E>
std::string call_error(const Client& client) {
  try {
    client.call(ping());
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

FakeServer::Handler answer(std::string bytes, std::chrono::milliseconds delay = 0ms) {
  return [bytes = std::move(bytes), delay](const std::string&) { return Reply{bytes, delay}; };
}

TEST(Client, SendsOneLineAndReturnsTheResult) {
  FakeServer server(answer("{\"ok\":true,\"result\":{\"version\":\"0.1.0\"}}\n"));
  const Json result = Client(server.socket(), 5s).call(ping());
  EXPECT_EQ(result.dump(), R"({"version":"0.1.0"})");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0], R"({"op":"ping","args":{}})");
}

TEST(Client, KeepsKeyOrderOfTheResult) {
  FakeServer server(
      answer("{\"ok\":true,\"result\":{\"Name\":\"a\",\"Id\":\"1\",\"Created\":\"x\"}}\n"));
  EXPECT_EQ(Client(server.socket(), 5s).call(ping()).dump(),
            R"({"Name":"a","Id":"1","Created":"x"})");
}

TEST(Client, CallTextHandsTheResultOverAsItsText) {
  FakeServer server(answer("{\"ok\":true,\"result\":[{\"a\":1}]}\n"));
  const Json result = Client(server.socket(), 5s).call_text(ping());
  ASSERT_TRUE(result.is_binary());
  EXPECT_EQ(result.get_binary().subtype(), Client::kResultTextSubtype);
  EXPECT_EQ(std::string(result.get_binary().begin(), result.get_binary().end()), R"([{"a":1}])");
  // An error is thrown as call() throws it; another layout is decoded.
  FakeServer refusing(answer("{\"ok\":false,\"error\":\"No such container: x\"}\n"));
  EXPECT_THROW(Client(refusing.socket(), 5s).call_text(ping()), DaemonError);
  FakeServer spaced(answer("{\"ok\": true, \"result\": [1]}\n"));
  EXPECT_EQ(Client(spaced.socket(), 5s).call_text(ping()), Json::parse("[1]"));
}

TEST(Client, TakesAResultOfAHundredMegabytes) {
  // `flows` of 262,144 flows is ~100 MB: more than the 64 MiB once refused.
  const std::string big(100u << 20, 'x');
  FakeServer server(answer("{\"ok\":true,\"result\":\"" + big + "\"}\n"));
  const Json result = Client(server.socket(), 30s).call_text(ping());
  ASSERT_TRUE(result.is_binary());
  EXPECT_EQ(result.get_binary().size(), big.size() + 2);
}

TEST(Client, ResponseEndedByEofInsteadOfNewline) {
  FakeServer server(answer("{\"ok\":true,\"result\":[]}"));
  EXPECT_EQ(Client(server.socket(), 5s).call(ping()), Json::array());
}

TEST(Client, IgnoresBytesAfterTheNewline) {
  FakeServer server(answer("{\"ok\":true,\"result\":1}\ntrailing garbage"));
  EXPECT_EQ(Client(server.socket(), 5s).call(ping()), 1);
}

TEST(Client, LargeResponse) {
  const std::string big(300000, 'x');
  FakeServer server(answer("{\"ok\":true,\"result\":\"" + big + "\"}\n"));
  EXPECT_EQ(Client(server.socket(), 5s).call(ping()).get<std::string>(), big);
}

TEST(Client, ErrorResponseThrowsDaemonError) {
  FakeServer server(answer("{\"ok\":false,\"error\":\"network front already exists\"}\n"));
  EXPECT_EQ(call_error<DaemonError>(Client(server.socket(), 5s)), "network front already exists");
}

TEST(Client, MalformedResponse) {
  FakeServer server(answer("this is not json\n"));
  EXPECT_EQ(call_error<ProtocolError>(Client(server.socket(), 5s)),
            "bpfnetctl: malformed response from daemon: not JSON: this is not json");
}

TEST(Client, ClosedWithoutResponse) {
  FakeServer server(answer(""));
  EXPECT_EQ(call_error<ProtocolError>(Client(server.socket(), 5s)),
            "bpfnetctl: malformed response from the daemon at unix://" + server.socket() +
                ": connection closed without a response");
}

TEST(Client, NoDaemon) {
  TempDir dir;
  EXPECT_EQ(
      call_error<ConnectError>(Client(dir.socket(), 5s)),
      "Cannot connect to the bpfnet daemon at unix://" + dir.socket() + ". Is bpfnetd running?");
}

TEST(Client, StaleSocketFile) {
  // A socket file nobody listens on any more: connection refused.
  TempDir dir;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, dir.socket().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  EXPECT_EQ(
      call_error<ConnectError>(Client(dir.socket(), 5s)),
      "Cannot connect to the bpfnet daemon at unix://" + dir.socket() + ". Is bpfnetd running?");
}

TEST(Client, Timeout) {
  FakeServer server(answer("{\"ok\":true,\"result\":{}}\n", 700ms));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(call_error<TimeoutError>(Client(server.socket(), 100ms)),
            "bpfnetctl: timed out after 100ms waiting for a response (daemon at unix://" +
                server.socket() + ")");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 600ms);
}

TEST(Client, SocketPathTooLong) {
  EXPECT_EQ(call_error<ClientError>(Client(std::string(200, 'a'), 5s)),
            "bpfnetctl: invalid socket path \"" + std::string(200, 'a') + "\" (1 to 107 bytes)");
}

TEST(ParseResponse, Shapes) {
  EXPECT_EQ(Client::parse_response(R"({"ok":true,"result":null})"), Json());
  EXPECT_EQ(Client::parse_response(R"({"result":[1],"ok":true})"), Json::array({1}));
}

TEST(ParseResponse, Errors) {
  auto protocol = [](std::string_view line) -> std::string {
    try {
      Client::parse_response(line);
    } catch (const ProtocolError& e) {
      return e.what();
    }
    return "<no error>";
  };
  const std::string p = "bpfnetctl: malformed response from daemon: ";
  EXPECT_EQ(protocol("[1]"), p + "not a JSON object: [1]");
  EXPECT_EQ(protocol(R"({"result":1})"), p + "no boolean \"ok\": {\"result\":1}");
  EXPECT_EQ(protocol(R"({"ok":"yes"})"), p + "no boolean \"ok\": {\"ok\":\"yes\"}");
  EXPECT_EQ(protocol(R"({"ok":true})"), p + "\"ok\" without \"result\": {\"ok\":true}");
  EXPECT_EQ(protocol(R"({"ok":false,"error":3})"),
            p + "error without an \"error\" string: {\"ok\":false,\"error\":3}");
  EXPECT_EQ(protocol(""), p + "not JSON: ");
  EXPECT_EQ(protocol(std::string(300, '{')), p + "not JSON: " + std::string(200, '{') + "...");
}

TEST(ParseResponse, DaemonErrorIsOneLine) {
  try {
    Client::parse_response(R"({"ok":false,"error":"line one\nline two"})");
    FAIL() << "no DaemonError";
  } catch (const DaemonError& e) {
    EXPECT_STREQ(e.what(), "line one line two");
  }
}

}  // namespace
}  // namespace bpfnet::ctl
