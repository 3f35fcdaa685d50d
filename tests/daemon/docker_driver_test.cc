// The Docker network-driver protocol against the real Controller, core and
// StateStore, with the kernel replaced by fakes (tests/daemon/fakes.h).
// Request bodies are in Docker's exact wire form: compact JSON ending in a
// newline, empty for Activate and GetCapabilities.
#include "daemon/docker_driver.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/inspect.h"
#include "daemon/controller.h"
#include "daemon/state_store.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

constexpr const char* kNow = "2024-05-01T12:00:00Z";
const std::string kNet = "6f1b4e3c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f";
const std::string kNet2 = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const std::string kEp = "0d3c8a1f5e7b9c2d4f6a8b0c1e3d5f7a9b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e";
const std::string kEp2 = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";
const std::string kSandbox = "/var/run/docker/netns/5c1d2e3f4a5b";

// CreateNetwork as Docker 20.10 sends it for
// `docker network create -d bpfnet --subnet 172.30.0.0/16 --aux-address router=172.30.0.250
//  -o com.docker.network.bridge.enable_icc=false -o com.docker.network.driver.mtu=1400`.
std::string create_network_body(const std::string& id, const std::string& pool,
                                const std::string& gateway, const std::string& extra_options = "",
                                const std::string& aux = "") {
  return R"({"NetworkID":")" + id +
         R"(","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{)" +
         extra_options + R"(}},"IPv4Data":[{"AddressSpace":"LocalDefault",)" + aux +
         R"("Gateway":")" + gateway + R"(","Pool":")" + pool + R"("}],"IPv6Data":[]})" + "\n";
}

std::string ids_body(const std::string& network, const std::string& endpoint) {
  return R"({"NetworkID":")" + network + R"(","EndpointID":")" + endpoint + "\"}\n";
}

std::string create_endpoint_body(const std::string& network, const std::string& endpoint,
                                 const std::string& address, const std::string& mac = "") {
  return R"({"NetworkID":")" + network + R"(","EndpointID":")" + endpoint +
         R"(","Interface":{"Address":")" + address + R"(","AddressIPv6":"","MacAddress":")" + mac +
         R"("},"Options":{"com.docker.network.endpoint.exposedports":[{"Proto":6,"Port":80}],)"
         R"("com.docker.network.portmap":[]}})" +
         "\n";
}

std::string join_body(const std::string& network, const std::string& endpoint) {
  return R"({"NetworkID":")" + network + R"(","EndpointID":")" + endpoint + R"(","SandboxKey":")" +
         kSandbox +
         R"(","Options":{"com.docker.network.endpoint.exposedports":[],)"
         R"("com.docker.network.portmap":[]}})" +
         "\n";
}

std::string program_body(const std::string& network, const std::string& endpoint,
                         const std::string& portmap) {
  return R"({"NetworkID":")" + network + R"(","EndpointID":")" + endpoint +
         R"(","Options":{"com.docker.network.endpoint.exposedports":[{"Proto":6,"Port":80}],)"
         R"("com.docker.network.portmap":)" +
         portmap + "}}\n";
}

class DockerDriverTest : public ::testing::Test {
 protected:
  DockerDriverTest() { start(); }

  // The daemon's start sequence (main.cc) on the shared store and fakes.
  void start() {
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
  // A call that must succeed; its JSON answer.
  json ok(const std::string& method, const std::string& body) {
    PluginReply reply = call(method, body);
    EXPECT_EQ(reply.status, 200u) << method << ": " << reply.body;
    return json::parse(reply.body);
  }
  // A call that must fail with `status`; its Err.
  std::string refused(const std::string& method, const std::string& body, unsigned status = 500) {
    PluginReply reply = call(method, body);
    EXPECT_EQ(reply.status, status) << method << ": " << reply.body;
    json answer = json::parse(reply.body);
    EXPECT_EQ(answer.size(), 1u) << reply.body;
    return answer.value("Err", std::string("<no Err>"));
  }

  void create_net1(const std::string& extra_options = "") {
    ok("NetworkDriver.CreateNetwork",
       create_network_body(kNet, "172.30.0.0/16", "172.30.0.1/16", extra_options,
                           R"("AuxAddresses":{"router":"172.30.0.250/16"},)"));
  }
  void create_and_join(const std::string& endpoint, const std::string& address) {
    ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, endpoint, address));
    ok("NetworkDriver.Join", join_body(kNet, endpoint));
  }
  const core::Endpoint& endpoint(const std::string& id) {
    const core::Endpoint* ep = ctl->state().endpoint_by_id(id);
    if (ep == nullptr) throw std::logic_error("no endpoint " + id);
    return *ep;
  }

  // Everything a failed request must leave as it was.
  struct Snapshot {
    std::string file;
    json state;
    std::map<std::string, HostLink> links;
    datapath::MapContents maps;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot snapshot() {
    return Snapshot{slurp(store.path()), core::to_json(ctl->state()), plumbing.links,
                    datapath.maps};
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

TEST_F(DockerDriverTest, ActivateWithAnEmptyBody) {
  EXPECT_EQ(ok("Plugin.Activate", ""),
            json::parse(R"({"Implements":["NetworkDriver","IpamDriver"]})"));
}

TEST_F(DockerDriverTest, GetCapabilitiesIsLocal) {
  EXPECT_EQ(ok("NetworkDriver.GetCapabilities", ""),
            json::parse(R"({"Scope":"local","ConnectivityScope":"local"})"));
}

TEST_F(DockerDriverTest, DiscoveryIsAcknowledged) {
  const std::string body =
      R"({"DiscoveryType":1,"DiscoveryData":{"Address":"10.0.0.1","BindAddress":"","Self":true}})"
      "\n";
  EXPECT_EQ(ok("NetworkDriver.DiscoverNew", body), json::object());
  EXPECT_EQ(ok("NetworkDriver.DiscoverDelete", body), json::object());
}

TEST_F(DockerDriverTest, UnknownPathIs404) {
  PluginReply reply = call("VolumeDriver.Create", "{}\n");
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(json::parse(reply.body)["Err"],
            "/VolumeDriver.Create: not a method of the bpfnet network or IPAM driver");
}

// Found by fuzz/docker_plugin_fuzzer.cc (corpus/docker_plugin/invalid-utf8-path):
// the 404 echoed the path, and dumping a byte that is not UTF-8 threw.
TEST_F(DockerDriverTest, UnknownPathThatIsNotUtf8Is404WithoutThrowing) {
  PluginReply reply;
  ASSERT_NO_THROW(reply = call("NetworkDriver.GetCa\x97"
                               "abilities",
                               ""));
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(json::parse(reply.body)["Err"],
            "/NetworkDriver.GetCa\xef\xbf\xbd"
            "abilities: not a method of the bpfnet network or IPAM driver");
}

// --- networks -----------------------------------------------------------------------

TEST_F(DockerDriverTest, CreateNetworkMapsIpamDataAndOptions) {
  EXPECT_EQ(ok("NetworkDriver.CreateNetwork",
               create_network_body(kNet, "172.30.0.0/16", "172.30.0.1/16",
                                   R"("com.docker.network.bridge.enable_icc":"false",)"
                                   R"("com.docker.network.driver.mtu":"1400")",
                                   R"("AuxAddresses":{"router":"172.30.0.250/16"},)")),
            json::object());
  const core::Network* net = ctl->state().network_by_id(kNet);
  ASSERT_NE(net, nullptr);
  EXPECT_TRUE(net->docker);
  EXPECT_EQ(net->name, kNet.substr(0, 12));
  EXPECT_EQ(net->subnet->to_string(), "172.30.0.0/16");
  EXPECT_EQ(net->gateway.to_string(), "172.30.0.1");
  EXPECT_FALSE(net->internal);
  EXPECT_EQ(net->aux_addresses.at("router").to_string(), "172.30.0.250");
  EXPECT_FALSE(net->parsed.icc);
  EXPECT_EQ(net->parsed.mtu, 1400u);
  EXPECT_EQ(net->dummy_ifname, "bn-" + kNet.substr(0, 12));
  EXPECT_EQ(plumbing.calls_of("ensure_network"), std::vector<std::string>{net->dummy_ifname});
  const datapath::NetworkEntry& entry = datapath.maps.networks.at(net->index);
  EXPECT_EQ(entry.subnet, ip("172.30.0.0"));
  EXPECT_EQ(entry.gateway, ip("172.30.0.1"));
  EXPECT_EQ(entry.flags, uint32_t{BPFNET_NET_F_MASQUERADE});  // no ICC
  EXPECT_EQ(entry.mtu, 1400u);
  EXPECT_NE(slurp(store.path()).find(kNet), std::string::npos);

  // Visible to bpfnetctl like any other network.
  json inspect = ctl->handle("network.inspect", json{{"name", kNet.substr(0, 12)}});
  EXPECT_EQ(inspect["Id"], kNet);
  EXPECT_EQ(inspect["Driver"], "bridge");
  EXPECT_EQ(inspect["IPAM"]["Config"][0],
            json::parse(R"({"Subnet":"172.30.0.0/16","Gateway":"172.30.0.1",)"
                        R"("AuxiliaryAddresses":{"router":"172.30.0.250"}})"));
  EXPECT_EQ(inspect["Options"]["com.docker.network.driver.mtu"], "1400");
  bool listed = false;
  for (const json& n : ctl->handle("network.ls", json::object())) listed |= n["Id"] == kNet;
  EXPECT_TRUE(listed);
}

TEST_F(DockerDriverTest, CreateNetworkInternalAndNamedByOption) {
  const std::string body =
      R"({"NetworkID":")" + kNet +
      R"(","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":)"
      R"({"bpfnet.name":"backend"},"com.docker.network.internal":true},)"
      R"("IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"10.40.0.1/24","Pool":"10.40.0.0/24"}],)"
      R"("IPv6Data":null})"
      "\n";
  ok("NetworkDriver.CreateNetwork", body);
  const core::Network& net = ctl->state().get_network("backend");
  EXPECT_EQ(net.id, kNet);
  EXPECT_TRUE(net.internal);
  EXPECT_NE(datapath.maps.networks.at(net.index).flags & BPFNET_NET_F_INTERNAL, 0u);
  // A repeated, identical CreateNetwork (Docker did not get the answer) is fine.
  ok("NetworkDriver.CreateNetwork", body);
  EXPECT_EQ(ctl->state().networks.size(), 3u);  // host, none and this one
}

TEST_F(DockerDriverTest, CreateNetworkRefusalsChangeNothing) {
  ctl->handle("network.create", json{{"name", "mine"}, {"subnet", "172.30.5.0/24"}});
  const Snapshot before = snapshot();
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork",
                    create_network_body(kNet, "172.30.0.0/16", "172.30.0.1/16")),
            "Pool overlaps with other one on this address space: 172.30.0.0/16 overlaps network "
            "mine (172.30.5.0/24)");
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" + kNet + "\",\n", 400),
            "NetworkDriver.CreateNetwork: malformed JSON at byte 82 of the request body");
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork", "{}\n"),
            "NetworkDriver.CreateNetwork: NetworkID: missing (expected a string)");
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork",
                    R"({"NetworkID":")" + kNet +
                        R"(","Options":{},"IPv4Data":[{"AddressSpace":"LocalDefault",)"
                        R"("Gateway":"10.41.0.1/24","Pool":"10.41.0.0/24"}],)"
                        R"("IPv6Data":[{"AddressSpace":"LocalDefault","Pool":"fd00::/64"}]})"
                        "\n"),
            "bpfnet is IPv4-only: create the network without --ipv6");
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork",
                    create_network_body(kNet, "10.42.0.0/24", "10.42.0.1/24",
                                        R"("com.docker.network.bridge.enable_icc":"maybe")")),
            "invalid value \"maybe\" for option com.docker.network.bridge.enable_icc: expected a "
            "boolean (true or false)");
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork",
                    create_network_body("not-an-id", "10.42.0.0/24", "10.42.0.1/24")),
            "invalid network ID \"not-an-id\": expected 64 lowercase hex digits");
  EXPECT_EQ(snapshot(), before);
  // The same ID with other parameters is refused too.
  ok("NetworkDriver.CreateNetwork", create_network_body(kNet, "10.44.0.0/24", "10.44.0.1/24"));
  const Snapshot created = snapshot();
  EXPECT_EQ(refused("NetworkDriver.CreateNetwork",
                    create_network_body(kNet, "10.43.0.0/24", "10.43.0.1/24")),
            "network with ID " + kNet + " already exists");
  EXPECT_EQ(snapshot(), created);
}

TEST_F(DockerDriverTest, DeleteNetworkRemovesItAndIsIdempotent) {
  create_net1();
  const std::string dummy = ctl->state().network_by_id(kNet)->dummy_ifname;
  // An endpoint whose DeleteEndpoint was lost is stale once Docker deletes the network.
  ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.2/16"));
  EXPECT_EQ(ok("NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"" + kNet + "\"}\n"),
            json::object());
  EXPECT_EQ(ctl->state().network_by_id(kNet), nullptr);
  EXPECT_TRUE(ctl->state().endpoints.empty());
  EXPECT_EQ(plumbing.calls_of("remove_network"), std::vector<std::string>{dummy});
  EXPECT_TRUE(datapath.maps.networks.empty());
  EXPECT_EQ(ok("NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"" + kNet + "\"}\n"),
            json::object());
}

TEST_F(DockerDriverTest, BpfnetctlLeavesDockerNetworksToDocker) {
  create_net1();
  const std::string name = kNet.substr(0, 12);
  const Snapshot before = snapshot();
  try {
    ctl->handle("network.rm", json{{"name", name}});
    ADD_FAILURE() << "network.rm accepted";
  } catch (const core::UserError& e) {
    EXPECT_STREQ(e.what(),
                 ("network " + name + " is managed by Docker: use `docker network rm`").c_str());
  }
  plumbing.namespaces.insert("ns-web");
  EXPECT_THROW(ctl->handle("network.connect",
                           json{{"network", name}, {"container", "web"}, {"netns", "ns-web"}}),
               core::UserError);
  EXPECT_EQ(snapshot(), before);
}

// --- endpoints ----------------------------------------------------------------------

TEST_F(DockerDriverTest, CreateEndpointTakesDockersAddressAndReturnsAMac) {
  create_net1();
  json reply = ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.7/16"));
  // Only the MAC, which Docker left empty.
  EXPECT_EQ(reply, json::parse(R"({"Interface":{"MacAddress":"02:42:ac:1e:00:07"}})"));
  const core::Endpoint& ep = endpoint(kEp);
  EXPECT_TRUE(ep.docker);
  EXPECT_EQ(ep.ip.to_string(), "172.30.0.7");
  EXPECT_EQ(ep.container, kEp.substr(0, 12));
  EXPECT_EQ(ep.host_ifname, "bnv" + kEp.substr(0, 11));
  EXPECT_EQ(ep.ifname, "bnc" + kEp.substr(0, 11));
  EXPECT_TRUE(ep.sandbox.empty());
  // No veth before Join.
  EXPECT_TRUE(plumbing.calls_of("plumb_docker_endpoint").empty());
  EXPECT_TRUE(datapath.maps.endpoints_by_ip.empty());
  // bpfnetctl sees it.
  json inspect = ctl->handle("network.inspect", json{{"name", kNet}});
  EXPECT_EQ(inspect["Containers"][kEp]["IPv4Address"], "172.30.0.7/16");
  EXPECT_EQ(inspect["Containers"][kEp]["MacAddress"], "02:42:ac:1e:00:07");
}

TEST_F(DockerDriverTest, CreateEndpointKeepsDockersMacAndFillsNothing) {
  create_net1();
  json reply = ok("NetworkDriver.CreateEndpoint",
                  create_endpoint_body(kNet, kEp, "172.30.0.7/16", "02:11:22:33:44:55"));
  EXPECT_EQ(reply, json::parse(R"({"Interface":{}})"));
  EXPECT_EQ(endpoint(kEp).mac.to_string(), "02:11:22:33:44:55");
}

TEST_F(DockerDriverTest, CreateEndpointWithoutAnAddressGetsOne) {
  create_net1();
  json reply = ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, ""));
  EXPECT_EQ(
      reply,
      json::parse(R"({"Interface":{"Address":"172.30.0.2/16","MacAddress":"02:42:ac:1e:00:02"}})"));
}

TEST_F(DockerDriverTest, CreateEndpointRefusalsChangeNothing) {
  create_net1();
  const Snapshot before = snapshot();
  EXPECT_EQ(
      refused("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.250/16")),
      "Address already in use: 172.30.0.250 is the auxiliary address router of network " +
          kNet.substr(0, 12));
  EXPECT_EQ(
      refused("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.1/16")),
      "Address already in use: 172.30.0.1 is the gateway of network " + kNet.substr(0, 12));
  EXPECT_EQ(
      refused("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet2, kEp, "172.30.0.5/16")),
      "network " + kNet2 + " not found");
  EXPECT_EQ(refused("NetworkDriver.CreateEndpoint",
                    R"({"NetworkID":")" + kNet + R"(","EndpointID":")" + kEp +
                        R"(","Interface":{"Address":"172.30.0.5/16","AddressIPv6":"fd00::5/64",)"
                        R"("MacAddress":""},"Options":{}})"
                        "\n"),
            "bpfnet is IPv4-only: the endpoint cannot have an IPv6 address");
  EXPECT_EQ(refused("NetworkDriver.CreateEndpoint", "{\"NetworkID\":\n", 400),
            "NetworkDriver.CreateEndpoint: malformed JSON at byte 15 of the request body");
  EXPECT_EQ(snapshot(), before);
}

TEST_F(DockerDriverTest, JoinPlumbsTheVethAndAnswersInterfaceAndGateway) {
  create_net1();
  ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.2/16"));
  json reply = ok("NetworkDriver.Join", join_body(kNet, kEp));
  EXPECT_EQ(reply, json::parse(R"({"InterfaceName":{"SrcName":"bnc)" + kEp.substr(0, 11) +
                               R"(","DstPrefix":"eth"},"Gateway":"172.30.0.1"})"));
  const core::Endpoint& ep = endpoint(kEp);
  EXPECT_EQ(ep.sandbox, kSandbox);
  EXPECT_EQ(plumbing.calls_of("plumb_docker_endpoint"), std::vector<std::string>{ep.host_ifname});
  const HostLink link = plumbing.links.at(ep.host_ifname);
  EXPECT_EQ(datapath.attach_calls, std::vector<uint32_t>{link.ifindex});
  const datapath::EndpointEntry& entry = datapath.maps.endpoints_by_ip.at(ip("172.30.0.2"));
  EXPECT_EQ(entry.ifindex, link.ifindex);
  EXPECT_EQ(entry.mac, ep.mac.bytes);
  EXPECT_NE(slurp(store.path()).find(kSandbox), std::string::npos);
  // Joining the same sandbox again changes nothing.
  ok("NetworkDriver.Join", join_body(kNet, kEp));
  EXPECT_EQ(plumbing.calls_of("plumb_docker_endpoint").size(), 1u);
}

TEST_F(DockerDriverTest, JoinOnAnInternalNetworkHasNoGateway) {
  create_net1(R"("bpfnet.name":"inside")");
  // Rebuild as internal under another ID.
  ok("NetworkDriver.CreateNetwork",
     R"({"NetworkID":")" + kNet2 +
         R"(","Options":{"com.docker.network.generic":{},"com.docker.network.internal":true},)"
         R"("IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"10.50.0.1/24","Pool":"10.50.0.0/24"}],)"
         R"("IPv6Data":[]})"
         "\n");
  ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet2, kEp, "10.50.0.2/24"));
  EXPECT_EQ(ok("NetworkDriver.Join", join_body(kNet2, kEp)),
            json::parse(R"({"InterfaceName":{"SrcName":"bnc)" + kEp.substr(0, 11) +
                        R"(","DstPrefix":"eth"}})"));
}

TEST_F(DockerDriverTest, JoinRefusalsChangeNothing) {
  create_net1();
  ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.2/16"));
  const Snapshot before = snapshot();
  EXPECT_EQ(refused("NetworkDriver.Join", join_body(kNet, kEp2)),
            "endpoint " + kEp2 + " not found on network " + kNet);
  EXPECT_EQ(refused("NetworkDriver.Join", join_body(kNet2, kEp)),
            "network " + kNet2 + " not found");
  EXPECT_EQ(refused("NetworkDriver.Join", ids_body(kNet, kEp)),
            "NetworkDriver.Join: SandboxKey: missing (expected a string)");
  EXPECT_EQ(refused("NetworkDriver.Join", "not json\n", 400),
            "NetworkDriver.Join: malformed JSON at byte 2 of the request body");
  plumbing.fail_on = "plumb_docker_endpoint";
  EXPECT_EQ(refused("NetworkDriver.Join", join_body(kNet, kEp)),
            "fake: plumb_docker_endpoint failed");
  plumbing.fail_on.clear();
  EXPECT_EQ(snapshot(), before);
  EXPECT_TRUE(endpoint(kEp).sandbox.empty());
}

TEST_F(DockerDriverTest, LeaveRemovesTheVethAndDeleteEndpointTheEndpoint) {
  create_net1();
  create_and_join(kEp, "172.30.0.2/16");
  const core::Endpoint joined = endpoint(kEp);
  EXPECT_EQ(ok("NetworkDriver.Leave", ids_body(kNet, kEp)), json::object());
  EXPECT_EQ(plumbing.calls_of("unplumb_endpoint"), std::vector<std::string>{joined.host_ifname});
  EXPECT_FALSE(plumbing.links.contains(joined.host_ifname));
  EXPECT_FALSE(plumbing.links.contains(joined.ifname));
  EXPECT_TRUE(datapath.maps.endpoints_by_ip.empty());
  EXPECT_TRUE(endpoint(kEp).sandbox.empty());
  EXPECT_EQ(ok("NetworkDriver.Leave", ids_body(kNet, kEp)), json::object());  // again: fine
  EXPECT_EQ(ok("NetworkDriver.DeleteEndpoint", ids_body(kNet, kEp)), json::object());
  EXPECT_EQ(ctl->state().endpoint_by_id(kEp), nullptr);
  EXPECT_EQ(slurp(store.path()).find(kEp), std::string::npos);
  // Docker retries deletes it did not see answered.
  EXPECT_EQ(ok("NetworkDriver.DeleteEndpoint", ids_body(kNet, kEp)), json::object());
  EXPECT_EQ(ok("NetworkDriver.Leave", ids_body(kNet, kEp)), json::object());
  EXPECT_EQ(ok("NetworkDriver.RevokeExternalConnectivity", ids_body(kNet, kEp)), json::object());
}

// --- published ports ----------------------------------------------------------------

TEST_F(DockerDriverTest, ProgramExternalConnectivityPublishesFixedEphemeralAndRangePorts) {
  create_net1();
  create_and_join(kEp, "172.30.0.2/16");
  // -p 8080:80  -p 53/udp  -p 127.0.0.1:9000-9010:443
  EXPECT_EQ(
      ok("NetworkDriver.ProgramExternalConnectivity",
         program_body(
             kNet, kEp,
             R"([{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":8080,"HostPortEnd":8080},)"
             R"({"Proto":17,"IP":"","Port":53,"HostIP":"","HostPort":0,"HostPortEnd":0},)"
             R"({"Proto":6,"IP":"","Port":443,"HostIP":"127.0.0.1","HostPort":9000,"HostPortEnd":9010}])")),
      json::object());
  const std::vector<core::PortBinding> want = {
      {core::Proto::kTcp, 80, core::Ipv4{}, 8080},
      {core::Proto::kTcp, 443, core::Ipv4::parse("127.0.0.1"), 9000},
      {core::Proto::kUdp, 53, core::Ipv4{}, 32768},  // the first ephemeral port
  };
  EXPECT_EQ(endpoint(kEp).ports, want);
  EXPECT_EQ(datapath.maps.portmaps.size(), 3u);
  EXPECT_TRUE(datapath.maps.portmaps.contains(datapath::PortMapKey{0, 8080, 6}));

  json info = ok("NetworkDriver.EndpointOperInfo", ids_body(kNet, kEp));
  ASSERT_EQ(info.size(), 1u);
  ASSERT_EQ(info["Value"].size(), 1u);
  const json& bindings = info["Value"]["com.docker.network.portmap"];
  ASSERT_EQ(bindings.size(), 3u);
  EXPECT_EQ(bindings[0], json::parse(R"({"Proto":6,"IP":"172.30.0.2","Port":80,"HostIP":"0.0.0.0",)"
                                     R"("HostPort":8080,"HostPortEnd":8080})"));
  EXPECT_EQ(bindings[1],
            json::parse(R"({"Proto":6,"IP":"172.30.0.2","Port":443,"HostIP":"127.0.0.1",)"
                        R"("HostPort":9000,"HostPortEnd":9000})"));
  EXPECT_EQ(bindings[2],
            json::parse(R"({"Proto":17,"IP":"172.30.0.2","Port":53,"HostIP":"0.0.0.0",)"
                        R"("HostPort":32768,"HostPortEnd":32768})"));

  // bpfnetctl port-map ls shows them as for any container.
  json ls = ctl->handle("port.ls", json::object());
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["container"], kEp.substr(0, 12));
  EXPECT_EQ(ls[0]["bindings"].size(), 3u);

  EXPECT_EQ(ok("NetworkDriver.RevokeExternalConnectivity", ids_body(kNet, kEp)), json::object());
  EXPECT_TRUE(endpoint(kEp).ports.empty());
  EXPECT_TRUE(datapath.maps.portmaps.empty());
  EXPECT_EQ(ok("NetworkDriver.EndpointOperInfo", ids_body(kNet, kEp)),
            json::parse(R"({"Value":{"com.docker.network.portmap":[]}})"));
}

TEST_F(DockerDriverTest, PortConflictUsesDockersWordingAndChangesNothing) {
  create_net1();
  create_and_join(kEp, "172.30.0.2/16");
  create_and_join(kEp2, "172.30.0.3/16");
  const std::string p8080 =
      R"([{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":8080,"HostPortEnd":8080}])";
  ok("NetworkDriver.ProgramExternalConnectivity", program_body(kNet, kEp, p8080));
  const Snapshot before = snapshot();
  EXPECT_EQ(refused("NetworkDriver.ProgramExternalConnectivity", program_body(kNet, kEp2, p8080)),
            "Bind for 0.0.0.0:8080 failed: port is already allocated");
  EXPECT_EQ(
      refused("NetworkDriver.ProgramExternalConnectivity",
              program_body(
                  kNet, kEp2,
                  R"([{"Proto":1,"IP":"","Port":80,"HostIP":"","HostPort":80,"HostPortEnd":80}])")),
      "com.docker.network.portmap: [0].Proto: unsupported IP protocol 1 (bpfnet publishes "
      "tcp (6) and udp (17))");
  // -p 80/sctp: refused, with the reason (the datapath does not translate SCTP).
  EXPECT_EQ(
      refused(
          "NetworkDriver.ProgramExternalConnectivity",
          program_body(
              kNet, kEp2,
              R"([{"Proto":132,"IP":"","Port":80,"HostIP":"","HostPort":80,"HostPortEnd":80}])")),
      "cannot publish 80/sctp: bpfnet does not translate SCTP (its CRC32c checksum is not "
      "rewritten); publish tcp or udp");
  EXPECT_EQ(refused("NetworkDriver.ProgramExternalConnectivity", program_body(kNet, kEp2, "{}")),
            "NetworkDriver.ProgramExternalConnectivity: Options.com.docker.network.portmap: "
            "expected an array");
  EXPECT_EQ(refused("NetworkDriver.ProgramExternalConnectivity", program_body(kNet2, kEp2, "[]")),
            "network " + kNet2 + " not found");
  EXPECT_EQ(snapshot(), before);
  EXPECT_TRUE(endpoint(kEp2).ports.empty());
}

TEST_F(DockerDriverTest, ProgramSkipsTheIpv6WildcardTwin) {
  create_net1();
  create_and_join(kEp, "172.30.0.2/16");
  ok("NetworkDriver.ProgramExternalConnectivity",
     program_body(
         kNet, kEp,
         R"([{"Proto":6,"IP":"","Port":80,"HostIP":"0.0.0.0","HostPort":8080,"HostPortEnd":8080},)"
         R"({"Proto":6,"IP":"","Port":80,"HostIP":"::","HostPort":8080,"HostPortEnd":8080}])"));
  EXPECT_EQ(endpoint(kEp).ports,
            (std::vector<core::PortBinding>{{core::Proto::kTcp, 80, core::Ipv4{}, 8080}}));
}

// --- restarts and stale endpoints ---------------------------------------------------

TEST_F(DockerDriverTest, RestartReattachesAJoinedEndpointWithoutReplumbing) {
  create_net1();
  create_and_join(kEp, "172.30.0.2/16");
  const core::Endpoint ep = endpoint(kEp);
  plumbing.links.erase(ep.ifname);  // Docker moved the container side into the sandbox
  const HostLink link = plumbing.links.at(ep.host_ifname);
  plumbing.calls.clear();
  datapath.attach_calls.clear();

  start();

  EXPECT_EQ(endpoint(kEp), ep);
  EXPECT_TRUE(plumbing.calls_of("plumb_docker_endpoint").empty());
  EXPECT_TRUE(plumbing.calls_of("delete_link").empty());
  EXPECT_EQ(datapath.attach_calls, std::vector<uint32_t>{link.ifindex});
  EXPECT_EQ(datapath.maps.endpoints_by_ip.at(ip("172.30.0.2")).ifindex, link.ifindex);
  // The container side not moved yet is kept too.
  create_and_join(kEp2, "172.30.0.3/16");
  start();
  EXPECT_TRUE(plumbing.links.contains(endpoint(kEp2).ifname));
}

TEST_F(DockerDriverTest, EndpointWhoseVethWentWhileDownIsForgottenAndItsAddressReusable) {
  create_net1();
  create_and_join(kEp, "172.30.0.2/16");
  ok("NetworkDriver.ProgramExternalConnectivity",
     program_body(
         kNet, kEp,
         R"([{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":8080,"HostPortEnd":8080}])"));
  const core::Endpoint ep = endpoint(kEp);
  plumbing.links.erase(ep.host_ifname);  // the sandbox went, and the pair with it
  plumbing.links.erase(ep.ifname);

  start();

  EXPECT_EQ(ctl->state().endpoint_by_id(kEp), nullptr);
  EXPECT_EQ(slurp(store.path()).find(kEp), std::string::npos);
  EXPECT_TRUE(datapath.maps.endpoints_by_ip.empty());
  EXPECT_TRUE(datapath.maps.portmaps.empty());
  // Docker's retried cleanup succeeds; its next container gets the address and the port.
  EXPECT_EQ(ok("NetworkDriver.Leave", ids_body(kNet, kEp)), json::object());
  EXPECT_EQ(ok("NetworkDriver.DeleteEndpoint", ids_body(kNet, kEp)), json::object());
  create_and_join(kEp2, "172.30.0.2/16");
  ok("NetworkDriver.ProgramExternalConnectivity",
     program_body(
         kNet, kEp2,
         R"([{"Proto":6,"IP":"","Port":80,"HostIP":"","HostPort":8080,"HostPortEnd":8080}])"));
  EXPECT_EQ(endpoint(kEp2).ports.size(), 1u);
}

TEST_F(DockerDriverTest, AnAddressDockerHandsOutAgainReplacesTheStaleEndpoint) {
  create_net1();
  // DeleteEndpoint for kEp was lost (bpfnetd down); Docker's IPAM released .2.
  ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp, "172.30.0.2/16"));
  json reply =
      ok("NetworkDriver.CreateEndpoint", create_endpoint_body(kNet, kEp2, "172.30.0.2/16"));
  EXPECT_EQ(reply["Interface"]["MacAddress"], "02:42:ac:1e:00:02");
  EXPECT_EQ(ctl->state().endpoint_by_id(kEp), nullptr);
  EXPECT_EQ(endpoint(kEp2).ip.to_string(), "172.30.0.2");
}

}  // namespace
}  // namespace bpfnet::daemon
