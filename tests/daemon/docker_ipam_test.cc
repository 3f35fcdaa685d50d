// Docker's remote IPAM protocol against the real Controller, core and
// StateStore, with the kernel replaced by fakes (tests/daemon/fakes.h).
// Request bodies are in Docker's wire form (libnetwork ipams/remote/api):
// compact JSON ending in a newline, empty for GetCapabilities and
// GetDefaultAddressSpaces.
#include "core/docker_ipam.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "daemon/controller.h"
#include "daemon/docker_driver.h"
#include "daemon/state_store.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

constexpr const char* kNow = "2024-05-01T12:00:00Z";
const std::string kNet = "6f1b4e3c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f";
const std::string kEp = "0d3c8a1f5e7b9c2d4f6a8b0c1e3d5f7a9b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e";
const std::string kEp2 = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";

std::string pool_body(const std::string& pool, const std::string& sub_pool = "",
                      const std::string& space = "LocalDefault", const std::string& options = "{}",
                      bool v6 = false) {
  return json{{"AddressSpace", space},
              {"Pool", pool},
              {"SubPool", sub_pool},
              {"Options", json::parse(options)},
              {"V6", v6}}
             .dump() +
         "\n";
}

std::string gateway_body(const std::string& pool_id, const std::string& address = "") {
  return json{{"PoolID", pool_id},
              {"Address", address},
              {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}}
             .dump() +
         "\n";
}

std::string address_body(const std::string& pool_id, const std::string& address = "",
                         const std::string& container = "web") {
  return json{{"PoolID", pool_id},
              {"Address", address},
              {"Options", {{"com.docker.network.endpoint.name", container}}}}
             .dump() +
         "\n";
}

std::string release_body(const std::string& pool_id, const std::string& address) {
  return json{{"PoolID", pool_id}, {"Address", address}}.dump() + "\n";
}

std::string pool_id_body(const std::string& pool_id) {
  return json{{"PoolID", pool_id}}.dump() + "\n";
}

std::string create_network_body(const std::string& pool, const std::string& gateway) {
  return R"({"NetworkID":")" + kNet +
         R"(","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{}},)"
         R"("IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":")" +
         gateway + R"(","Pool":")" + pool + R"("}],"IPv6Data":[]})" + "\n";
}

std::string create_endpoint_body(const std::string& endpoint, const std::string& address) {
  return R"({"NetworkID":")" + kNet + R"(","EndpointID":")" + endpoint +
         R"(","Interface":{"Address":")" + address +
         R"(","AddressIPv6":"","MacAddress":""},"Options":{}})" + "\n";
}

class DockerIpamTest : public ::testing::Test {
 protected:
  DockerIpamTest() { start(); }

  // The daemon's start sequence (main.cc) on the shared store and fakes:
  // called again, it is a restart of bpfnetd.
  void start() {
    driver.reset();
    ctl = std::make_unique<Controller>(
        store, plumbing, ids, [] { return std::string(kNow); }, without_default_bridge());
    ctl->load(std::nullopt);
    ctl->set_datapath(datapath);
    ctl->reconcile_all();
    driver = std::make_unique<DockerDriver>(*ctl);
  }

  PluginReply call(const std::string& method, const std::string& body) {
    return driver->handle("/" + method, body);
  }
  json ok(const std::string& method, const std::string& body) {
    PluginReply reply = call(method, body);
    EXPECT_EQ(reply.status, 200u) << method << ": " << reply.body;
    return json::parse(reply.body);
  }
  // A call that must be refused (500, or 400 for malformed JSON) and change
  // nothing, not even the state file; its Err.
  std::string refused(const std::string& method, const std::string& body, unsigned status = 500) {
    json before = core::to_json(ctl->state());
    std::string file = slurp(store.path());
    PluginReply reply = call(method, body);
    EXPECT_EQ(reply.status, status) << method << ": " << reply.body;
    EXPECT_EQ(core::to_json(ctl->state()), before) << method << " changed the state";
    EXPECT_EQ(slurp(store.path()), file) << method << " changed the state file";
    json answer = json::parse(reply.body);
    EXPECT_EQ(answer.size(), 1u) << reply.body;
    return answer.value("Err", std::string("<no Err>"));
  }
  std::string request_pool(const std::string& pool, const std::string& sub_pool = "") {
    return ok("IpamDriver.RequestPool", pool_body(pool, sub_pool))["PoolID"];
  }
  std::string address(const std::string& pool_id, const std::string& wanted = "",
                      const std::string& container = "web") {
    return ok("IpamDriver.RequestAddress", address_body(pool_id, wanted, container))["Address"];
  }
  const core::IpamPool& pool(const std::string& id) {
    const core::IpamPool* found = ctl->state().ipam_pool_by_id(id);
    if (found == nullptr) throw std::logic_error("no pool " + id);
    return *found;
  }

  TempDir dir;
  StateStore store{dir.path()};
  FakePlumbing plumbing;
  FakeDatapath datapath;
  FakeIds ids;
  std::unique_ptr<Controller> ctl;
  std::unique_ptr<DockerDriver> driver;
};

// --- handshake ----------------------------------------------------------------------

TEST_F(DockerIpamTest, ActivateListsBothDrivers) {
  EXPECT_EQ(ok("Plugin.Activate", ""),
            json::parse(R"({"Implements":["NetworkDriver","IpamDriver"]})"));
}

TEST_F(DockerIpamTest, CapabilitiesAndAddressSpacesWithEmptyBodies) {
  EXPECT_EQ(ok("IpamDriver.GetCapabilities", ""),
            json::parse(R"({"RequiresMACAddress":false,"RequiresRequestReplay":false})"));
  EXPECT_EQ(ok("IpamDriver.GetDefaultAddressSpaces", ""),
            json::parse(R"({"LocalDefaultAddressSpace":"LocalDefault",)"
                        R"("GlobalDefaultAddressSpace":"GlobalDefault"})"));
}

// --- pools --------------------------------------------------------------------------

TEST_F(DockerIpamTest, RequestPoolAsGiven) {
  json answer = ok("IpamDriver.RequestPool", pool_body("10.77.0.0/16"));
  EXPECT_EQ(answer, json::parse(R"({"PoolID":"LocalDefault/10.77.0.0/16",)"
                                R"("Pool":"10.77.0.0/16","Data":{}})"));
  EXPECT_EQ(pool("LocalDefault/10.77.0.0/16").pool.to_string(), "10.77.0.0/16");
  // Persisted with the rest of the state.
  EXPECT_NE(slurp(store.path()).find("\"ipam_pools\""), std::string::npos);
}

TEST_F(DockerIpamTest, RequestPoolWithoutPoolPicksAFreeSubnet) {
  // 172.17/16 is a host route here, 172.18/16 a bpfnet network.
  plumbing.routes = {core::Cidr::parse("172.17.0.0/16")};
  ctl->handle("network.create", json{{"name", "front"}, {"subnet", "172.18.0.0/16"}});
  json first = ok("IpamDriver.RequestPool", pool_body(""));
  EXPECT_EQ(first["Pool"], "172.19.0.0/16");
  EXPECT_EQ(first["PoolID"], "LocalDefault/172.19.0.0/16");
  EXPECT_EQ(ok("IpamDriver.RequestPool", pool_body(""))["Pool"], "172.20.0.0/16");
  // And bpfnet's own network create avoids the pools too.
  json net = ctl->handle("network.create", json{{"name", "back"}});
  EXPECT_EQ(net["IPAM"]["Config"][0]["Subnet"], "172.21.0.0/16");
}

TEST_F(DockerIpamTest, OverlappingPoolsAreRefused) {
  request_pool("10.77.0.0/16");
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("10.77.0.0/16")),
            "Pool overlaps with other one on this address space: 10.77.0.0/16 overlaps pool "
            "LocalDefault/10.77.0.0/16");
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("10.77.5.0/24")),
            "Pool overlaps with other one on this address space: 10.77.5.0/24 overlaps pool "
            "LocalDefault/10.77.0.0/16");
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("10.0.0.0/8")),
            "Pool overlaps with other one on this address space: 10.0.0.0/8 overlaps pool "
            "LocalDefault/10.77.0.0/16");
  ctl->handle("network.create", json{{"name", "front"}, {"subnet", "192.168.50.0/24"}});
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("192.168.0.0/16")),
            "Pool overlaps with other one on this address space: 192.168.0.0/16 overlaps "
            "network front (192.168.50.0/24)");
  // bpfnet's own networks cannot take a pool's subnet either.
  EXPECT_THROW(ctl->handle("network.create", json{{"name", "back"}, {"subnet", "10.77.1.0/24"}}),
               core::UserError);
}

TEST_F(DockerIpamTest, BadPoolRequestsAreRefusedNamingWhy) {
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("10.77.0.0/16", "", "Elsewhere")),
            "unknown address space \"Elsewhere\" (bpfnet's are LocalDefault and GlobalDefault)");
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("", "", "LocalDefault", "{}", true)),
            "bpfnet is IPv4-only: create the network without --ipv6");
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("10.77.0.1/16")),
            "invalid subnet 10.77.0.1/16 : it should be 10.77.0.0/16");
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("10.77.0.0/16", "10.78.0.0/24")),
            "sub-pool 10.78.0.0/24 is not inside pool 10.77.0.0/16");
  EXPECT_EQ(refused("IpamDriver.RequestPool", "{\"AddressSpace\":\n", 400),
            "IpamDriver.RequestPool: malformed JSON at byte 18 of the request body");
  EXPECT_NE(refused("IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/16\"}\n").find("AddressSpace"),
            std::string::npos);
  EXPECT_EQ(refused("IpamDriver.RequestPool", pool_body("", "", "GlobalDefault")),
            "the GlobalDefault address space holds bpfnet overlay networks' subnets: give the "
            "subnet of one (--subnet) or name it with --ipam-opt bpfnet.network=NAME");
  EXPECT_TRUE(ctl->state().ipam_pools.empty());
}

TEST_F(DockerIpamTest, ReleasePoolFreesItsSubnet) {
  std::string id = request_pool("10.77.0.0/16");
  address(id);
  EXPECT_EQ(ok("IpamDriver.ReleasePool", pool_id_body(id)), json::object());
  EXPECT_TRUE(ctl->state().ipam_pools.empty());
  EXPECT_EQ(slurp(store.path()).find("ipam_pools"), std::string::npos);
  EXPECT_EQ(refused("IpamDriver.ReleasePool", pool_id_body(id)),
            "IPAM pool LocalDefault/10.77.0.0/16 not found");
  EXPECT_EQ(request_pool("10.77.0.0/16"), id);
}

// --- addresses ----------------------------------------------------------------------

TEST_F(DockerIpamTest, AddressesAreHandedOutOnceEach) {
  std::string id = request_pool("10.77.0.0/24");
  EXPECT_EQ(ok("IpamDriver.RequestAddress", gateway_body(id)),
            json::parse(R"({"Address":"10.77.0.1/24","Data":{}})"));
  EXPECT_EQ(address(id, "", "c1"), "10.77.0.2/24");
  EXPECT_EQ(address(id, "", "c2"), "10.77.0.3/24");
  EXPECT_EQ(address(id, "10.77.0.200", "c3"), "10.77.0.200/24");
  // Aux addresses come with Options null.
  EXPECT_EQ(ok("IpamDriver.RequestAddress", R"({"PoolID":")" + id +
                                                R"(","Address":"10.77.0.250","Options":null})"
                                                "\n")["Address"],
            "10.77.0.250/24");
  const core::IpamPool& p = pool(id);
  EXPECT_EQ(p.addresses.at(core::Ipv4::parse("10.77.0.1")), "gateway");
  EXPECT_EQ(p.addresses.at(core::Ipv4::parse("10.77.0.3")), "c2");
  EXPECT_EQ(p.addresses.at(core::Ipv4::parse("10.77.0.250")), "");
}

TEST_F(DockerIpamTest, AGivenGatewayIsTaken) {
  std::string id = request_pool("10.77.0.0/24");
  EXPECT_EQ(ok("IpamDriver.RequestAddress", gateway_body(id, "10.77.0.254"))["Address"],
            "10.77.0.254/24");
  EXPECT_EQ(address(id), "10.77.0.1/24");
}

TEST_F(DockerIpamTest, SubPoolBoundsDynamicAddressesOnly) {
  std::string id = request_pool("10.77.0.0/16", "10.77.5.0/24");
  EXPECT_EQ(id, "LocalDefault/10.77.0.0/16/10.77.5.0/24");
  EXPECT_EQ(ok("IpamDriver.RequestAddress", gateway_body(id))["Address"], "10.77.0.1/16");
  EXPECT_EQ(address(id), "10.77.5.0/16");
  EXPECT_EQ(address(id, "10.77.9.9"), "10.77.9.9/16");
}

TEST_F(DockerIpamTest, BadAddressRequestsAreRefusedNamingWhy) {
  std::string id = request_pool("10.77.0.0/24");
  address(id, "10.77.0.9", "c1");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id, "10.77.0.9", "c2")),
            "Address already in use: 10.77.0.9 is handed out to c1 by IPAM pool "
            "LocalDefault/10.77.0.0/24");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id, "10.78.0.9")),
            "Invalid address 10.78.0.9: it is not in IPAM pool LocalDefault/10.77.0.0/24");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id, "10.77.0.255")),
            "Invalid address 10.77.0.255: it is the broadcast address of 10.77.0.0/24");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id, "10.77.0.0")),
            "Invalid address 10.77.0.0: it is the network address of 10.77.0.0/24");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id, "10.77.0.x")),
            "invalid IPv4 address \"10.77.0.x\"");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body("LocalDefault/10.1.0.0/16")),
            "IPAM pool LocalDefault/10.1.0.0/16 not found");
  EXPECT_EQ(refused("IpamDriver.RequestAddress",
                    R"({"PoolID":")" + id +
                        R"(","Address":"","Options":{"RequestAddressType":"mac"}})"
                        "\n"),
            "unknown RequestAddressType \"mac\" (bpfnet knows com.docker.network.gateway)");
  EXPECT_EQ(refused("IpamDriver.ReleaseAddress", release_body(id, "10.78.0.9")),
            "address 10.78.0.9 is not in IPAM pool LocalDefault/10.77.0.0/24");
  EXPECT_EQ(refused("IpamDriver.ReleaseAddress", release_body("nope", "10.77.0.9")),
            "IPAM pool nope not found");
}

TEST_F(DockerIpamTest, PoolFullIsRefused) {
  std::string id = request_pool("10.77.0.0/30");  // .1 and .2 only
  address(id);
  address(id);
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id)),
            "no available IPv4 addresses in IPAM pool LocalDefault/10.77.0.0/30");
}

TEST_F(DockerIpamTest, ReleasedAddressIsReused) {
  std::string id = request_pool("10.77.0.0/24");
  address(id, "", "c1");
  address(id, "", "c2");
  EXPECT_EQ(ok("IpamDriver.ReleaseAddress", release_body(id, "10.77.0.1")), json::object());
  EXPECT_FALSE(pool(id).addresses.contains(core::Ipv4::parse("10.77.0.1")));
  // Docker retries releases: a free address is no error.
  EXPECT_EQ(ok("IpamDriver.ReleaseAddress", release_body(id, "10.77.0.1")), json::object());
  EXPECT_EQ(address(id, "", "c3"), "10.77.0.1/24");
  EXPECT_EQ(pool(id).addresses.at(core::Ipv4::parse("10.77.0.1")), "c3");
}

// --- restart ------------------------------------------------------------------------

TEST_F(DockerIpamTest, PoolsAndAddressesSurviveARestart) {
  std::string id = request_pool("10.77.0.0/24");
  ok("IpamDriver.RequestAddress", gateway_body(id));
  address(id, "", "c1");
  start();
  EXPECT_EQ(pool(id).addresses.size(), 2u);
  EXPECT_EQ(address(id, "", "c2"), "10.77.0.3/24");
  EXPECT_NE(refused("IpamDriver.RequestPool", pool_body("10.77.0.0/24")).find("overlaps"),
            std::string::npos);
}

// --- with the network driver ----------------------------------------------------------

TEST_F(DockerIpamTest, NetworkDriverProgramsThePoolsAddresses) {
  // docker network create -d bpfnet --ipam-driver bpfnet --subnet 10.77.0.0/24 n1,
  // docker run twice: Docker's call order.
  std::string id = request_pool("10.77.0.0/24");
  std::string gateway = ok("IpamDriver.RequestAddress", gateway_body(id))["Address"];
  ok("NetworkDriver.CreateNetwork", create_network_body("10.77.0.0/24", gateway));
  std::string a1 = address(id, "", "c1");
  json reply = ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kEp, a1));
  EXPECT_FALSE(reply["Interface"].contains("Address"));  // Docker's own, kept
  std::string a2 = address(id, "", "c2");
  ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kEp2, a2));
  EXPECT_EQ(ctl->state().endpoint_by_id(kEp)->ip.to_string() + "/24", a1);
  EXPECT_EQ(ctl->state().endpoint_by_id(kEp2)->ip.to_string() + "/24", a2);
  EXPECT_NE(a1, a2);

  // An address the pool did not give is refused by the network driver.
  const std::string stray = "1111111111111111111111111111111111111111111111111111111111111111";
  EXPECT_EQ(refused("NetworkDriver.CreateEndpoint", create_endpoint_body(stray, "10.77.0.99/24")),
            "address 10.77.0.99 was not handed out by bpfnet's IPAM pool LocalDefault/10.77.0.0/24 "
            "(a network on a bpfnet pool takes its addresses from it: --ipam-driver bpfnet)");
  EXPECT_EQ(refused("NetworkDriver.CreateEndpoint", create_endpoint_body(stray, "")),
            "network 6f1b4e3c2a9d takes its addresses from bpfnet's IPAM pool "
            "LocalDefault/10.77.0.0/24: the endpoint needs the address Docker requested from it");
  // docker rm, docker network rm: Docker 20.10's order (the pool is
  // released before the network is deleted).
  ok("NetworkDriver.DeleteEndpoint",
     R"({"NetworkID":")" + kNet + R"(","EndpointID":")" + kEp + "\"}\n");
  ok("IpamDriver.ReleaseAddress", release_body(id, a1.substr(0, a1.find('/'))));
  ok("NetworkDriver.DeleteEndpoint",
     R"({"NetworkID":")" + kNet + R"(","EndpointID":")" + kEp2 + "\"}\n");
  ok("IpamDriver.ReleaseAddress", release_body(id, a2.substr(0, a2.find('/'))));
  ok("IpamDriver.ReleaseAddress", release_body(id, "10.77.0.1"));
  ok("IpamDriver.ReleasePool", pool_id_body(id));
  ok("NetworkDriver.DeleteNetwork", R"({"NetworkID":")" + kNet + "\"}\n");
  EXPECT_EQ(ctl->state().network_by_id(kNet), nullptr);
  EXPECT_TRUE(ctl->state().ipam_pools.empty());
}

TEST_F(DockerIpamTest, ANetworkOnAPoolsSubnetMustUseThePool) {
  // Docker's default IPAM on the subnet of a bpfnet pool: its gateway was
  // never handed out, and would be handed out again.
  request_pool("10.77.0.0/24");
  EXPECT_EQ(
      refused("NetworkDriver.CreateNetwork", create_network_body("10.77.0.0/24", "10.77.0.1/24")),
      "gateway 10.77.0.1 was not handed out by bpfnet's IPAM pool LocalDefault/10.77.0.0/24 "
      "(a network on a bpfnet pool takes its addresses from it: --ipam-driver bpfnet)");
  EXPECT_NE(
      refused("NetworkDriver.CreateNetwork", create_network_body("10.77.0.0/16", "10.77.0.1/16"))
          .find("overlaps bpfnet IPAM pool LocalDefault/10.77.0.0/24"),
      std::string::npos);
}

TEST_F(DockerIpamTest, ServiceVipsAndThePoolNeverShareAnAddress) {
  std::string id = request_pool("10.77.0.0/24");
  std::string gateway = ok("IpamDriver.RequestAddress", gateway_body(id))["Address"];
  ok("NetworkDriver.CreateNetwork", create_network_body("10.77.0.0/24", gateway));
  // Handed out, its endpoint not created yet: no VIP takes it.
  EXPECT_EQ(address(id), "10.77.0.2/24");
  json svc = ctl->handle(
      "service.create",
      json{{"name", "api"}, {"network", kNet.substr(0, 12)}, {"ports", json::array({"80/tcp"})}});
  EXPECT_EQ(svc["VIP"], "10.77.0.3");
  EXPECT_THROW(ctl->handle("service.create", json{{"name", "api2"},
                                                  {"network", kNet.substr(0, 12)},
                                                  {"vip", "10.77.0.2"},
                                                  {"ports", json::array({"80/tcp"})}}),
               core::UserError);
  // And the pool skips the VIP.
  EXPECT_EQ(address(id), "10.77.0.4/24");
  EXPECT_EQ(refused("IpamDriver.RequestAddress", address_body(id, "10.77.0.3")),
            "Address already in use: 10.77.0.3 is used on network 6f1b4e3c2a9d");
}

}  // namespace
}  // namespace bpfnet::daemon
