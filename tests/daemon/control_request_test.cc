// One control-socket request to its answer (daemon/server.h answer_request),
// as the server and the control-request fuzzer run it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/error.h"
#include "daemon/json_text.h"
#include "daemon/server.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;

json echo(const std::string& op, const json& args) {
  if (op == "fail") throw core::UserError("refused: " + args.value("why", std::string()));
  return json{{"op", op}, {"args", args}};
}

// `flows` answers with JSON text it wrote itself: spliced in unchanged.
TEST(AnswerRequest, AResultWrittenAsJsonTextIsSentAsItIs) {
  auto listing = [](const std::string&, const json&) {
    return json_text_result(R"([{"client":"10.0.0.1:80"}])");
  };
  EXPECT_EQ(answer_line(answer_request(R"({"op":"flows"})", listing)),
            "{\"ok\":true,\"result\":[{\"client\":\"10.0.0.1:80\"}]}\n");
  EXPECT_EQ(answer_line(answer_request(R"({"op":"x"})", echo)),
            "{\"ok\":true,\"result\":{\"args\":{},\"op\":\"x\"}}\n");
}

TEST(AnswerRequest, PassesOpAndArgsAndWrapsTheResult) {
  EXPECT_EQ(answer_request(R"({"op":"network.ls"})", echo),
            json::parse(R"({"ok":true,"result":{"op":"network.ls","args":{}}})"));
  EXPECT_EQ(answer_request(R"({"op":"x","args":{"a":[1]}})", echo),
            json::parse(R"({"ok":true,"result":{"op":"x","args":{"a":[1]}}})"));
}

TEST(AnswerRequest, RefusalsAreErrorsNotExceptions) {
  EXPECT_EQ(answer_request(R"({"op":"fail","args":{"why":"no"}})", echo),
            json::parse(R"({"ok":false,"error":"refused: no"})"));
  EXPECT_EQ(answer_request("{\"op\":", echo),
            json::parse(R"({"ok":false,"error":"request: malformed JSON"})"));
  EXPECT_EQ(answer_request(R"(["op"])", echo)["error"],
            R"(request: expected {"op": "...", "args": {...}})");
}

TEST(AnswerRequest, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = R"({"op":"network.ls","args":{"x":)" + std::string(520000, '[') +
                     std::string(520000, ']') + "}}";
  EXPECT_EQ(answer_request(deep, echo),
            json::parse(R"({"ok":false,"error":"request: nested deeper than 64 levels"})"));
  EXPECT_EQ(answer_request(std::string(1 << 20, '{'), echo)["error"],
            "request: nested deeper than 64 levels");
}

// A readable wake fd brings the next tick forward: with an hour between
// ticks, the tick that stops the server can only come from the wake-up
// (without it the test hangs until ctest's timeout).
TEST(ControlServerRun, AWakeFdBringsTheTickForward) {
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &mask, &old), 0);
  fakes::TempDir dir;
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(wake, 0);
  int ticks = 0;
  {
    ControlServer server(dir.path() + "/sock");
    const uint64_t one = 1;
    ASSERT_EQ(::write(wake, &one, sizeof(one)), ssize_t(sizeof(one)));
    server.run(
        echo,
        [&] {
          ++ticks;
          uint64_t n = 0;
          EXPECT_EQ(::read(wake, &n, sizeof(n)), ssize_t(sizeof(n))) << "woken without a wake-up";
          ::kill(::getpid(), SIGTERM);  // pending (blocked): the server's signalfd ends run()
        },
        /*tick_ms=*/3'600'000, wake);
  }
  ::close(wake);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(ticks, 1);
}

// Reads from `fd` until `lines` newlines came (or EOF).
std::string read_lines(int fd, int lines) {
  std::string in;
  char buf[4096];
  while (std::count(in.begin(), in.end(), '\n') < lines) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, size_t(n));
  }
  return in;
}

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A streaming op (monitor): answered like any request, then the connection
// stays open for the lines the daemon sends (past the 5 s request deadline
// too), until the client hangs up, which closes its stream.
TEST(ControlServerRun, AStreamGetsItsAnswerThenLinesUntilTheClientGoes) {
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &mask, &old), 0);
  fakes::TempDir dir;
  const std::string path = dir.path() + "/sock";
  std::optional<uint64_t> opened, closed;
  bool sent = false;
  std::string client_saw;
  {
    ControlServer server(path,
                         ControlServerLimits{.client_timeout = std::chrono::milliseconds(100)});
    server.set_streams(StreamHooks{
        .open = [&](uint64_t id, const std::string& op, const json&) -> std::optional<json> {
          if (op != "monitor") return std::nullopt;
          opened = id;
          return json{{"types", {"drop"}}};
        },
        .close =
            [&](uint64_t id) {
              closed = id;
              ::kill(::getpid(), SIGTERM);  // ends run()
            },
        .fd = [] { return -1; },
        .on_readable = [] {},
    });
    std::thread client([&] {
      int fd = connect_to(path);
      if (fd < 0) return;
      const std::string req = "{\"op\":\"monitor\"}\n";
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      client_saw = read_lines(fd, 2);
      ::close(fd);
    });
    server.run(
        echo,
        [&] {
          // After the request deadline (100 ms): a stream does not expire.
          if (opened && !sent && server.send(*opened, R"({"event":{}})")) sent = true;
        },
        /*tick_ms=*/300);
    client.join();
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(client_saw, "{\"ok\":true,\"result\":{\"types\":[\"drop\"]}}\n{\"event\":{}}\n");
  ASSERT_TRUE(opened);
  EXPECT_EQ(closed, opened);
}

// A request's handler may send to a stream (a port's removal purges flows:
// their ends go to the monitors): the line reaches a stream client that was
// served before the request in the same poll round, not a moved-out copy.
TEST(ControlServerRun, LinesSentWhileAnsweringAnotherClientReachTheStream) {
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &mask, &old), 0);
  fakes::TempDir dir;
  const std::string path = dir.path() + "/sock";
  std::atomic<uint64_t> opened = 0;
  std::atomic<bool> stopping = false;
  std::string stream_saw, request_saw;
  {
    ControlServer server(path);
    server.set_streams(StreamHooks{
        .open = [&](uint64_t id, const std::string& op, const json&) -> std::optional<json> {
          if (op != "monitor") return std::nullopt;
          opened = id;
          return json::object();
        },
        .close =
            [&](uint64_t) {
              if (!stopping.exchange(true)) ::kill(::getpid(), SIGTERM);  // ends run()
            },
        .fd = [] { return -1; },
        .on_readable = [] {},
    });
    std::thread monitor([&] {
      int fd = connect_to(path);
      if (fd < 0) return;
      timeval two_s{.tv_sec = 2, .tv_usec = 0};  // a lost line fails, not hangs
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_s, sizeof(two_s));
      const std::string req = "{\"op\":\"monitor\"}\n";
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      stream_saw = read_lines(fd, 2);
      ::close(fd);
    });
    std::thread request([&] {
      while (opened == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      int fd = connect_to(path);
      if (fd < 0) return;
      const std::string req = "{\"op\":\"purge\"}\n";
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      request_saw = read_lines(fd, 1);
      ::close(fd);
    });
    server.run(
        [&](const std::string& op, const json& args) {
          if (op == "purge") server.send(opened, R"({"flow":"end"})");
          return echo(op, args);
        },
        [] {}, /*tick_ms=*/300);
    monitor.join();
    request.join();
  }
  const timespec now{};
  while (::sigtimedwait(&mask, nullptr, &now) == SIGTERM) {
  }  // one the server did not take
  sigprocmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(request_saw, "{\"ok\":true,\"result\":{\"args\":{},\"op\":\"purge\"}}\n");
  EXPECT_EQ(stream_saw, "{\"ok\":true,\"result\":{}}\n{\"flow\":\"end\"}\n");
}

}  // namespace
}  // namespace bpfnet::daemon
