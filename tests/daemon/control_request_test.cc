// One control-socket request to its answer (daemon/server.h answer_request),
// as the server and the control-request fuzzer run it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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

}  // namespace
}  // namespace bpfnet::daemon
