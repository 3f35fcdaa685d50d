// One control-socket request to its answer (daemon/server.h answer_request),
// as the server and the control-request fuzzer run it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "daemon/server.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;

json echo(const std::string& op, const json& args) {
  if (op == "fail") throw core::UserError("refused: " + args.value("why", std::string()));
  return json{{"op", op}, {"args", args}};
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

}  // namespace
}  // namespace bpfnet::daemon
