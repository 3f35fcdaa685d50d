// Controller tests: the real Controller, core and StateStore (in a temporary
// directory), with the kernel replaced by fakes (FakePlumbing, FakeDatapath).
#include "daemon/controller.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "bpfnet_abi.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/flows_wire.h"
#include "core/id_source.h"
#include "core/portmap.h"
#include "core/state.h"
#include "daemon/plumbing.h"
#include "daemon/state_store.h"
#include "datapath/map_model.h"
#include "datapath/port.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

constexpr const char* kNow = "2024-05-01T12:00:00Z";

// --- fixture ------------------------------------------------------------------------

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() {
    plumbing.namespaces = {"ns-web", "ns-db", "ns-cache"};
    start();
  }

  // The daemon's start sequence (main.cc) on the shared store and fakes.
  void start() {
    ctl = std::make_unique<Controller>(
        store, plumbing, ids, [] { return std::string(kNow); }, options);
    ctl->load(std::nullopt);
    ctl->set_datapath(datapath);
    ctl->reconcile_all();
  }

  json create(const std::string& name, const std::string& subnet, bool internal = false,
              json options = json::object()) {
    return ctl->handle("network.create", json{{"name", name},
                                              {"driver", "bridge"},
                                              {"subnet", subnet},
                                              {"internal", internal},
                                              {"options", std::move(options)}});
  }
  json connect(const std::string& network, const std::string& container) {
    return ctl->handle(
        "network.connect",
        json{{"network", network}, {"container", container}, {"netns", "ns-" + container}});
  }
  const core::Endpoint& endpoint(const std::string& container) {
    for (const auto& ep : ctl->state().endpoints)
      if (ep.container == container) return ep;
    throw std::logic_error("no endpoint for " + container);
  }
  HostLink link_of(const std::string& container) {
    return plumbing.links.at(endpoint(container).host_ifname);
  }
  std::string state_file() { return slurp(store.path()); }

  TempDir dir;
  StateStore store{dir.path()};
  FakePlumbing plumbing;
  FakeDatapath datapath;
  FakeIds ids;
  ControllerOptions options = without_default_bridge();
  std::unique_ptr<Controller> ctl;
};

// --- create / connect ----------------------------------------------------------------

TEST_F(ControllerTest, StartOnEmptyStatePersistsBuiltinsAndWritesNoMaps) {
  EXPECT_EQ(ctl->state().networks.size(), 2u);  // host and none
  EXPECT_TRUE(std::filesystem::exists(store.path()));
  EXPECT_EQ(datapath.maps, datapath::MapContents{});
  EXPECT_TRUE(datapath.attach_calls.empty());
}

TEST_F(ControllerTest, DefaultBridgeIsCreatedOnceAndProgrammed) {
  // bpfnetd's defaults: Docker's `bridge` network exists from the first start,
  // on 172.17.0.0/16 unless a host route holds it.
  plumbing.routes = {core::Cidr::parse("172.17.0.0/16")};
  options = ControllerOptions{};
  start();
  const core::Network* net = ctl->state().network_by_name("bridge");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->subnet->to_string(), "172.18.0.0/16");
  EXPECT_EQ(datapath.maps.networks.at(net->index).gateway, ip("172.18.0.1"));
  std::string id = net->id;
  try {
    ctl->handle("network.rm", json{{"name", "bridge"}});
    ADD_FAILURE() << "network rm bridge was accepted";
  } catch (const core::UserError& e) {
    EXPECT_STREQ(e.what(), "bridge is a pre-defined network and cannot be removed");
  }
  connect("bridge", "web");
  EXPECT_EQ(endpoint("web").ip.to_string(), "172.18.0.2");
  // A restart keeps it (same ID, same endpoint); --bridge none keeps it too
  // while it has an endpoint.
  options.default_bridge.enabled = false;
  start();
  ASSERT_NE(ctl->state().network_by_name("bridge"), nullptr);
  EXPECT_EQ(ctl->state().network_by_name("bridge")->id, id);
  EXPECT_EQ(endpoint("web").ip.to_string(), "172.18.0.2");
}

TEST_F(ControllerTest, CreateWritesTheNetworkEntryWithDefaultFlags) {
  create("front", "10.10.0.0/24");
  const core::Network& net = ctl->state().networks.back();
  EXPECT_EQ(net.index, 1u);
  datapath::MapContents want;
  want.networks[1] = datapath::NetworkEntry{
      1, ip("10.10.0.0"), 24, ip("10.10.0.1"), BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE, 1500};
  EXPECT_EQ(datapath.maps, want);
  EXPECT_EQ(plumbing.calls_of("ensure_network"), std::vector<std::string>{net.dummy_ifname});
  EXPECT_NE(state_file().find("\"front\""), std::string::npos);
}

TEST_F(ControllerTest, NetworkFlagsFollowOptionsAndInternal) {
  create("quiet", "10.11.0.0/24", false,
         json{{"com.docker.network.bridge.enable_icc", "false"},
              {"com.docker.network.bridge.enable_ip_masquerade", "false"},
              {"com.docker.network.driver.mtu", "9000"}});
  create("inside", "10.12.0.0/24", true);
  ASSERT_EQ(datapath.maps.networks.size(), 2u);
  const datapath::NetworkEntry& quiet = datapath.maps.networks.at(1);
  EXPECT_EQ(quiet.flags, 0u);
  EXPECT_EQ(quiet.mtu, 9000u);
  const datapath::NetworkEntry& inside = datapath.maps.networks.at(2);
  EXPECT_NE(inside.flags & BPFNET_NET_F_INTERNAL, 0u);
  EXPECT_NE(inside.flags & BPFNET_NET_F_ICC, 0u);
  EXPECT_EQ(quiet.flags & BPFNET_NET_F_INTERNAL, 0u);
}

TEST_F(ControllerTest, ConnectWritesBothEndpointMapsAndAttaches) {
  create("front", "10.10.0.0/24");
  const json ep = connect("front", "web");
  EXPECT_EQ(ep["ip"], "10.10.0.2");
  const core::Endpoint& web = endpoint("web");
  const HostLink link = link_of("web");

  datapath::MapContents want;
  want.networks[1] = datapath::NetworkEntry{
      1, ip("10.10.0.0"), 24, ip("10.10.0.1"), BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE, 1500};
  const datapath::EndpointEntry entry{link.ifindex, 1, ip("10.10.0.2"), web.mac.bytes, link.mac};
  want.endpoints_by_ip[entry.ip] = entry;
  want.endpoints_by_ifindex[entry.ifindex] = entry;
  EXPECT_EQ(datapath.maps, want);
  EXPECT_EQ(datapath.attach_calls, std::vector<uint32_t>{link.ifindex});
  EXPECT_EQ(plumbing.calls_of("plumb_endpoint"), std::vector<std::string>{web.host_ifname});
  EXPECT_TRUE(plumbing.default_route.at(web.host_ifname));
  EXPECT_NE(state_file().find(web.id), std::string::npos);
}

TEST_F(ControllerTest, ConnectDeltaTouchesOnlyTheNewEndpoint) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  connect("front", "db");
  const datapath::MapDelta& last = datapath.deltas.back();
  EXPECT_EQ(last.size(), 2u);
  ASSERT_EQ(last.endpoints_by_ip.upserts.size(), 1u);
  EXPECT_EQ(last.endpoints_by_ip.upserts[0].second.ip, ip("10.10.0.3"));
  EXPECT_EQ(last.endpoints_by_ifindex.upserts.size(), 1u);
}

TEST_F(ControllerTest, DisconnectingTheGatewayNetworkMovesTheDefaultRoute) {
  create("front", "10.10.0.0/24");
  create("back", "10.20.0.0/24");
  connect("front", "web");
  connect("back", "web");
  const std::string back_if = ctl->state().endpoints[1].host_ifname;
  ASSERT_FALSE(plumbing.default_route.at(back_if));
  ctl->handle("network.disconnect", {{"network", "front"}, {"container", "web"}});
  EXPECT_EQ(plumbing.calls_of("set_default_route"), std::vector<std::string>{back_if});
  EXPECT_TRUE(plumbing.default_route.at(back_if));
  // Disconnecting a network that did not carry the default route moves nothing.
  connect("front", "web");
  ctl->handle("network.disconnect", {{"network", "front"}, {"container", "web"}});
  EXPECT_EQ(plumbing.calls_of("set_default_route").size(), 1u);
}

TEST_F(ControllerTest, SecondNetworkOfAContainerGetsNoDefaultRoute) {
  create("front", "10.10.0.0/24");
  create("back", "10.20.0.0/24");
  connect("front", "web");
  connect("back", "web");
  const auto& eps = ctl->state().endpoints;
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_TRUE(plumbing.default_route.at(eps[0].host_ifname));
  EXPECT_FALSE(plumbing.default_route.at(eps[1].host_ifname));
}

TEST_F(ControllerTest, ConnectToAMissingNamespaceTouchesNothing) {
  create("front", "10.10.0.0/24");
  const datapath::MapContents maps = datapath.maps;
  const std::string file = state_file();
  EXPECT_THROW(ctl->handle("network.connect",
                           json{{"network", "front"}, {"container", "x"}, {"netns", "ns-gone"}}),
               core::UserError);
  EXPECT_TRUE(plumbing.calls_of("plumb_endpoint").empty());
  EXPECT_EQ(datapath.maps, maps);
  EXPECT_EQ(state_file(), file);
  EXPECT_TRUE(ctl->state().endpoints.empty());
}

// --- failures roll back -------------------------------------------------------------

TEST_F(ControllerTest, FailingPlumbLeavesStatePlumbingAndMapsAsBefore) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  const std::string file = state_file();
  const json state = core::to_json(ctl->state());
  const std::map<std::string, HostLink> links = plumbing.links;
  const datapath::MapContents maps = datapath.maps;
  const size_t attaches = datapath.attach_calls.size();

  plumbing.fail_on = "plumb_endpoint";
  try {
    connect("front", "db");
    ADD_FAILURE() << "connect did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "fake: plumb_endpoint failed");
  }
  EXPECT_EQ(state_file(), file);
  EXPECT_EQ(core::to_json(ctl->state()), state);
  EXPECT_EQ(plumbing.links.size(), links.size());
  for (const auto& [name, link] : links) EXPECT_TRUE(plumbing.links.contains(name)) << name;
  EXPECT_EQ(datapath.maps, maps);
  EXPECT_EQ(datapath.attach_calls.size(), attaches);

  // And the controller still works.
  plumbing.fail_on.clear();
  connect("front", "db");
  EXPECT_EQ(datapath.maps.endpoints_by_ip.size(), 2u);
}

TEST_F(ControllerTest, FailingApplyUnplumbsTheNewEndpoint) {
  create("front", "10.10.0.0/24");
  const std::string file = state_file();
  struct FailingApply : FakeDatapath {
    bool fail = false;
    void apply(const datapath::MapDelta& delta) override {
      if (fail && !delta.endpoints_by_ip.upserts.empty())
        throw std::runtime_error("fake: map full");
      FakeDatapath::apply(delta);
    }
  } failing;
  failing.maps = datapath.maps;
  ctl->set_datapath(failing);
  failing.fail = true;
  EXPECT_THROW(connect("front", "web"), std::runtime_error);
  EXPECT_EQ(plumbing.calls_of("plumb_endpoint").size(), 1u);
  EXPECT_EQ(plumbing.calls_of("unplumb_endpoint"), plumbing.calls_of("plumb_endpoint"));
  EXPECT_EQ(failing.maps, datapath.maps);
  EXPECT_EQ(state_file(), file);
}

TEST_F(ControllerTest, FailingSaveRollsBackPlumbingAndMaps) {
  create("front", "10.10.0.0/24");
  const datapath::MapContents maps = datapath.maps;
  const std::string file = state_file();
  // save() writes state.json.tmp first: a directory in its way makes it fail.
  std::filesystem::create_directory(store.path() + ".tmp");
  EXPECT_THROW(connect("front", "web"), std::system_error);
  std::filesystem::remove(store.path() + ".tmp");

  ASSERT_EQ(plumbing.calls_of("plumb_endpoint").size(), 1u);
  EXPECT_EQ(plumbing.calls_of("unplumb_endpoint"), plumbing.calls_of("plumb_endpoint"));
  EXPECT_FALSE(plumbing.links.contains(plumbing.calls_of("plumb_endpoint")[0]));
  EXPECT_EQ(datapath.maps, maps);
  EXPECT_EQ(state_file(), file);
  EXPECT_TRUE(ctl->state().endpoints.empty());
}

// --- disconnect / rm ----------------------------------------------------------------

TEST_F(ControllerTest, DisconnectRemovesMapEntriesAndUnplumbs) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  connect("front", "db");
  const core::Endpoint web = endpoint("web");
  const HostLink web_link = link_of("web");
  const HostLink db_link = link_of("db");

  EXPECT_EQ(ctl->handle("network.disconnect", json{{"network", "front"}, {"container", "web"}}),
            json::object());
  EXPECT_EQ(plumbing.calls_of("unplumb_endpoint"), std::vector<std::string>{web.host_ifname});
  EXPECT_FALSE(plumbing.links.contains(web.host_ifname));
  EXPECT_FALSE(datapath.maps.endpoints_by_ip.contains(web.ip.value));
  EXPECT_FALSE(datapath.maps.endpoints_by_ifindex.contains(web_link.ifindex));
  EXPECT_TRUE(datapath.maps.endpoints_by_ifindex.contains(db_link.ifindex));
  EXPECT_EQ(datapath.deltas.back().size(), 2u);
  EXPECT_EQ(datapath.forgotten, std::vector<uint32_t>{web_link.ifindex});
  EXPECT_EQ(state_file().find(web.id), std::string::npos);
}

TEST_F(ControllerTest, NetworkRmRefusedWhileEndpointsRemain) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  const std::string file = state_file();
  const datapath::MapContents maps = datapath.maps;
  try {
    ctl->handle("network.rm", json{{"name", "front"}});
    ADD_FAILURE() << "network.rm did not throw";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("has active endpoints"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(plumbing.calls_of("remove_network").empty());
  EXPECT_EQ(datapath.maps, maps);
  EXPECT_EQ(state_file(), file);
  EXPECT_NE(ctl->state().network_by_name("front"), nullptr);
}

TEST_F(ControllerTest, NetworkRmRemovesTheEntryAndTheDummy) {
  const std::string id = create("front", "10.10.0.0/24")["Id"];
  const std::string dummy = ctl->state().network_by_id(id)->dummy_ifname;
  EXPECT_EQ(ctl->handle("network.rm", json{{"name", "front"}}), (json{{"id", id}}));
  EXPECT_TRUE(datapath.maps.networks.empty());
  EXPECT_EQ(plumbing.calls_of("remove_network"), std::vector<std::string>{dummy});
  EXPECT_FALSE(plumbing.links.contains(dummy));
  EXPECT_EQ(state_file().find(id), std::string::npos);
}

// --- restart: reconcile_all ---------------------------------------------------------

TEST_F(ControllerTest, RestartRewritesOnlyTheDifferingEntries) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  connect("front", "db");
  const datapath::MapContents good = datapath.maps;
  const HostLink web = link_of("web");
  const HostLink db = link_of("db");

  // While the daemon was down: db's entries vanished, a dead endpoint's stayed,
  // the network entry went stale, and an orphan veth was left behind.
  datapath.maps.endpoints_by_ip.erase(ip("10.10.0.3"));
  datapath.maps.endpoints_by_ifindex.erase(db.ifindex);
  const datapath::EndpointEntry dead{999, 1, ip("10.10.0.99"), {2, 0, 0, 0, 0, 1}, {}};
  datapath.maps.add_endpoint(dead);
  datapath.maps.networks.at(1).mtu = 1400;
  plumbing.links["bnv0123456789a"] = HostLink{555, {}};
  datapath.deltas.clear();
  datapath.attach_calls.clear();
  plumbing.calls.clear();

  start();

  ASSERT_EQ(datapath.deltas.size(), 1u);
  const datapath::MapDelta& d = datapath.deltas[0];
  EXPECT_EQ(d.networks.upserts.size(), 1u);
  EXPECT_EQ(d.endpoints_by_ip.upserts.size(), 1u);
  EXPECT_EQ(d.endpoints_by_ifindex.upserts.size(), 1u);
  EXPECT_EQ(d.endpoints_by_ip.deletes.size(), 1u);
  EXPECT_EQ(d.endpoints_by_ifindex.deletes.size(), 1u);
  EXPECT_EQ(d.networks.deletes.size(), 0u);
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(datapath.maps, good);

  std::vector<uint32_t> attached = datapath.attach_calls;
  std::sort(attached.begin(), attached.end());
  EXPECT_EQ(attached, (std::vector<uint32_t>{web.ifindex, db.ifindex}));
  EXPECT_TRUE(plumbing.calls_of("plumb_endpoint").empty());  // the veths were still there
  EXPECT_EQ(plumbing.calls_of("delete_link"), std::vector<std::string>{"bnv0123456789a"});
  EXPECT_FALSE(plumbing.links.contains("bnv0123456789a"));
}

TEST_F(ControllerTest, RestartWithIntactMapsWritesNothing) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  datapath.deltas.clear();
  plumbing.calls.clear();
  start();
  ASSERT_EQ(datapath.deltas.size(), 1u);
  EXPECT_TRUE(datapath.deltas[0].empty());
  EXPECT_TRUE(plumbing.calls_of("delete_link").empty());
  EXPECT_EQ(datapath.attach_calls.back(), link_of("web").ifindex);  // re-attached anyway
}

TEST_F(ControllerTest, RestartReplumbsAMissingVeth) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  const core::Endpoint web = endpoint("web");
  const HostLink old_link = link_of("web");
  plumbing.links.erase(web.host_ifname);  // gone, but the namespace is still there
  plumbing.calls.clear();

  start();

  EXPECT_EQ(plumbing.calls_of("plumb_endpoint"), std::vector<std::string>{web.host_ifname});
  const HostLink new_link = link_of("web");
  EXPECT_NE(new_link.ifindex, old_link.ifindex);
  EXPECT_FALSE(datapath.maps.endpoints_by_ifindex.contains(old_link.ifindex));
  EXPECT_EQ(datapath.maps.endpoints_by_ip.at(web.ip.value).ifindex, new_link.ifindex);
  EXPECT_EQ(datapath.attach_calls.back(), new_link.ifindex);
}

TEST_F(ControllerTest, EndpointWhoseNetnsIsGoneKeptInStateWithoutMapEntries) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  connect("front", "db");
  const core::Endpoint web = endpoint("web");
  const HostLink web_link = link_of("web");
  // The container died: its namespace, and with it the veth pair, are gone.
  plumbing.namespaces.erase("ns-web");
  plumbing.links.erase(web.host_ifname);
  plumbing.calls.clear();
  datapath.attach_calls.clear();

  start();

  EXPECT_EQ(ctl->state().endpoints.size(), 2u);
  EXPECT_NE(state_file().find(web.id), std::string::npos);
  EXPECT_TRUE(plumbing.calls_of("plumb_endpoint").empty());
  EXPECT_FALSE(datapath.maps.endpoints_by_ip.contains(web.ip.value));
  EXPECT_FALSE(datapath.maps.endpoints_by_ifindex.contains(web_link.ifindex));
  EXPECT_EQ(datapath.maps.endpoints_by_ip.size(), 1u);
  EXPECT_EQ(datapath.attach_calls, std::vector<uint32_t>{link_of("db").ifindex});

  // `network disconnect` still removes it.
  ctl->handle("network.disconnect", json{{"network", "front"}, {"container", "web"}});
  EXPECT_EQ(ctl->state().endpoints.size(), 1u);
}

TEST_F(ControllerTest, RestartForgetsMetricsOfDeadInterfaces) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  const uint32_t live = link_of("web").ifindex;
  datapath.metrics = {datapath::MetricRow{live, 0, 0, 1, 100},
                      datapath::MetricRow{4242, 0, 0, 1, 100}};
  datapath.forgotten.clear();
  start();
  EXPECT_EQ(datapath.forgotten, std::vector<uint32_t>{4242});
}

// --- published ports ---------------------------------------------------------------

datapath::PortMapEntry portmap(const char* host_ip, uint16_t host_port, uint8_t proto,
                               const char* backend_ip, uint16_t backend_port) {
  return datapath::PortMapEntry{ip(host_ip), host_port, proto, ip(backend_ip), backend_port};
}

TEST_F(ControllerTest, PortAddWritesThePortMapAndPersists) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  const json r = ctl->handle(
      "port.add", json{{"container", "web"}, {"specs", {"8080:80", "127.0.0.1:5353:53/udp"}}});
  EXPECT_EQ(r["container"], "web");
  ASSERT_EQ(r["bindings"].size(), 2u);
  EXPECT_EQ(r["bindings"][0], (json{{"proto", "tcp"},
                                    {"container_port", 80},
                                    {"host_ip", "0.0.0.0"},
                                    {"host_port", 8080},
                                    {"network", "front"},
                                    {"container_ip", "10.10.0.2"}}));

  std::map<datapath::PortMapKey, datapath::PortMapEntry> want;
  for (const auto& pm : {portmap("0.0.0.0", 8080, 6, "10.10.0.2", 80),
                         portmap("127.0.0.1", 5353, 17, "10.10.0.2", 53)})
    want[datapath::PortMapKey{pm.host_ip, pm.host_port, pm.proto}] = pm;
  EXPECT_EQ(datapath.maps.portmaps, want);
  EXPECT_EQ(datapath.deltas.back().size(), 2u);  // nothing else rewritten
  EXPECT_EQ(store.load()->endpoints.at(0).ports.size(), 2u);
}

TEST_F(ControllerTest, PortRmRemovesTheEntry) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  ctl->handle("port.add", json{{"container", "web"}, {"specs", {"8080:80", "9090:90"}}});
  const json r = ctl->handle("port.rm", json{{"container", "web"}, {"spec", "8080"}});
  ASSERT_EQ(r["removed"].size(), 1u);
  EXPECT_EQ(r["removed"][0]["host_port"], 8080);
  EXPECT_EQ(r["removed"][0]["container_ip"], "10.10.0.2");
  ASSERT_EQ(datapath.maps.portmaps.size(), 1u);
  EXPECT_EQ(datapath.maps.portmaps.begin()->second.host_port, 9090);
  EXPECT_EQ(datapath.deltas.back().portmaps.deletes.size(), 1u);
}

TEST_F(ControllerTest, PortConflictChangesNothing) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  connect("front", "db");
  ctl->handle("port.add", json{{"container", "web"}, {"specs", {"8080:80"}}});
  const std::string file = state_file();
  const datapath::MapContents maps = datapath.maps;
  try {
    ctl->handle("port.add", json{{"container", "db"}, {"specs", {"9000:90", "8080:80"}}});
    ADD_FAILURE() << "port.add did not throw";
  } catch (const core::UserError& e) {
    EXPECT_STREQ(e.what(), "Bind for 0.0.0.0:8080 failed: port is already allocated");
  }
  EXPECT_EQ(datapath.maps, maps);
  EXPECT_EQ(state_file(), file);
}

TEST_F(ControllerTest, DisconnectDropsThePortMaps) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  ctl->handle("port.add", json{{"container", "web"}, {"specs", {"8080:80"}}});
  ctl->handle("network.disconnect", json{{"network", "front"}, {"container", "web"}});
  EXPECT_TRUE(datapath.maps.portmaps.empty());
  EXPECT_EQ(ctl->handle("port.ls", json::object()), json::array());
}

// `flows` answers in the format asked for: objects (the default, for any
// client of the socket) or rows (bpfnetctl's), the same flows in both; any
// other format is refused by name.
TEST_F(ControllerTest, FlowsAnswersAsObjectsOrRows) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  datapath::CtEntry fwd;
  fwd.key[0] = 1;
  fwd.peer[0] = 2;
  fwd.expires_ns = UINT64_MAX / 2;
  fwd.flags = BPFNET_CT_F_SNAT;
  fwd.tuple = datapath::CtTuple{endpoint("web").ip.value, 0x08080808, 5000, 53, 17};
  fwd.rewrite = datapath::CtTuple{0xc0000201, 0x08080808, 61000, 53, 17};
  datapath.conntrack.push_back(fwd);
  auto text = [](const json& result) {
    EXPECT_TRUE(result.is_binary());
    return std::string(result.get_binary().begin(), result.get_binary().end());
  };
  // The same flows, but for the clock: age and idle time are read at each
  // answer (a millisecond may pass between two).
  auto timeless = [](json flows) {
    for (auto& f : flows) {
      EXPECT_TRUE(f.contains("age_ms") && f.contains("idle_ms")) << f.dump();
      f.erase("age_ms");
      f.erase("idle_ms");
    }
    return flows;
  };
  const json objects = timeless(json::parse(text(ctl->handle("flows", json::object()))));
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0]["container"], "web");
  EXPECT_EQ(objects[0]["snat"], "192.0.2.1:61000");
  EXPECT_EQ(timeless(json::parse(text(ctl->handle("flows", json{{"format", "objects"}})))),
            objects);
  const core::DecodedFlows rows =
      core::decode_flows_rows(text(ctl->handle("flows", json{{"format", "rows"}})));
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0].container, "web");
  EXPECT_EQ(rows.rows[0].network, "front");
  EXPECT_EQ(timeless(json::parse(core::flows_json_text(rows.rows))), objects);
  try {
    ctl->handle("flows", json{{"format", "xml"}});
    ADD_FAILURE() << "format xml accepted";
  } catch (const core::UserError& e) {
    EXPECT_STREQ(e.what(), "flows: invalid format \"xml\" (objects or rows)");
  }
}

// The flows a disconnect purges are monitor flow ends (purged) while a
// monitor listens to flows, handed over at the next tick (the monitors'
// thread), and not even collected while nobody listens.
TEST_F(ControllerTest, PurgedFlowsAreFlowEndsAtTheNextTickWhileAMonitorListens) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  connect("front", "db");
  const uint32_t web = endpoint("web").ip.value, db = endpoint("db").ip.value;
  auto masqueraded = [](uint8_t key, uint32_t container) {
    datapath::CtEntry fwd;
    fwd.key[0] = key;
    fwd.peer[0] = key + 1;
    fwd.expires_ns = UINT64_MAX / 2;
    fwd.flags = BPFNET_CT_F_SNAT;
    fwd.tuple = datapath::CtTuple{container, 0x08080808, 5000, 53, 17};
    fwd.rewrite = datapath::CtTuple{0xc0000201, 0x08080808, 61000, 53, 17};
    datapath::CtEntry rev = fwd;
    rev.key[0] = key + 1;
    rev.peer[0] = key;
    rev.flags = BPFNET_CT_F_SNAT | BPFNET_CT_F_REPLY;
    rev.tuple = datapath::CtTuple{0x08080808, 0xc0000201, 53, 61000, 17};
    rev.rewrite = datapath::CtTuple{0x08080808, container, 53, 5000, 17};
    return std::vector<datapath::CtEntry>{fwd, rev};
  };
  for (const auto& e : masqueraded(1, web)) datapath.conntrack.push_back(e);
  for (const auto& e : masqueraded(3, db)) datapath.conntrack.push_back(e);
  bool listening = false;
  std::vector<datapath::FlowRecord> told;
  ctl->wants_flow_ends = [&] { return listening; };
  ctl->flows_ended = [&](const std::vector<datapath::FlowRecord>& flows, uint64_t) {
    told.insert(told.end(), flows.begin(), flows.end());
  };

  ctl->handle("network.disconnect", json{{"network", "front"}, {"container", "db"}});
  ctl->tick(1);
  EXPECT_TRUE(told.empty()) << "nobody listens: nothing collected";
  EXPECT_EQ(datapath.ct_deleted.size(), 2u);

  listening = true;
  ctl->handle("network.disconnect", json{{"network", "front"}, {"container", "web"}});
  EXPECT_TRUE(told.empty()) << "told from the request, not the next tick";
  ctl->tick(2);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].phase, datapath::FlowPhase::kEndPurged);
  EXPECT_EQ(told[0].orig.saddr, web);
  ctl->tick(3);
  EXPECT_EQ(told.size(), 1u) << "told once";
}

TEST_F(ControllerTest, RestartRestoresMissingPortMaps) {
  create("front", "10.10.0.0/24");
  connect("front", "web");
  ctl->handle("port.add", json{{"container", "web"}, {"specs", {"8080:80"}}});
  const datapath::MapContents good = datapath.maps;
  datapath.maps.portmaps.clear();
  datapath.deltas.clear();
  start();
  ASSERT_EQ(datapath.deltas.size(), 1u);
  EXPECT_EQ(datapath.deltas[0].size(), 1u);
  EXPECT_EQ(datapath.deltas[0].portmaps.upserts.size(), 1u);
  EXPECT_EQ(datapath.maps, good);
}

// --- uplinks, host addresses, conntrack ------------------------------------------------

TEST_F(ControllerTest, UplinksAreAttachedAndProjected) {
  plumbing.uplinks["eth0"] = UplinkInfo{7, core::Ipv4::parse("192.0.2.10"), {2, 0, 0, 0, 0, 7}};
  plumbing.addresses = {core::Ipv4::parse("192.0.2.10"), core::Ipv4::parse("127.0.0.1")};
  options.uplinks = {"eth0"};
  plumbing.calls.clear();
  start();
  EXPECT_EQ(datapath.uplink_attach_calls, std::vector<uint32_t>{7});
  EXPECT_EQ(plumbing.calls_of("enable_forwarding").size(), 1u);
  EXPECT_EQ(datapath.maps.uplinks,
            (std::map<uint32_t, datapath::UplinkEntry>{
                {7, datapath::UplinkEntry{7, ip("192.0.2.10"), {2, 0, 0, 0, 0, 7}}}}));
  EXPECT_EQ(datapath.maps.host_addrs,
            (std::map<uint32_t, uint32_t>{{ip("192.0.2.10"), 0}, {ip("127.0.0.1"), 0}}));
}

// --- uplink hooks (issue 11): XDP only where checksums arrive complete -------------

class UplinkHookTest : public ControllerTest {
 protected:
  // eth0 (ifindex 7) with `driver`; the controller started with `specs`.
  void start_with(const std::string& driver, std::vector<std::string> specs) {
    plumbing.uplinks["eth0"] = UplinkInfo{7, core::Ipv4::parse("192.0.2.10"), {}, "eth0", driver};
    options.uplinks = std::move(specs);
    start();
  }
  const UplinkStatus& eth0() {
    EXPECT_EQ(ctl->uplinks().size(), 1u);
    return ctl->uplinks().at(0);
  }
};

TEST_F(UplinkHookTest, AutoOnAVethIsTc) {
  start_with("veth", {"eth0"});
  EXPECT_FALSE(datapath.uplink_xdp.at(7));
  EXPECT_FALSE(eth0().xdp);
  EXPECT_EQ(eth0().reason, "veth: partial checksums from the peer");
}

TEST_F(UplinkHookTest, AutoOnANicWithNativeXdpIsXdp) {
  start_with("mlx5_core", {"eth0:auto"});
  EXPECT_TRUE(datapath.uplink_xdp.at(7));
  EXPECT_EQ(eth0().reason, "mlx5_core: native XDP, complete checksums");
}

TEST_F(UplinkHookTest, NoXdpMakesAutoTc) {
  options.xdp = false;
  start_with("mlx5_core", {"eth0"});
  EXPECT_FALSE(datapath.uplink_xdp.at(7));
  EXPECT_EQ(eth0().reason, "set by --no-xdp");
}

TEST_F(UplinkHookTest, AModeOnTheCommandLineWins) {
  start_with("veth", {"eth0:xdp"});
  EXPECT_TRUE(datapath.uplink_xdp.at(7));
  EXPECT_EQ(eth0().reason, "set by eth0:xdp");
  options.xdp = false;  // --no-xdp only changes auto uplinks
  start();
  EXPECT_TRUE(datapath.uplink_xdp.at(7));
}

TEST_F(UplinkHookTest, ADriverRefusingXdpFallsBackToTc) {
  datapath.refuse_xdp = true;
  start_with("ixgbe", {"eth0"});
  EXPECT_FALSE(datapath.uplink_xdp.at(7));
  EXPECT_EQ(eth0().reason,
            "ixgbe: native XDP, complete checksums (XDP refused: fake: XDP refused)");
}

TEST_F(UplinkHookTest, AForcedXdpThatFailsStopsTheStart) {
  datapath.refuse_xdp = true;
  EXPECT_THROW(start_with("veth", {"eth0:xdp"}), datapath::DatapathError);
}

TEST_F(UplinkHookTest, UplinkLsShowsModeAndReason) {
  plumbing.uplinks["eth1"] = UplinkInfo{9, core::Ipv4::parse("198.51.100.1"), {}, "eth1", "ice"};
  plumbing.uplinks["gone0"] = UplinkInfo{11, core::Ipv4::parse("203.0.113.1"), {}, "gone0", "veth"};
  start_with("veth", {"eth1", "eth0", "gone0:tc"});
  plumbing.uplinks.erase("gone0");  // removed while bpfnetd runs: shown, not attached
  ctl->tick(0);
  const json r = ctl->handle("uplink.ls", json::object());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (json{{"name", "eth0"},
                        {"requested", "auto"},
                        {"mode", "tc"},
                        {"reason", "veth: partial checksums from the peer"},
                        {"ifindex", 7},
                        {"driver", "veth"},
                        {"address", "192.0.2.10"}}));
  EXPECT_EQ(r[1]["mode"], "xdp");
  EXPECT_EQ(r[1]["driver"], "ice");
  EXPECT_EQ(r[2], (json{{"name", "gone0"},
                        {"requested", "tc"},
                        {"mode", "none"},
                        {"reason", "no such interface, or no IPv4 address"}}));
}

TEST_F(ControllerTest, WithoutUplinksForwardingIsLeftAlone) {
  EXPECT_TRUE(plumbing.calls_of("enable_forwarding").empty());
  EXPECT_TRUE(datapath.uplink_attach_calls.empty());
}

TEST_F(ControllerTest, MissingUplinkFailsLoadBeforeTouchingTheDatapath) {
  options.uplinks = {"nope"};
  datapath.deltas.clear();
  Controller c(
      store, plumbing, ids, [] { return std::string(kNow); }, options);
  EXPECT_THROW(c.load(std::nullopt), core::UserError);
  EXPECT_TRUE(datapath.deltas.empty());
}

TEST_F(ControllerTest, TickFollowsHostAddresses) {
  plumbing.addresses = {core::Ipv4::parse("192.0.2.10")};
  start();
  datapath.deltas.clear();
  ctl->tick(0);
  EXPECT_TRUE(datapath.deltas.empty());  // nothing changed: nothing written

  plumbing.addresses.push_back(core::Ipv4::parse("198.51.100.1"));
  ctl->tick(0);
  ASSERT_EQ(datapath.deltas.size(), 1u);
  EXPECT_EQ(datapath.deltas[0].host_addrs.upserts,
            (std::vector<std::pair<uint32_t, uint32_t>>{{ip("198.51.100.1"), 0}}));
  EXPECT_EQ(datapath.deltas[0].size(), 1u);
}

TEST_F(ControllerTest, TickFollowsAReaddressedUplink) {
  plumbing.uplinks["eth0"] = UplinkInfo{7, core::Ipv4::parse("192.0.2.10"), {}};
  plumbing.addresses = {core::Ipv4::parse("192.0.2.10")};
  options.uplinks = {"eth0"};
  start();
  plumbing.uplinks["eth0"].ip = core::Ipv4::parse("192.0.2.20");
  plumbing.addresses = {core::Ipv4::parse("192.0.2.20")};
  ctl->tick(0);
  EXPECT_EQ(datapath.maps.uplinks.at(7).ip, ip("192.0.2.20"));
}

// Documents a controller bug (see the report): when an uplink is recreated
// (new ifindex, same name, same addresses), tick() compares only the number
// of uplinks and the address list, so the uplinks map keeps the dead ifindex
// and no program is attached to the new one until the daemon restarts.
TEST_F(ControllerTest, TickFollowsARecreatedUplink) {
  plumbing.uplinks["eth0"] = UplinkInfo{7, core::Ipv4::parse("192.0.2.10"), {}};
  plumbing.addresses = {core::Ipv4::parse("192.0.2.10")};
  options.uplinks = {"eth0"};
  start();
  plumbing.uplinks["eth0"].ifindex = 8;
  ctl->tick(0);
  EXPECT_TRUE(datapath.maps.uplinks.contains(8));
  EXPECT_FALSE(datapath.maps.uplinks.contains(7));
  EXPECT_EQ(datapath.uplink_attach_calls.back(), 8u);
}

// --- doctor (issue 12): state, links and maps checked against each other -----------

class DoctorTest : public ControllerTest {
 protected:
  DoctorTest() {
    create("front", "10.10.0.0/24");
    connect("front", "web");
    connect("front", "db");
    ctl->handle("service.create",
                json{{"name", "api"}, {"network", "front"}, {"ports", {"80/tcp"}}});
    ctl->handle("service.add-backend", json{{"name", "api"}, {"container", "web"}});
  }
  std::vector<std::string> problems() { return ctl->doctor(); }
};

TEST_F(DoctorTest, AllAgreeNothingToReport) {
  EXPECT_EQ(problems(), std::vector<std::string>{});
  EXPECT_EQ(ctl->handle("doctor", json::object()),
            (json{{"ok", true}, {"problems", json::array()}}));
}

TEST_F(DoctorTest, AMissingVethOrProgram) {
  const std::string veth = endpoint("db").host_ifname;
  datapath.attached.erase(link_of("web").ifindex);
  plumbing.links.erase(veth);
  EXPECT_EQ(problems(), (std::vector<std::string>{
                            "container web: no bpfnet program on " + endpoint("web").host_ifname,
                            "container db: host interface " + veth + " is missing"}));
}

TEST_F(DoctorTest, AGoneNamespaceIsNoDrift) {
  plumbing.links.erase(endpoint("db").host_ifname);
  plumbing.namespaces.erase("ns-db");
  EXPECT_EQ(problems(), std::vector<std::string>{});
}

TEST_F(DoctorTest, ALeakedInterface) {
  plumbing.links["bnv0123456789"] = HostLink{999, {}};
  EXPECT_EQ(
      problems(),
      (std::vector<std::string>{"interface bnv0123456789 is bpfnet's but in no state: leaked"}));
}

TEST_F(DoctorTest, MapEntriesMissingExtraOrDifferent) {
  datapath.maps.endpoints_by_ip.erase(endpoint("db").ip.value);
  datapath.maps.portmaps[datapath::PortMapKey{0, 9999, 6}] =
      datapath::PortMapEntry{0, 9999, 6, 1, 1};
  datapath.maps.networks.begin()->second.mtu = 1;
  EXPECT_EQ(problems(),
            (std::vector<std::string>{"map table networks: 1 missing or different, 0 extra",
                                      "map table endpoints_by_ip: 1 missing or different, 0 extra",
                                      "map table portmaps: 0 missing or different, 1 extra"}));
  EXPECT_EQ(ctl->handle("doctor", json::object())["ok"], false);
}

TEST_F(DoctorTest, MaglevTables) {
  const uint32_t index = ctl->state().get_service("api").index;
  datapath.maglev.at(index).at(0) = 12345;
  datapath.maglev[index + 1] = {1, 2, 3};
  EXPECT_EQ(problems(), (std::vector<std::string>{
                            "service api: its Maglev table differs",
                            fmt::format("Maglev table {} belongs to no service", index + 1)}));
}

}  // namespace
}  // namespace bpfnet::daemon
