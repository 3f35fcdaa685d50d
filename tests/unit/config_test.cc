#include "core/config.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;
using testing::expect_error_and_unchanged;
using testing::FakeIds;
using testing::fresh_state;
using testing::ip;
using testing::kNow;

const char* kExample = R"({
  "networks": [
    {"name": "front", "subnet": "10.1.0.0/24", "options": {"com.docker.network.driver.mtu": "1400"}},
    {"name": "back", "driver": "bridge", "subnet": "10.2.0.0/24", "gateway": "10.2.0.254",
     "ip_range": "10.2.0.0/25", "internal": true},
    {"name": "auto"}
  ],
  "containers": [
    {"name": "web", "netns": "/var/run/netns/web", "networks": ["front", {"name": "back", "ip": "10.2.0.2"}]},
    {"name": "db", "netns": "db", "networks": [{"name": "back", "mac": "02:00:00:00:00:db"}]}
  ]
})";

TEST(ParseConfigTest, ReadsEveryField) {
  Config config = parse_config(nlohmann::json::parse(kExample));
  ASSERT_EQ(config.networks.size(), 3u);
  const NetworkCreate& front = config.networks[0];
  EXPECT_EQ(front.name, "front");
  EXPECT_EQ(front.driver, "bridge");
  EXPECT_EQ(front.subnet, "10.1.0.0/24");
  EXPECT_FALSE(front.gateway.has_value());
  EXPECT_EQ(front.options.at("com.docker.network.driver.mtu"), "1400");
  const NetworkCreate& back = config.networks[1];
  EXPECT_EQ(back.gateway, "10.2.0.254");
  EXPECT_EQ(back.ip_range, "10.2.0.0/25");
  EXPECT_TRUE(back.internal);
  EXPECT_FALSE(config.networks[2].subnet.has_value());
  EXPECT_FALSE(config.networks[2].internal);

  ASSERT_EQ(config.containers.size(), 2u);
  const ConfigContainer& web = config.containers[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.netns, "/var/run/netns/web");
  ASSERT_EQ(web.networks.size(), 2u);
  EXPECT_EQ(web.networks[0].network, "front");
  EXPECT_FALSE(web.networks[0].ip.has_value());
  EXPECT_EQ(web.networks[1].network, "back");
  EXPECT_EQ(web.networks[1].ip, "10.2.0.2");
  EXPECT_EQ(config.containers[1].networks[0].mac, "02:00:00:00:00:db");
}

TEST(ParseConfigTest, EverySectionIsOptional) {
  Config config = parse_config(nlohmann::json::object());
  EXPECT_TRUE(config.networks.empty());
  EXPECT_TRUE(config.containers.empty());
  config = parse_config(nlohmann::json::parse(R"({"containers": [{"name": "c", "netns": "n"}]})"));
  EXPECT_TRUE(config.containers[0].networks.empty());
}

struct BadConfig {
  const char* json;
  const char* message;
};

void PrintTo(const BadConfig& bad, std::ostream* out) { *out << bad.json; }

class ParseConfigRejectsTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ParseConfigRejectsTest, NamesThePath) {
  EXPECT_EQ(error_of([] { parse_config(nlohmann::json::parse(GetParam().json)); }),
            GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ParseConfigRejectsTest,
    ::testing::Values(
        BadConfig{"[]", "config: expected an object, got an array"},
        BadConfig{R"({"network": []})", "config: network: unknown field"},
        BadConfig{R"({"networks": {}})", "config: networks: expected an array"},
        BadConfig{R"({"networks": ["front"]})",
                  "config: networks[0]: expected an object, got a string"},
        BadConfig{R"({"networks": [{}]})", "config: networks[0].name: missing (expected a string)"},
        BadConfig{R"({"networks": [{"name": 1}]})", "config: networks[0].name: expected a string"},
        BadConfig{R"({"networks": [{"name": "a", "subent": "10.0.0.0/8"}]})",
                  "config: networks[0].subent: unknown field"},
        BadConfig{R"({"networks": [{"name": "a", "internal": "yes"}]})",
                  "config: networks[0].internal: expected a boolean"},
        BadConfig{R"({"networks": [{"name": "a", "subnet": null}]})",
                  "config: networks[0].subnet: expected a string"},
        BadConfig{R"({"networks": [{"name": "a", "options": []}]})",
                  "config: networks[0].options: expected an object of strings"},
        BadConfig{
            R"({"networks": [{"name": "a", "options": {"com.docker.network.driver.mtu": 1400}}]})",
            "config: networks[0].options.com.docker.network.driver.mtu: expected a string"},
        BadConfig{R"({"networks": [{"name": "a"}, {"name": "a"}]})",
                  "config: networks[1].name: network \"a\" is defined twice"},
        BadConfig{R"({"containers": [{"netns": "n"}]})",
                  "config: containers[0].name: missing (expected a string)"},
        BadConfig{R"({"containers": [{"name": "c"}]})",
                  "config: containers[0].netns: missing (expected a string)"},
        BadConfig{R"({"containers": [{"name": "c", "netns": "n", "networks": "front"}]})",
                  "config: containers[0].networks: expected an array"},
        BadConfig{R"({"containers": [{"name": "c", "netns": "n", "networks": ["a", 7]}]})",
                  "config: containers[0].networks[1]: expected a network name or an object, got a "
                  "number"},
        BadConfig{
            R"({"containers": [{"name": "c", "netns": "n", "networks": ["a", {"name": "b", "ip": 5}]}]})",
            "config: containers[0].networks[1].ip: expected a string"},
        BadConfig{
            R"({"containers": [{"name": "c", "netns": "n", "networks": [{"ip": "10.0.0.2"}]}]})",
            "config: containers[0].networks[0].name: missing (expected a string)"},
        BadConfig{
            R"({"containers": [{"name": "c", "netns": "n", "networks": [{"name": "a", "alias": "x"}]}]})",
            "config: containers[0].networks[0].alias: unknown field"},
        BadConfig{
            R"({"containers": [{"name": "c", "netns": "n", "networks": ["a", {"name": "a"}]}]})",
            "config: containers[0].networks[1]: network \"a\" is listed twice"},
        BadConfig{R"({"containers": [{"name": "c", "netns": "n"}, {"name": "c", "netns": "m"}]})",
                  "config: containers[1].name: container \"c\" is defined twice"},
        BadConfig{R"({"containers": [{"name": "c", "netns": "n", "port": []}]})",
                  "config: containers[0].port: unknown field"},
        BadConfig{R"({"uplink": ["eth0"]})", "config: uplink: unknown field"}));

class ApplyConfigTest : public ::testing::Test {
 protected:
  void apply(const std::string& json, const std::vector<Cidr>& routes = {}) {
    apply_config(state, parse_config(nlohmann::json::parse(json)), routes, ports, ids, kNow);
  }
  void expect_apply_fails(const std::string& json, const std::string& message) {
    Config config = parse_config(nlohmann::json::parse(json));
    expect_error_and_unchanged(
        state, [&](State& s) { apply_config(s, config, {}, ports, ids, kNow); }, message);
  }
  const Endpoint& endpoint(const std::string& network, const std::string& container) {
    const Endpoint* found = state.endpoint(state.get_network(network).id, container);
    EXPECT_NE(found, nullptr) << container << " on " << network;
    return *found;
  }

  FakeIds ids;
  State state = fresh_state(ids);
  PortEnvironment ports;
};

TEST_F(ApplyConfigTest, CreatesNetworksAndConnectsContainers) {
  apply(kExample);
  EXPECT_EQ(state.networks.size(), 5u);
  EXPECT_EQ(state.get_network("front").parsed.mtu, 1400u);
  EXPECT_EQ(state.get_network("back").gateway, ip("10.2.0.254"));
  EXPECT_EQ(state.get_network("auto").subnet->to_string(), "172.17.0.0/16");
  EXPECT_EQ(endpoint("front", "web").ip, ip("10.1.0.2"));
  EXPECT_EQ(endpoint("back", "web").ip, ip("10.2.0.2"));
  EXPECT_EQ(endpoint("back", "web").ifname, "eth1");
  EXPECT_EQ(endpoint("back", "db").mac.to_string(), "02:00:00:00:00:db");
  EXPECT_EQ(endpoint("back", "db").netns, "db");
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ApplyConfigTest, UsesHostRoutesForAutomaticSubnets) {
  apply(R"({"networks": [{"name": "auto"}]})", {testing::cidr("172.17.0.0/16")});
  EXPECT_EQ(state.get_network("auto").subnet->to_string(), "172.18.0.0/16");
}

TEST_F(ApplyConfigTest, IsIdempotent) {
  apply(kExample);
  nlohmann::json once = to_json(state);
  int draws = ids.calls();
  apply(kExample);
  EXPECT_EQ(to_json(state), once);
  EXPECT_EQ(ids.calls(), draws) << "a second apply created something";
}

TEST_F(ApplyConfigTest, KeepsWhatIsOutsideTheConfig) {
  create_network(state, testing::bridge("manual", "10.9.0.0/24"), {}, ids, kNow);
  connect(state, testing::attach("manual", "web"), ids);
  apply(R"({"containers": [{"name": "web", "netns": "/var/run/netns/web", "networks": []}]})");
  EXPECT_NE(state.network_by_name("manual"), nullptr);
  EXPECT_EQ(state.endpoints.size(), 1u);
}

TEST_F(ApplyConfigTest, ExistingNetworkMustMatchExplicitSettings) {
  apply(kExample);
  expect_apply_fails(R"({"networks": [{"name": "front", "subnet": "10.7.0.0/24"}]})",
                     "config: networks[0] (front): network front already exists with subnet "
                     "10.1.0.0/24, not 10.7.0.0/24");
  expect_apply_fails(
      R"({"networks": [{"name": "back", "subnet": "10.2.0.0/24", "gateway": "10.2.0.1"}]})",
      "config: networks[0] (back): network back already exists with gateway "
      "10.2.0.254, not 10.2.0.1");
  expect_apply_fails(R"({"networks": [{"name": "front", "ip_range": "10.1.0.0/25"}]})",
                     "config: networks[0] (front): network front already exists with ip-range "
                     "(none), not 10.1.0.0/25");
  expect_apply_fails(R"({"networks": [{"name": "auto", "internal": true}]})",
                     "config: networks[0] (auto): network auto already exists with internal "
                     "false, not true");
  expect_apply_fails(R"({"networks": [{"name": "auto", "options": {"a": "b"}}]})",
                     "config: networks[0] (auto): network auto already exists with options {}, "
                     "not {\"a\":\"b\"}");
  expect_apply_fails(R"({"networks": [{"name": "host"}]})",
                     "config: networks[0] (host): network host already exists with driver host, "
                     "not bridge");
  expect_apply_fails(R"({"networks": [{"name": "front", "subnet": "10.1.0/24"}]})",
                     "config: networks[0] (front): invalid subnet 10.1.0/24: invalid CIDR block "
                     "notation");
  // Settings the config leaves out are not compared: "auto" keeps its subnet.
  EXPECT_NO_THROW(apply(R"({"networks": [{"name": "auto"}]})"));
}

TEST_F(ApplyConfigTest, ExistingEndpointMustMatchExplicitSettings) {
  apply(kExample);
  expect_apply_fails(
      R"({"containers": [{"name": "web", "netns": "/var/run/netns/web", "networks": [{"name": "back", "ip": "10.2.0.3"}]}]})",
      "config: containers[0].networks[0] (web on back): container web is already connected to "
      "network back with IP 10.2.0.2, not 10.2.0.3");
  expect_apply_fails(
      R"({"containers": [{"name": "db", "netns": "db", "networks": [{"name": "back", "mac": "02:00:00:00:00:01"}]}]})",
      "config: containers[0].networks[0] (db on back): container db is already connected to "
      "network back with MAC 02:00:00:00:00:db, not 02:00:00:00:00:01");
  expect_apply_fails(
      R"({"containers": [{"name": "db", "netns": "other", "networks": ["back"]}]})",
      "config: containers[0].networks[0] (db on back): container db is already attached to netns "
      "db, not other");
}

TEST_F(ApplyConfigTest, EngineErrorsNameTheEntry) {
  expect_apply_fails(R"({"networks": [{"name": "ok"}, {"name": "bad", "subnet": "10.0.0.1/8"}]})",
                     "config: networks[1] (bad): invalid subnet 10.0.0.1/8 : it should be "
                     "10.0.0.0/8");
  expect_apply_fails(
      R"({"networks": [{"name": "ok"}], "containers": [{"name": "c", "netns": "n", "networks": ["ok", "missing"]}]})",
      "config: containers[0].networks[1] (c on missing): network missing not found");
  expect_apply_fails(
      R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}], "containers": [{"name": "c", "netns": "n", "networks": [{"name": "n", "ip": "10.0.1.2"}]}]})",
      "config: containers[0].networks[0] (c on n): Invalid address 10.0.1.2: It does not belong "
      "to any of this network's subnets");
}

TEST_F(ApplyConfigTest, IsAllOrNothing) {
  // The first network and the first container are fine; the last entry is
  // not, so nothing at all may be applied.
  expect_apply_fails(
      R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
          "containers": [{"name": "a", "netns": "a", "networks": ["n"]},
                         {"name": "b", "netns": "b", "networks": [{"name": "n", "ip": "10.0.0.1"}]}]})",
      "config: containers[1].networks[0] (b on n): Address already in use: 10.0.0.1 is the "
      "gateway of network n");
  EXPECT_EQ(state.network_by_name("n"), nullptr);
}

TEST_F(ApplyConfigTest, StaticAddressesOfLaterContainersAreReserved) {
  apply(R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
            "containers": [{"name": "a", "netns": "a", "networks": ["n"]},
                           {"name": "b", "netns": "b", "networks": [{"name": "n", "ip": "10.0.0.2"}]}]})");
  EXPECT_EQ(endpoint("n", "a").ip, ip("10.0.0.3"));
  EXPECT_EQ(endpoint("n", "b").ip, ip("10.0.0.2"));
}

}  // namespace
}  // namespace bpfnet::core
