#include "core/options.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;

TEST(OptionsTest, DefaultsAreDockers) {
  NetworkOptions options = parse_network_options({});
  EXPECT_TRUE(options.icc);
  EXPECT_TRUE(options.masquerade);
  EXPECT_EQ(options.host_binding_ipv4.to_string(), "0.0.0.0");
  EXPECT_EQ(options.mtu, 0u);
  EXPECT_EQ(options.effective_mtu(), 1500u);
}

TEST(OptionsTest, ParsesEveryKnownKey) {
  NetworkOptions options = parse_network_options({
      {"com.docker.network.bridge.enable_icc", "false"},
      {"com.docker.network.bridge.enable_ip_masquerade", "0"},
      {"com.docker.network.bridge.host_binding_ipv4", "127.0.0.1"},
      {"com.docker.network.driver.mtu", "1400"},
  });
  EXPECT_FALSE(options.icc);
  EXPECT_FALSE(options.masquerade);
  EXPECT_EQ(options.host_binding_ipv4.to_string(), "127.0.0.1");
  EXPECT_EQ(options.mtu, 1400u);
  EXPECT_EQ(options.effective_mtu(), 1400u);
}

TEST(OptionsTest, BooleansFollowGoParseBool) {
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    EXPECT_EQ(parse_go_bool(yes), true) << yes;
  }
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) {
    EXPECT_EQ(parse_go_bool(no), false) << no;
  }
  for (const char* neither : {"", "yes", "no", "tRUE", "2", " true", "on"}) {
    EXPECT_FALSE(parse_go_bool(neither).has_value()) << neither;
  }
}

TEST(OptionsTest, BadValuesNameTheKeyAndTheValue) {
  EXPECT_EQ(error_of([] {
              parse_network_options({{"com.docker.network.bridge.enable_icc", "yes"}});
            }),
            "invalid value \"yes\" for option com.docker.network.bridge.enable_icc: expected a "
            "boolean (true or false)");
  EXPECT_EQ(error_of([] {
              parse_network_options({{"com.docker.network.bridge.enable_ip_masquerade", "on"}});
            }),
            "invalid value \"on\" for option com.docker.network.bridge.enable_ip_masquerade: "
            "expected a boolean (true or false)");
  EXPECT_EQ(error_of([] {
              parse_network_options({{"com.docker.network.bridge.host_binding_ipv4", "::1"}});
            }),
            "invalid value \"::1\" for option com.docker.network.bridge.host_binding_ipv4: "
            "expected an IPv4 address");
}

TEST(OptionsTest, MtuMustBeZeroOrBetween68And65535) {
  auto mtu = [](const char* value) {
    return parse_network_options({{"com.docker.network.driver.mtu", value}}).mtu;
  };
  EXPECT_EQ(mtu("0"), 0u);
  EXPECT_EQ(mtu("68"), 68u);
  EXPECT_EQ(mtu("65535"), 65535u);
  for (const char* bad : {"67", "65536", "-1", "", "15OO", "1500 ", "99999999999"}) {
    EXPECT_EQ(error_of([&] { mtu(bad); }),
              fmt::format("invalid value \"{}\" for option com.docker.network.driver.mtu: expected "
                          "an MTU between 68 and 65535 (or 0 for the default)",
                          bad))
        << bad;
  }
}

TEST(OptionsTest, UnknownKeysAreAcceptedAndNotInterpreted) {
  NetworkOptions options =
      parse_network_options({{"com.docker.network.bridge.name", "not a bool"}, {"foo", "bar"}});
  EXPECT_EQ(options, NetworkOptions{});
}

TEST(KeyValueTest, SplitsAtTheFirstEquals) {
  EXPECT_EQ(parse_key_value("a=b"), (std::pair<std::string, std::string>{"a", "b"}));
  EXPECT_EQ(parse_key_value("a="), (std::pair<std::string, std::string>{"a", ""}));
  EXPECT_EQ(parse_key_value("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
}

TEST(KeyValueTest, RejectsMissingEqualsOrKey) {
  EXPECT_EQ(error_of([] { parse_key_value("com.docker.network.driver.mtu"); }),
            "invalid option \"com.docker.network.driver.mtu\": expected KEY=VALUE");
  EXPECT_EQ(error_of([] { parse_key_value("=1"); }), "invalid option \"=1\": expected KEY=VALUE");
}

TEST(KeyValueTest, RepeatedKeysKeepTheLastValue) {
  auto options = parse_key_values({"a=1", "b=2", "a=3"});
  EXPECT_EQ(options, (std::map<std::string, std::string>{{"a", "3"}, {"b", "2"}}));
}

}  // namespace
}  // namespace bpfnet::core
