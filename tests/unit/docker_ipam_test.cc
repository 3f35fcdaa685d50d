// Docker's IPAM driver's pools in the core: the state file format and its
// validation, and how pools and networks keep out of each other's subnets.
// (The protocol, call by call: tests/daemon/docker_ipam_test.cc.)
#include "core/docker_ipam.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::bridge;
using testing::cidr;
using testing::error_of;
using testing::expect_error_and_unchanged;
using testing::FakeIds;
using testing::ip;
using testing::kNow;

IpamPoolRequest local(std::optional<std::string> pool, std::optional<std::string> sub = {}) {
  return IpamPoolRequest{
      std::string(kLocalAddressSpace), std::move(pool), std::move(sub), {}, false};
}

class DockerIpamCoreTest : public ::testing::Test {
 protected:
  DockerIpamCoreTest() : state(testing::fresh_state(ids)) {}
  FakeIds ids;
  State state;
};

TEST_F(DockerIpamCoreTest, PoolsRoundTripThroughTheStateFile) {
  const IpamPool& pool = request_ipam_pool(state, local("10.77.0.0/16", "10.77.5.0/24"), {});
  std::string id = pool.id;
  request_ipam_address(state, IpamAddressRequest{id, std::nullopt, true, ""});
  request_ipam_address(state, IpamAddressRequest{id, std::nullopt, false, "web"});
  nlohmann::json json = to_json(state);
  EXPECT_EQ(json["ipam_pools"], nlohmann::json::parse(R"([{
      "id": "LocalDefault/10.77.0.0/16/10.77.5.0/24", "address_space": "LocalDefault",
      "pool": "10.77.0.0/16", "sub_pool": "10.77.5.0/24", "options": {},
      "addresses": {"10.77.0.1": "gateway", "10.77.5.0": "web"}}])"));
  EXPECT_EQ(state_from_json(json), state);
  // A state without pools writes none (files of older builds read the same).
  release_ipam_address(state, id, "10.77.0.1");
  release_ipam_address(state, id, "10.77.5.0");
  release_ipam_pool(state, id);
  EXPECT_FALSE(to_json(state).contains("ipam_pools"));
}

TEST_F(DockerIpamCoreTest, StateFileRefusesBadPools) {
  request_ipam_pool(state, local("10.77.0.0/24"), {});
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = to_json(state);
    edit(json["ipam_pools"][0]);
    return error_of([&] { state_from_json(json); });
  };
  EXPECT_EQ(refused([](nlohmann::json& p) { p["address_space"] = "Mars"; }),
            "state: ipam_pools[0].address_space: unknown address space \"Mars\"");
  EXPECT_EQ(refused([](nlohmann::json& p) { p["id"] = "x"; }),
            "state: ipam_pools[0].id: \"x\" is not \"LocalDefault/10.77.0.0/24\"");
  EXPECT_EQ(refused([](nlohmann::json& p) { p["addresses"]["10.78.0.1"] = ""; }),
            "state: ipam_pools[0].addresses: 10.78.0.1 is not a host address of 10.77.0.0/24");
  EXPECT_EQ(refused([](nlohmann::json& p) { p["addresses"]["10.77.0.255"] = ""; }),
            "state: ipam_pools[0].addresses: 10.77.0.255 is not a host address of 10.77.0.0/24");
  EXPECT_EQ(refused([](nlohmann::json& p) { p["sub_pool"] = "10.78.0.0/24"; }),
            "state: ipam_pools[0].sub_pool: 10.78.0.0/24 is not inside pool 10.77.0.0/24");
  nlohmann::json two = to_json(state);
  two["ipam_pools"].push_back(two["ipam_pools"][0]);
  two["ipam_pools"][1]["pool"] = "10.77.0.0/16";
  two["ipam_pools"][1]["id"] = "LocalDefault/10.77.0.0/16";
  EXPECT_EQ(error_of([&] { state_from_json(two); }),
            "state: ipam_pools[1].pool: 10.77.0.0/16 overlaps pool LocalDefault/10.77.0.0/24");
}

TEST_F(DockerIpamCoreTest, NetworksAndPoolsKeepOutOfEachOther) {
  request_ipam_pool(state, local(std::nullopt), {cidr("172.17.0.0/16")});
  EXPECT_EQ(state.ipam_pools[0].pool, cidr("172.18.0.0/16"));
  // `network create` picks around it, and refuses it.
  EXPECT_EQ(*create_network(state, bridge("front"), {}, ids, kNow).subnet, cidr("172.17.0.0/16"));
  expect_error_and_unchanged(
      state, [&](State& s) { create_network(s, bridge("back", "172.18.1.0/24"), {}, ids, kNow); },
      "Pool overlaps with other one on this address space: 172.18.1.0/24 overlaps bpfnet IPAM "
      "pool LocalDefault/172.18.0.0/16");
  expect_error_and_unchanged(
      state, [&](State& s) { request_ipam_pool(s, local("172.17.0.0/24"), {}); },
      "Pool overlaps with other one on this address space: 172.17.0.0/24 overlaps network front "
      "(172.17.0.0/16)");
  validate_state(state);
}

TEST_F(DockerIpamCoreTest, AddressesAreRefusedWithoutAChange) {
  std::string id = request_ipam_pool(state, local("10.77.0.0/24"), {}).id;
  request_ipam_address(state, IpamAddressRequest{id, "10.77.0.5", false, "c1"});
  expect_error_and_unchanged(
      state,
      [&](State& s) {
        request_ipam_address(s, IpamAddressRequest{id, "10.77.0.5", false, "c2"});
      },
      "Address already in use: 10.77.0.5 is handed out to c1 by IPAM pool "
      "LocalDefault/10.77.0.0/24");
  expect_error_and_unchanged(
      state, [&](State& s) { release_ipam_address(s, id, "10.1.1.1"); },
      "address 10.1.1.1 is not in IPAM pool LocalDefault/10.77.0.0/24");
  EXPECT_EQ(state.ipam_pools[0].addresses.at(ip("10.77.0.5")), "c1");
}

}  // namespace
}  // namespace bpfnet::core
