#include "core/names.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;

TEST(NamesTest, RestrictedNamePattern) {
  for (const char* good : {"a", "web", "Web_1", "a.b-c", "9lives"}) {
    EXPECT_TRUE(is_restricted_name(good)) << good;
  }
  for (const char* bad : {"", "_a", ".a", "-a", "a b", "a/b", "a:b", "é"}) {
    EXPECT_FALSE(is_restricted_name(bad)) << bad;
  }
}

TEST(NamesTest, ErrorsNameTheValue) {
  EXPECT_EQ(error_of([] { validate_network_name("-net"); }),
            "invalid network name (-net), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  EXPECT_EQ(error_of([] { validate_network_name(""); }), "network name must not be empty");
  EXPECT_EQ(error_of([] { validate_container_name("a/b"); }),
            "Invalid container name (a/b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  EXPECT_EQ(error_of([] { validate_container_name(""); }), "container name must not be empty");
}

TEST(NamesTest, HexIdIsExactly64LowercaseHexDigits) {
  EXPECT_TRUE(is_hex_id(std::string(64, 'a')));
  EXPECT_FALSE(is_hex_id(std::string(63, 'a')));
  EXPECT_FALSE(is_hex_id(std::string(65, 'a')));
  EXPECT_FALSE(is_hex_id(std::string(64, 'A')));
  EXPECT_FALSE(is_hex_id(std::string(63, 'a') + "g"));
}

TEST(NamesTest, IfnameFollowsKernelRules) {
  EXPECT_TRUE(is_valid_ifname("eth0"));
  EXPECT_TRUE(is_valid_ifname("bn-0123456789ab"));  // 15 bytes: the maximum
  EXPECT_FALSE(is_valid_ifname("bn-0123456789abc"));
  EXPECT_FALSE(is_valid_ifname(""));
  EXPECT_FALSE(is_valid_ifname("a/b"));
  EXPECT_FALSE(is_valid_ifname("a b"));
  EXPECT_FALSE(is_valid_ifname("eth0:1"));
  EXPECT_FALSE(is_valid_ifname(".."));
}

}  // namespace
}  // namespace bpfnet::core
