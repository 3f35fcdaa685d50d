// The nesting scan that runs before any request is parsed (daemon/json_depth.h).
#include "daemon/json_depth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

namespace bpfnet::daemon {
namespace {

std::string nested(size_t levels, const char* open = "[", const char* close = "]") {
  std::string out;
  for (size_t i = 0; i < levels; ++i) out += open;
  for (size_t i = 0; i < levels; ++i) out += close;
  return out;
}

size_t parsed_depth(const nlohmann::json& value) {
  if (!value.is_structured()) return 0;
  size_t deepest = 0;
  for (const auto& item : value) deepest = std::max(deepest, parsed_depth(item));
  return deepest + 1;
}

TEST(JsonDepth, ScalarsAndFlatValues) {
  EXPECT_EQ(json_nesting_depth(""), 0u);
  EXPECT_EQ(json_nesting_depth("42"), 0u);
  EXPECT_EQ(json_nesting_depth("\"text\""), 0u);
  EXPECT_EQ(json_nesting_depth("[]"), 1u);
  EXPECT_EQ(json_nesting_depth("{}"), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"op":"network.ls","args":{}})"), 2u);
  EXPECT_EQ(json_nesting_depth(R"([[1],[2,[3]],{"a":[{}]}])"), 4u);
}

TEST(JsonDepth, AgreesWithTheParserOnRealRequests) {
  const char* requests[] = {
      R"({"op":"network.create","args":{"name":"n1","options":{"a":"b"},"labels":{}}})",
      R"({"op":"service.create","args":{"name":"s","ports":["80/tcp"],"health":{"tcp":{}}}})",
      R"({"NetworkID":"x","Options":{"com.docker.network.generic":{"a":[{"b":{}}]}}})",
  };
  for (const char* text : requests)
    EXPECT_EQ(json_nesting_depth(text), parsed_depth(nlohmann::json::parse(text))) << text;
}

TEST(JsonDepth, BracketsInsideStringsAreNotNesting) {
  EXPECT_EQ(json_nesting_depth(R"(["[[[{{{", "]]]"])"), 1u);
  EXPECT_EQ(json_nesting_depth(R"(["a \" [[[ still a string"])"), 1u);
  EXPECT_EQ(json_nesting_depth(R"(["a \\", [[1]]])"), 3u) << "an escaped backslash ends no string";
  EXPECT_EQ(json_nesting_depth("[\"" + std::string(100000, '[') + "\"]"), 1u);
}

TEST(JsonDepth, StopsPastTheLimit) {
  EXPECT_EQ(json_nesting_depth(nested(kMaxJsonDepth)), kMaxJsonDepth);
  EXPECT_TRUE(json_depth_acceptable(nested(kMaxJsonDepth)));
  EXPECT_EQ(json_nesting_depth(nested(kMaxJsonDepth + 1)), kMaxJsonDepth + 1);
  EXPECT_FALSE(json_depth_acceptable(nested(kMaxJsonDepth + 1, "{\"a\":", "}")));
  // 520,000 levels, as in issue 12: refused without a parse (and quickly).
  EXPECT_EQ(json_nesting_depth(nested(520000), 10), 11u);
  EXPECT_FALSE(json_depth_acceptable(std::string(1 << 20, '[')));
  EXPECT_EQ(json_nesting_depth(std::string(5, '['), 10), 5u) << "unclosed";
}

TEST(JsonDepth, MalformedTextIsScannedWithoutHarm) {
  EXPECT_EQ(json_nesting_depth("]]]]"), 0u);
  EXPECT_EQ(json_nesting_depth("]][["), 2u);
  EXPECT_EQ(json_nesting_depth("\"unterminated [[["), 0u);
  EXPECT_EQ(json_nesting_depth("[\"\\"), 1u) << "a trailing backslash";
}

}  // namespace
}  // namespace bpfnet::daemon
