// Overlay networks in one host's State: mirrors of the cluster's records.
#include "core/overlay.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::cidr;
using testing::error_of;
using testing::FakeIds;
using testing::fresh_state;
using testing::hex_id;
using testing::kNow;

Network overlay(const std::string& name, const std::string& subnet, uint32_t vni) {
  Network n;
  n.id = hex_id("c", 'c');
  n.name = name;
  n.driver = std::string(kDriverOverlay);
  n.created = kNow;
  n.subnet = cidr(subnet);
  n.gateway = Ipv4{n.subnet->network().value + 1};
  n.vni = vni;
  return n;
}

TEST(MirrorOverlay, AddsWithALocalIndexAndDummyAndSurvivesTheStateFile) {
  FakeIds ids;
  State state = fresh_state(ids);
  const Network& net = mirror_overlay_network(state, overlay("ov", "10.50.0.0/24", 4096));
  EXPECT_EQ(net.index, 1u);
  EXPECT_EQ(net.dummy_ifname, "bn-cccccccccccc");
  EXPECT_TRUE(net.overlay());
  // Mirroring again changes nothing.
  State again = state;
  mirror_overlay_network(again, overlay("ov", "10.50.0.0/24", 4096));
  EXPECT_EQ(again, state);
  EXPECT_EQ(state_from_json(to_json(state)), state);
}

TEST(MirrorOverlay, RefusesANameOrSubnetTakenHereAndABadVni) {
  FakeIds ids;
  State state = fresh_state(ids);
  NetworkCreate local;
  local.name = "ov";
  local.subnet = "10.60.0.0/24";
  create_network(state, local, {}, ids, kNow);
  State before = state;
  EXPECT_NE(error_of([&] {
              mirror_overlay_network(state, overlay("ov", "10.50.0.0/24", 5));
            }).find("has the name of local network"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              mirror_overlay_network(state, overlay("o2", "10.60.0.0/16", 5));
            }).find("overlaps"),
            std::string::npos);
  EXPECT_NE(error_of([&] { mirror_overlay_network(state, overlay("o3", "10.70.0.0/16", 0)); }), "");
  EXPECT_NE(
      error_of([&] { mirror_overlay_network(state, overlay("o4", "10.70.0.0/16", 1u << 24)); }),
      "");
  EXPECT_EQ(state, before);
}

TEST(MirrorOverlay, StateFileVniMustMatchTheDriver) {
  FakeIds ids;
  State state = fresh_state(ids);
  mirror_overlay_network(state, overlay("ov", "10.50.0.0/24", 4096));
  nlohmann::json json = to_json(state);
  for (auto& n : json["networks"])
    if (n["name"] == "ov") n.erase("vni");
  EXPECT_NE(error_of([&] { state_from_json(json); }).find("vni: missing"), std::string::npos);
}

}  // namespace
}  // namespace bpfnet::core
