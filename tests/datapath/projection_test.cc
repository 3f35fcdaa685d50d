// The projection (desired state -> map contents) without a kernel: real
// core state, checked entry by entry.
#include "datapath/projection.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "bpfnet_abi.h"
#include "core/engine.h"
#include "core/portmap.h"
#include "core/service.h"
#include "fakes/fake_ids.h"

namespace bpfnet::datapath {
namespace {

using fakes::FakeIds;

constexpr const char* kNow = "2024-05-01T12:00:00Z";

uint32_t ip(const char* text) { return core::Ipv4::parse(text).value; }

PortMapEntry portmap(const char* host_ip, uint16_t host_port, uint8_t proto, const char* backend_ip,
                     uint16_t backend_port) {
  return PortMapEntry{ip(host_ip), host_port, proto, ip(backend_ip), backend_port};
}

class ProjectTest : public ::testing::Test {
 protected:
  ProjectTest() : state(core::initial_state(ids, kNow)) {}

  const core::Network& add_network(const std::string& name, const std::string& subnet,
                                   bool internal = false,
                                   std::map<std::string, std::string> options = {}) {
    core::NetworkCreate req;
    req.name = name;
    req.subnet = subnet;
    req.internal = internal;
    req.options = std::move(options);
    return core::create_network(state, req, {}, ids, kNow);
  }
  const core::Endpoint& add_endpoint(const std::string& network, const std::string& container) {
    return core::connect(state,
                         core::ConnectRequest{network, container, "ns-" + container, std::nullopt,
                                              std::nullopt, std::nullopt},
                         ids);
  }

  FakeIds ids;
  core::State state;
};

TEST_F(ProjectTest, BuiltinNetworksProjectNothing) { EXPECT_EQ(project(state, {}), MapContents{}); }

TEST_F(ProjectTest, NetworkEntry) {
  add_network(
      "front", "192.168.5.0/24", false,
      {{"com.docker.network.bridge.enable_icc", "0"}, {"com.docker.network.driver.mtu", "1450"}});
  const MapContents out = project(state, {});
  ASSERT_EQ(out.networks.size(), 1u);
  EXPECT_EQ(out.networks.at(1), (NetworkEntry{1, ip("192.168.5.0"), 24, ip("192.168.5.1"),
                                              BPFNET_NET_F_MASQUERADE, 1450}));
  EXPECT_TRUE(out.endpoints_by_ip.empty());
}

TEST_F(ProjectTest, IndexesAreTheNetworksOwn) {
  add_network("a", "10.1.0.0/16");
  add_network("b", "10.2.0.0/16");
  core::remove_network(state, "a");
  const MapContents out = project(state, {});
  ASSERT_EQ(out.networks.size(), 1u);
  EXPECT_EQ(out.networks.begin()->first, 2u);
  EXPECT_EQ(out.networks.begin()->second.subnet, ip("10.2.0.0"));
}

TEST_F(ProjectTest, EndpointOnlyWithALink) {
  add_network("front", "10.10.0.0/24");
  const core::Endpoint web = add_endpoint("front", "web");
  const core::Endpoint db = add_endpoint("front", "db");
  const HostLink link{42, {0x0a, 0, 0, 0, 0, 42}};
  const MapContents out = project(state, {{web.id, link}});
  const EndpointEntry want{42, 1, web.ip.value, web.mac.bytes, link.mac};
  EXPECT_EQ(out.endpoints_by_ip, (std::map<uint32_t, EndpointEntry>{{web.ip.value, want}}));
  EXPECT_EQ(out.endpoints_by_ifindex, (std::map<uint32_t, EndpointEntry>{{42, want}}));
  EXPECT_FALSE(out.endpoints_by_ip.contains(db.ip.value));
}

TEST_F(ProjectTest, PortsOnlyForEndpointsWithALink) {
  add_network("front", "10.10.0.0/24");
  const core::Endpoint& web = add_endpoint("front", "web");
  const std::string web_id = web.id;
  add_endpoint("front", "db");
  core::add_ports(state, "web", {"8080:80/udp"}, std::nullopt, {});
  core::add_ports(state, "db", {"9090:90"}, std::nullopt, {});
  const MapContents out = project(state, {{web_id, HostLink{42, {}}}});
  ASSERT_EQ(out.portmaps.size(), 1u);
  EXPECT_EQ(out.portmaps.begin()->second, portmap("0.0.0.0", 8080, 17, "10.10.0.2", 80));
}

TEST_F(ProjectTest, HostFacts) {
  HostFacts host;
  host.uplinks[3] = UplinkInfo{3, core::Ipv4::parse("192.0.2.1"), {1, 2, 3, 4, 5, 6}};
  host.addresses = {core::Ipv4::parse("192.0.2.1")};
  const MapContents out = project(state, {}, host);
  EXPECT_EQ(out.uplinks.at(3), (UplinkEntry{3, ip("192.0.2.1"), {1, 2, 3, 4, 5, 6}}));
  EXPECT_EQ(out.host_addrs, (std::map<uint32_t, uint32_t>{{ip("192.0.2.1"), 0}}));
}

TEST_F(ProjectTest, LinksOfUnknownEndpointsAreIgnored) {
  add_network("front", "10.10.0.0/24");
  const MapContents out = project(state, {{"no-such-endpoint", HostLink{7, {}}}});
  EXPECT_TRUE(out.endpoints_by_ifindex.empty());
}

TEST_F(ProjectTest, NetworkFlags) {
  add_network("inside", "10.20.0.0/24", /*internal=*/true,
              {{"com.docker.network.bridge.enable_ip_masquerade", "true"}});
  add_network("quiet", "10.30.0.0/24", false,
              {{"com.docker.network.bridge.enable_ip_masquerade", "false"}});
  const MapContents out = project(state, {});
  // Internal networks never masquerade, whatever the option says.
  EXPECT_EQ(out.networks.at(1).flags, uint32_t{BPFNET_NET_F_ICC | BPFNET_NET_F_INTERNAL});
  EXPECT_EQ(out.networks.at(2).flags, uint32_t{BPFNET_NET_F_ICC});
}

TEST_F(ProjectTest, ServiceFrontendsVipBackendsAndPublishedPorts) {
  add_network("front", "10.10.0.0/24");
  const core::Endpoint web = add_endpoint("front", "web");
  add_endpoint("front", "db");
  core::ServiceCreate req;
  req.name = "api";
  req.network = "front";
  req.ports = {"80/tcp"};
  req.publish = {"8080:80/tcp"};
  const core::Service svc = core::create_service(state, req, ids, {});
  core::add_backend(state, "api", "web", 1);
  const MapContents out = project(state, {});
  ASSERT_EQ(out.services.size(), 1u);
  const ServiceEntry& fe = out.services.begin()->second;
  EXPECT_EQ(fe.vip, svc.vip.value);
  EXPECT_EQ(fe.port, 80);
  EXPECT_EQ(fe.proto, 6);
  EXPECT_EQ(fe.index, svc.index);
  EXPECT_EQ(out.vips, (std::map<uint32_t, uint32_t>{{svc.vip.value, 1}}));
  ASSERT_EQ(out.backends.size(), 1u);
  EXPECT_EQ(out.backends.begin()->second, web.ip.value);
  // The published port leads to the VIP, not to a container.
  EXPECT_EQ(out.portmaps.begin()->second.backend_ip, svc.vip.value);
}

TEST_F(ProjectTest, MtuFollowsTheUplinksUnlessSet) {
  add_network("plain", "10.1.0.0/24");
  add_network("set", "10.2.0.0/24", false, {{"com.docker.network.driver.mtu", "1300"}});
  HostFacts host;
  EXPECT_EQ(project(state, {}, host).networks.at(1).mtu, 1500u);  // no uplink: Docker's default
  host.uplinks[3] = UplinkInfo{3, core::Ipv4::parse("192.0.2.1"), {}, "eth0", "ice", 9000};
  host.uplinks[4] = UplinkInfo{4, core::Ipv4::parse("198.51.100.1"), {}, "eth1", "veth", 1400};
  EXPECT_EQ(host.default_mtu(), 1400u);  // the smallest, never above 1500
  const MapContents out = project(state, {}, host);
  EXPECT_EQ(out.networks.at(1).mtu, 1400u);
  EXPECT_EQ(out.networks.at(2).mtu, 1300u);
  host.uplinks.erase(4);
  EXPECT_EQ(host.default_mtu(), 1500u);
}

}  // namespace
}  // namespace bpfnet::datapath
