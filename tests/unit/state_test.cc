#include "core/state.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::attach;
using testing::bridge;
using testing::error_of;
using testing::FakeIds;
using testing::fresh_state;
using testing::hex_id;
using testing::kNow;

TEST(StateTest, InitialStateHoldsOnlyTheBuiltinNetworks) {
  FakeIds ids;
  State state = initial_state(ids, kNow);
  EXPECT_EQ(state.version, 1);
  ASSERT_EQ(state.networks.size(), 2u);
  EXPECT_TRUE(state.endpoints.empty());

  const Network& host = state.networks[0];
  EXPECT_EQ(host.name, "host");
  EXPECT_EQ(host.driver, "host");
  const Network& none = state.networks[1];
  EXPECT_EQ(none.name, "none");
  EXPECT_EQ(none.driver, "null");
  for (const Network& builtin : state.networks) {
    EXPECT_TRUE(builtin.builtin);
    EXPECT_FALSE(builtin.subnet.has_value());
    EXPECT_EQ(builtin.index, 0u);
    EXPECT_EQ(builtin.created, kNow);
    EXPECT_TRUE(is_hex_id(builtin.id)) << builtin.id;
  }
  EXPECT_NE(host.id, none.id);
  EXPECT_NO_THROW(validate_state(state));
}

class StateLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ids = FakeIds({hex_id("aaa1"), hex_id("aaa2"), hex_id("abc1"), hex_id("abd2")});
    state = fresh_state(ids);
    create_network(state, bridge("front"), {}, ids, kNow);
    create_network(state, bridge("back"), {}, ids, kNow);
  }

  FakeIds ids;
  State state;
};

TEST_F(StateLookupTest, FindsByNameFullIdAndUniquePrefix) {
  EXPECT_EQ(state.network_by_name("front")->id, hex_id("abc1"));
  EXPECT_EQ(state.network_by_name("nope"), nullptr);
  EXPECT_EQ(state.network_by_id(hex_id("abd2"))->name, "back");
  EXPECT_EQ(state.network_by_id("abd2"), nullptr);  // a prefix is not an ID
  EXPECT_EQ(state.network_by_id_prefix("abd")->name, "back");
  EXPECT_EQ(state.network_by_id_prefix("fff"), nullptr);
  EXPECT_EQ(state.network_by_id_prefix(""), nullptr);

  EXPECT_EQ(state.find_network("front")->name, "front");
  EXPECT_EQ(state.find_network(hex_id("abc1"))->name, "front");
  EXPECT_EQ(state.find_network("abc")->name, "front");
  EXPECT_EQ(state.find_network("zzz"), nullptr);
}

TEST_F(StateLookupTest, AmbiguousPrefixIsAnError) {
  EXPECT_EQ(error_of([&] { state.network_by_id_prefix("ab"); }),
            "network ab is ambiguous (2 matches found based on ID prefix)");
  EXPECT_EQ(error_of([&] { state.find_network("a"); }),
            "network a is ambiguous (4 matches found based on ID prefix)");
}

TEST_F(StateLookupTest, NameWinsOverIdPrefixAndFullIdWinsOverName) {
  // A network named like another network's ID prefix is found by name first.
  create_network(state, bridge("abd"), {}, ids, kNow);
  EXPECT_EQ(state.find_network("abd")->name, "abd");
  // A network literally named after another's full ID: the ID wins (Docker).
  create_network(state, bridge(hex_id("abc1")), {}, ids, kNow);
  EXPECT_EQ(state.find_network(hex_id("abc1"))->name, "front");
}

TEST_F(StateLookupTest, GetNetworkThrowsNotFound) {
  EXPECT_EQ(state.get_network("back").name, "back");
  EXPECT_EQ(error_of([&] { state.get_network("missing"); }), "network missing not found");
}

TEST_F(StateLookupTest, EndpointLookups) {
  connect(state, attach("front", "web"), ids);
  connect(state, attach("back", "web"), ids);
  connect(state, attach("back", "db"), ids);
  const std::string back_id = state.network_by_name("back")->id;
  auto on_back = state.endpoints_of_network(back_id);
  ASSERT_EQ(on_back.size(), 2u);
  EXPECT_EQ(on_back[0]->container, "web");
  EXPECT_EQ(on_back[1]->container, "db");
  auto of_web = state.endpoints_of_container("web");
  ASSERT_EQ(of_web.size(), 2u);
  EXPECT_EQ(of_web[0]->ifname, "eth0");
  EXPECT_EQ(of_web[1]->ifname, "eth1");
  EXPECT_TRUE(state.endpoints_of_container("nobody").empty());
  EXPECT_EQ(state.endpoint(back_id, "db")->container, "db");
  EXPECT_EQ(state.endpoint(back_id, "nobody"), nullptr);
}

// A state with every kind of field set, for the JSON tests:
// networks [host, none, front, back], endpoints [web@front, web@back, db@back].
State rich_state(FakeIds& ids) {
  State state = fresh_state(ids);
  NetworkCreate front = bridge("front", "10.1.0.0/16");
  front.ip_range = "10.1.5.0/24";
  front.options = {{"com.docker.network.bridge.enable_icc", "false"}, {"custom", "kept"}};
  create_network(state, front, {}, ids, kNow);
  NetworkCreate back = bridge("back", "10.2.0.0/24");
  back.internal = true;
  back.gateway = "10.2.0.254";
  create_network(state, back, {}, ids, kNow);
  connect(state, attach("front", "web"), ids);
  connect(state, attach("back", "web", "10.2.0.10"), ids);
  ConnectRequest db = attach("back", "db");
  db.mac = "02:00:00:00:00:db";
  connect(state, db, ids);
  return state;
}

TEST(StateJsonTest, RoundTripsEveryField) {
  FakeIds ids;
  State state = rich_state(ids);
  nlohmann::json json = to_json(state);
  // Through text, as the daemon stores it.
  State loaded = state_from_json(nlohmann::json::parse(json.dump(2)));
  EXPECT_EQ(loaded, state);
  EXPECT_EQ(to_json(loaded), json);
}

TEST(StateJsonTest, WritesTheDocumentedFields) {
  FakeIds ids;
  nlohmann::json json = to_json(rich_state(ids));
  EXPECT_EQ(json["version"], 1);
  const nlohmann::json& front = json["networks"][2];
  EXPECT_EQ(front["name"], "front");
  EXPECT_EQ(front["driver"], "bridge");
  EXPECT_EQ(front["subnet"], "10.1.0.0/16");
  EXPECT_EQ(front["gateway"], "10.1.0.1");
  EXPECT_EQ(front["ip_range"], "10.1.5.0/24");
  EXPECT_EQ(front["internal"], false);
  EXPECT_EQ(front["options"]["custom"], "kept");
  EXPECT_EQ(front["index"], 1);
  EXPECT_EQ(front["builtin"], false);
  EXPECT_EQ(front["dummy_ifname"], "bn-" + front["id"].get<std::string>().substr(0, 12));
  const nlohmann::json& host = json["networks"][0];
  EXPECT_FALSE(host.contains("subnet"));
  EXPECT_FALSE(host.contains("gateway"));
  const nlohmann::json& db = json["endpoints"][2];
  EXPECT_EQ(db["container"], "db");
  EXPECT_EQ(db["ip"], "10.2.0.1");
  EXPECT_EQ(db["mac"], "02:00:00:00:00:db");
  EXPECT_EQ(db["netns"], "/var/run/netns/db");
  EXPECT_EQ(db["ifname"], "eth0");
}

// One corruption of a valid state file and the error it must produce.
struct BadState {
  std::string pointer;   // JSON pointer of the field to change
  nlohmann::json value;  // new value; discarded() removes the field
  std::string message;
};

// Keeps gtest from printing the parameter as raw bytes.
void PrintTo(const BadState& bad, std::ostream* out) {
  *out << bad.pointer << " = " << bad.value.dump();
}

class StateJsonRejectsTest : public ::testing::TestWithParam<BadState> {};

TEST_P(StateJsonRejectsTest, NamesTheBadField) {
  FakeIds ids;
  nlohmann::json json = to_json(rich_state(ids));
  const BadState& bad = GetParam();
  nlohmann::json::json_pointer pointer(bad.pointer);
  if (bad.value.is_discarded()) {
    json[pointer.parent_pointer()].erase(pointer.back());
  } else {
    json[pointer] = bad.value;
  }
  EXPECT_EQ(error_of([&] { state_from_json(json); }), bad.message);
}

const nlohmann::json kRemove = nlohmann::json(nlohmann::json::value_t::discarded);

INSTANTIATE_TEST_SUITE_P(
    Fields, StateJsonRejectsTest,
    ::testing::Values(
        BadState{"/version", 2,
                 "state: version: unsupported version 2 (this build reads version 1)"},
        BadState{"/version", "1", "state: version: expected an integer"},
        BadState{"/version", kRemove, "state: version: missing (expected an integer)"},
        BadState{"/extra", true, "state: extra: unknown field"},
        BadState{"/networks", nlohmann::json::object(), "state: networks: expected an array"},
        BadState{"/endpoints", kRemove, "state: endpoints: missing (expected an array)"},
        BadState{"/networks/2", "front", "state: networks[2]: expected an object, got a string"},
        BadState{"/networks/2/subnet", "10.0.0/8",
                 "state: networks[2].subnet: invalid CIDR \"10.0.0/8\""},
        BadState{"/networks/2/subnet", "10.1.0.5/16",
                 "state: networks[2].subnet: invalid subnet 10.1.0.5/16 : it should be "
                 "10.1.0.0/16"},
        BadState{"/networks/2/subnet", kRemove,
                 "state: networks[2].subnet: missing (every bridge network has a subnet)"},
        BadState{"/networks/2/gateway", "10.1.0.256",
                 "state: networks[2].gateway: invalid IPv4 address \"10.1.0.256\""},
        BadState{"/networks/2/gateway", "10.9.0.1",
                 "state: networks[2].gateway: 10.9.0.1 is not a host address of 10.1.0.0/16"},
        BadState{"/networks/2/gateway", "10.1.255.255",
                 "state: networks[2].gateway: 10.1.255.255 is not a host address of 10.1.0.0/16"},
        BadState{"/networks/2/ip_range", "10.9.0.0/24",
                 "state: networks[2].ip_range: 10.9.0.0/24 is not inside the subnet 10.1.0.0/16"},
        BadState{"/networks/2/name", 5, "state: networks[2].name: expected a string"},
        BadState{"/networks/2/name", "-front",
                 "state: networks[2].name: invalid network name \"-front\""},
        BadState{"/networks/2/name", "back",
                 "state: networks[3].name: duplicate network name \"back\""},
        BadState{"/networks/2/id", "abc",
                 "state: networks[2].id: \"abc\" is not 64 lowercase hex digits"},
        BadState{"/networks/2/driver", "macvlan",
                 "state: networks[2].driver: unsupported driver \"macvlan\""},
        BadState{"/networks/2/internal", "no", "state: networks[2].internal: expected a boolean"},
        BadState{"/networks/2/internal", kRemove,
                 "state: networks[2].internal: missing (expected a boolean)"},
        BadState{"/networks/2/created", "", "state: networks[2].created: must not be empty"},
        BadState{"/networks/2/options/com.docker.network.bridge.enable_icc", "maybe",
                 "state: networks[2].options: invalid value \"maybe\" for option "
                 "com.docker.network.bridge.enable_icc: expected a boolean (true or false)"},
        BadState{"/networks/2/options/custom", 1,
                 "state: networks[2].options.custom: expected a string"},
        BadState{"/networks/2/index", 0, "state: networks[2].index: 0 is outside 1..4095"},
        BadState{"/networks/2/index", 4096, "state: networks[2].index: 4096 is outside 1..4095"},
        BadState{"/networks/2/index", -1,
                 "state: networks[2].index: expected a non-negative integer"},
        BadState{"/networks/2/index", 1.5,
                 "state: networks[2].index: expected a non-negative integer"},
        BadState{"/networks/3/index", 1, "state: networks[3].index: duplicate index 1"},
        BadState{"/networks/2/dummy_ifname", "bn-0123456789abcdef",
                 "state: networks[2].dummy_ifname: invalid interface name \"bn-0123456789abcdef\""},
        BadState{"/networks/3/subnet", "10.1.128.0/24",
                 "state: networks[3].gateway: 10.2.0.254 is not a host address of 10.1.128.0/24"},
        BadState{"/networks/3/subnet", "10.0.0.0/8",
                 "state: networks[3].subnet: 10.0.0.0/8 overlaps the subnet 10.1.0.0/16 of "
                 "network \"front\""},
        BadState{"/networks/2/colour", "red", "state: networks[2].colour: unknown field"},
        BadState{"/networks/0/subnet", "10.9.0.0/16",
                 "state: networks[0].subnet: a builtin network has no subnet"},
        BadState{"/networks/0/name", "hostile",
                 "state: networks[0].builtin: network \"hostile\" with driver \"host\" is not a "
                 "builtin network"},
        BadState{"/networks/1/builtin", false,
                 "state: networks[1].driver: unsupported driver \"null\""},
        BadState{"/endpoints/0/network_id", std::string(64, 'f'),
                 "state: endpoints[0].network_id: no network has the ID " + std::string(64, 'f')},
        BadState{"/endpoints/0/ip", "10.1.5.300",
                 "state: endpoints[0].ip: invalid IPv4 address \"10.1.5.300\""},
        BadState{"/endpoints/0/ip", "10.2.0.3",
                 "state: endpoints[0].ip: 10.2.0.3 is not an endpoint address of network "
                 "\"front\" (10.1.0.0/16)"},
        BadState{"/endpoints/0/ip", "10.1.0.1",
                 "state: endpoints[0].ip: 10.1.0.1 is not an endpoint address of network "
                 "\"front\" (10.1.0.0/16)"},
        BadState{"/endpoints/2/ip", "10.2.0.10",
                 "state: endpoints[2].ip: 10.2.0.10 is used twice in network \"back\""},
        BadState{"/endpoints/0/mac", "zz:00:00:00:00:00",
                 "state: endpoints[0].mac: invalid MAC address \"zz:00:00:00:00:00\""},
        BadState{"/endpoints/0/mac", "01:00:5e:00:00:01",
                 "state: endpoints[0].mac: 01:00:5e:00:00:01 is not a unicast address"},
        BadState{"/endpoints/2/mac", "02:42:0a:02:00:0a",
                 "state: endpoints[2].mac: 02:42:0a:02:00:0a is used twice in network \"back\""},
        BadState{"/endpoints/0/container", "bad name",
                 "state: endpoints[0].container: invalid container name \"bad name\""},
        BadState{"/endpoints/1/container_id", std::string(64, 'e'),
                 "state: endpoints[1].container_id: differs from the other endpoints of "
                 "container \"web\""},
        BadState{"/endpoints/1/netns", "/proc/1/ns/net",
                 "state: endpoints[1].netns: differs from the other endpoints of container "
                 "\"web\""},
        BadState{"/endpoints/2/container", "web",
                 "state: endpoints[2].container_id: differs from the other endpoints of "
                 "container \"web\""},
        BadState{"/endpoints/1/ifname", "eth0",
                 "state: endpoints[1].ifname: duplicate interface name \"eth0\" in container "
                 "\"web\""},
        BadState{"/endpoints/1/host_ifname", "",
                 "state: endpoints[1].host_ifname: invalid interface name \"\""},
        BadState{"/endpoints/0/netns", "", "state: endpoints[0].netns: must not be empty"},
        BadState{"/endpoints/0/id", "ABC",
                 "state: endpoints[0].id: \"ABC\" is not 64 lowercase hex digits"},
        BadState{"/endpoints/0/port", 80, "state: endpoints[0].port: unknown field"}));

TEST(StateJsonTest, RejectsDuplicateEndpointIdsAndInterfaceNames) {
  FakeIds ids;
  nlohmann::json json = to_json(rich_state(ids));
  nlohmann::json copy = json;
  copy["endpoints"][2]["id"] = copy["endpoints"][1]["id"];
  EXPECT_EQ(
      error_of([&] { state_from_json(copy); }),
      "state: endpoints[2].id: duplicate ID " + copy["endpoints"][1]["id"].get<std::string>());

  copy = json;
  copy["endpoints"][2]["host_ifname"] = copy["endpoints"][0]["host_ifname"];
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: endpoints[2].host_ifname: duplicate interface name \"" +
                copy["endpoints"][0]["host_ifname"].get<std::string>() + "\"");

  // A veth may not take the name of a network's dummy either.
  copy = json;
  copy["endpoints"][2]["host_ifname"] = copy["networks"][2]["dummy_ifname"];
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: endpoints[2].host_ifname: duplicate interface name \"" +
                copy["networks"][2]["dummy_ifname"].get<std::string>() + "\"");

  copy = json;
  copy["networks"][3]["id"] = copy["networks"][2]["id"];
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: networks[3].id: duplicate ID " + copy["networks"][2]["id"].get<std::string>());

  copy = json;
  copy["networks"][3]["dummy_ifname"] = copy["networks"][2]["dummy_ifname"];
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: networks[3].dummy_ifname: duplicate interface name \"" +
                copy["networks"][2]["dummy_ifname"].get<std::string>() + "\"");
}

TEST(StateJsonTest, RejectsStructuralProblems) {
  FakeIds ids;
  nlohmann::json json = to_json(rich_state(ids));
  EXPECT_EQ(error_of([] { state_from_json(nlohmann::json::array()); }),
            "state: expected an object, got an array");

  nlohmann::json copy = json;
  copy["networks"].erase(0);  // drop "host"
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: networks: the builtin network \"host\" is missing");

  copy = json;
  copy["endpoints"].push_back(copy["endpoints"][1]);
  copy["endpoints"][3]["id"] = std::string(64, 'c');
  copy["endpoints"][3]["host_ifname"] = "bnvcccccccccccc";
  copy["endpoints"][3]["ip"] = "10.2.0.11";
  copy["endpoints"][3]["mac"] = "02:00:00:00:00:11";
  copy["endpoints"][3]["ifname"] = "eth9";
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: endpoints[3].container: container \"web\" is connected to network \"back\" "
            "twice");

  copy = json;
  copy["endpoints"][0]["network_id"] = copy["networks"][1]["id"];
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: endpoints[0].network_id: the builtin network \"none\" has no endpoints");
}

TEST(StateJsonTest, ValidateStateChecksInMemoryStatesToo) {
  FakeIds ids;
  State state = rich_state(ids);
  EXPECT_NO_THROW(validate_state(state));
  state.networks[2].parsed.icc = true;  // out of sync with the -o map
  EXPECT_EQ(error_of([&] { validate_state(state); }),
            "state: networks[2].options: the parsed options do not match the -o map");
}

}  // namespace
}  // namespace bpfnet::core
