#include "core/inspect.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::attach;
using testing::bridge;
using testing::FakeIds;
using testing::fresh_state;
using testing::kNow;

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NetworkCreate request = bridge("front", "10.1.0.0/16");
    request.ip_range = "10.1.4.0/24";
    request.internal = true;
    request.options = {{"com.docker.network.bridge.enable_icc", "false"}};
    create_network(state, request, {}, ids, kNow);
    connect(state, attach("front", "web"), ids);
  }

  FakeIds ids;
  State state = fresh_state(ids);
};

TEST_F(InspectTest, BridgeNetworkHasDockersShape) {
  const Network& network = state.get_network("front");
  const Endpoint& web = state.endpoints[0];
  nlohmann::json expected = {
      {"Name", "front"},
      {"Id", network.id},
      {"Created", kNow},
      {"Scope", "local"},
      {"Driver", "bridge"},
      {"EnableIPv4", true},
      {"EnableIPv6", false},
      {"IPAM",
       {{"Driver", "default"},
        {"Options", nlohmann::json::object()},
        {"Config",
         {{{"Subnet", "10.1.0.0/16"}, {"IPRange", "10.1.4.0/24"}, {"Gateway", "10.1.0.1"}}}}}},
      {"Internal", true},
      {"Attachable", false},
      {"Ingress", false},
      {"ConfigFrom", {{"Network", ""}}},
      {"ConfigOnly", false},
      {"Containers",
       {{web.container_id,
         {{"Name", "web"},
          {"EndpointID", web.id},
          {"MacAddress", "02:42:0a:01:04:00"},
          {"IPv4Address", "10.1.4.0/16"},
          {"IPv6Address", ""}}}}},
      {"Options", {{"com.docker.network.bridge.enable_icc", "false"}}},
      {"Labels", nlohmann::json::object()},
  };
  EXPECT_EQ(network_inspect(state, network), expected);
}

TEST_F(InspectTest, IpRangeIsOmittedWhenUnset) {
  create_network(state, bridge("plain", "10.2.0.0/24"), {}, ids, kNow);
  nlohmann::json json = network_inspect(state, state.get_network("plain"));
  EXPECT_EQ(json["IPAM"]["Config"],
            nlohmann::json::parse(R"([{"Subnet": "10.2.0.0/24", "Gateway": "10.2.0.1"}])"));
  EXPECT_EQ(json["Containers"], nlohmann::json::object());
  EXPECT_EQ(json["Options"], nlohmann::json::object());
  EXPECT_EQ(json["Internal"], false);
}

TEST_F(InspectTest, BuiltinNetworksHaveNoIpamConfig) {
  nlohmann::json host = network_inspect(state, state.get_network("host"));
  EXPECT_EQ(host["Driver"], "host");
  EXPECT_EQ(host["IPAM"]["Config"], nlohmann::json::array());
  nlohmann::json none = network_inspect(state, state.get_network("none"));
  EXPECT_EQ(none["Driver"], "null");
  EXPECT_EQ(none["Containers"], nlohmann::json::object());
}

TEST_F(InspectTest, EndpointJsonIsTheConnectResult) {
  const Endpoint& web = state.endpoints[0];
  nlohmann::json expected = {
      {"container", "web"},    {"network", "front"}, {"endpoint_id", web.id},
      {"ip", "10.1.4.0"},      {"prefix_len", 16},   {"mac", "02:42:0a:01:04:00"},
      {"gateway", "10.1.0.1"}, {"ifname", "eth0"},   {"host_ifname", web.host_ifname},
  };
  EXPECT_EQ(endpoint_json(state, web), expected);
}

}  // namespace
}  // namespace bpfnet::core
