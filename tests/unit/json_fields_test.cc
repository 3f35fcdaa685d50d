// core/json_fields.h: the readers the state file and the config file share,
// and the paths their errors name.
#include "core/json_fields.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;

TEST(JsonFieldsTest, PathsJoinFieldsAndItems) {
  EXPECT_EQ(join_path("", "subnet"), "subnet");
  EXPECT_EQ(join_path("networks[1]", "subnet"), "networks[1].subnet");
  EXPECT_EQ(item_path("networks", 1), "networks[1]");
  EXPECT_EQ(item_path("services[0].backends", 2), "services[0].backends[2]");
}

TEST(JsonFieldsTest, AtPathPutsTheErrorUnderThePath) {
  EXPECT_EQ(at_path("state", "networks[0].ip", [] { return 7; }), 7);
  EXPECT_EQ(error_of([] { at_path("state", "networks[0].ip", [] { Ipv4::parse("x"); }); }),
            "state: networks[0].ip: invalid IPv4 address \"x\"");
}

TEST(JsonFieldsTest, SizedUnsignedsRefuseWhatDoesNotFit) {
  nlohmann::json json = {
      {"port", 65535}, {"big", 65536}, {"index", 4294967295u}, {"huge", 4294967296u}};
  JsonFields fields(json, "state", "x");
  EXPECT_EQ(fields.required_uint16("port"), 65535u);
  EXPECT_EQ(fields.required_uint32("index"), 4294967295u);
  EXPECT_EQ(error_of([&] { fields.required_uint16("big"); }),
            "state: x.big: 65536 is out of range");
  EXPECT_EQ(error_of([&] { fields.required_uint32("huge"); }),
            "state: x.huge: 4294967296 is out of range");
  EXPECT_EQ(error_of([&] { fields.required_uint16("none"); }),
            "state: x.none: missing (expected a non-negative integer)");
}

TEST(JsonFieldsTest, ItemsAreReadWithTheirPaths) {
  nlohmann::json json = {{"list", {"a", "b"}}, {"one", 1}};
  JsonFields fields(json, "config", "");
  auto read = [](const nlohmann::json& item, const std::string& path) {
    return path + "=" + item.get<std::string>();
  };
  EXPECT_EQ(fields.optional_items("list", read),
            (std::vector<std::string>{"list[0]=a", "list[1]=b"}));
  EXPECT_TRUE(fields.optional_items("absent", read).empty());
  EXPECT_EQ(error_of([&] { fields.required_items("missing", read); }),
            "config: missing: missing (expected an array)");
  EXPECT_EQ(error_of([&] { fields.required_items("one", read); }),
            "config: one: expected an array");
}

struct Pair {
  std::string name;
  uint32_t count = 0;
};

TEST(JsonFieldsTest, ReadObjectRefusesKeysTheReaderDoesNotKnow) {
  auto read = [](JsonFields& fields, Pair& pair) {
    pair.name = fields.required_string("name");
    pair.count = fields.required_uint32("count");
  };
  Pair pair = read_object<Pair>(nlohmann::json{{"name", "a"}, {"count", 2}}, "config", "p", read);
  EXPECT_EQ(pair.name, "a");
  EXPECT_EQ(pair.count, 2u);
  EXPECT_EQ(error_of([&] {
              read_object<Pair>(nlohmann::json{{"name", "a"}, {"count", 2}, {"cuont", 3}}, "config",
                                "p", read);
            }),
            "config: p.cuont: unknown field");
  EXPECT_EQ(error_of([&] { read_object<Pair>(nlohmann::json::array(), "config", "p", read); }),
            "config: p: expected an object, got an array");
}

}  // namespace
}  // namespace bpfnet::core
