// MonitorHub (daemon/monitor.h) on the real Controller with fakes: the
// datapath is told to write events only while a monitor is connected, each
// event is named from the state and sent to the monitors whose filter it
// matches, lost counts are per monitor, and refused filters change nothing.
#include "daemon/monitor.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bpfnet_abi.h"
#include "core/error.h"
#include "daemon/state_store.h"
#include "fakes.h"

namespace bpfnet::daemon {
namespace {

using nlohmann::json;
using namespace bpfnet::daemon::fakes;

class FakeMonitorPort : public datapath::MonitorPort {
 public:
  void configure(const datapath::MonitorSettings& s) override { settings = s; }
  uint64_t lost_events() override { return lost; }
  void start_reading(Sink s) override { sink = std::move(s); }
  void stop_reading() override { sink = nullptr; }
  int fd() const override { return sink ? 42 : -1; }
  void drain() override {
    for (const auto& e : waiting) sink(e);
    waiting.clear();
  }

  datapath::MonitorSettings settings;
  uint64_t lost = 0;
  Sink sink;
  std::vector<datapath::MonitorEvent> waiting;
};

class MonitorHubTest : public ::testing::Test {
 protected:
  MonitorHubTest() {
    plumbing.namespaces = {"ns-web", "ns-db"};
    ctl = std::make_unique<Controller>(
        store, plumbing, ids, [] { return std::string("2024-05-01T12:00:00Z"); },
        without_default_bridge());
    ctl->load(std::nullopt);
    ctl->set_datapath(datapath);
    ctl->reconcile_all();
    ctl->handle("network.create", json{{"name", "n1"},
                                       {"driver", "bridge"},
                                       {"subnet", "10.5.0.0/24"},
                                       {"internal", false},
                                       {"options", json::object()}});
    for (const char* c : {"web", "db"})
      ctl->handle("network.connect",
                  json{{"network", "n1"}, {"container", c}, {"netns", std::string("ns-") + c}});
    hub = std::make_unique<MonitorHub>(*ctl, port, MonitorOptions{},
                                       [this](uint64_t id, std::string_view line) {
                                         sent[id].push_back(json::parse(line));
                                         return true;
                                       });
  }

  uint32_t ifindex_of(const std::string& container) {
    for (const auto& ep : ctl->state().endpoints)
      if (ep.container == container) return plumbing.links.at(ep.host_ifname).ifindex;
    throw std::logic_error("no " + container);
  }

  // A spoofed frame from web: Ethernet + IPv4 10.9.9.9 -> 10.5.0.3, ICMP.
  datapath::MonitorEvent spoof_from_web() {
    datapath::MonitorEvent e;
    e.type = datapath::EventType::kDrop;
    e.reason = BPFNET_DROP_INVALID_SIP;
    e.ifindex = ifindex_of("web");
    e.orig_len = 42;
    e.packet = {2, 0,  0, 0, 0, 1,  2, 0, 0, 0,  0, 2, 8, 0, 0x45, 0, 0, 28, 0, 0, 0x40,
                0, 64, 1, 0, 0, 10, 9, 9, 9, 10, 5, 0, 3, 8, 0,    0, 0, 0,  1, 0, 1};
    return e;
  }

  TempDir dir;
  StateStore store{dir.path()};
  FakePlumbing plumbing;
  FakeDatapath datapath;
  FakeIds ids;
  std::unique_ptr<Controller> ctl;
  FakeMonitorPort port;
  std::unique_ptr<MonitorHub> hub;
  std::map<uint64_t, std::vector<json>> sent;
};

TEST_F(MonitorHubTest, TheDatapathWritesAndIsReadOnlyWhileAMonitorIsConnected) {
  EXPECT_TRUE(port.settings.types.empty());
  EXPECT_EQ(port.fd(), -1);
  EXPECT_EQ(hub->open(1, "network.ls", json::object()), std::nullopt) << "not a stream";
  auto first = hub->open(1, "monitor", json{{"types", {"drop"}}});
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["types"], json({"drop"}));
  EXPECT_EQ(port.settings.types, std::set{datapath::EventType::kDrop});
  EXPECT_EQ(port.settings.trace_every, 0u) << "no trace monitor";
  EXPECT_NE(port.fd(), -1);
  hub->open(2, "monitor", json{{"types", {"trace"}}});
  EXPECT_EQ(port.settings.trace_every, 100u);
  hub->close(1);
  EXPECT_EQ(port.settings.types, std::set{datapath::EventType::kTrace});
  hub->close(2);
  EXPECT_TRUE(port.settings.types.empty());
  EXPECT_EQ(port.fd(), -1);
}

TEST_F(MonitorHubTest, EventsAreNamedAndSentToTheMonitorsTheyMatch) {
  hub->open(1, "monitor", json::object());
  hub->open(2, "monitor", json{{"container", "web"}, {"reason", "invalid-source-ip"}});
  hub->open(3, "monitor", json{{"types", {"trace"}}});
  hub->open(4, "monitor", json{{"container", "db"}});  // 10.5.0.3 is db's: matches by address
  port.waiting.push_back(spoof_from_web());
  hub->on_readable();
  ASSERT_EQ(sent[1].size(), 1u);
  const json& e = sent[1][0]["event"];
  EXPECT_EQ(e["type"], "drop");
  EXPECT_EQ(e["reason"], "invalid-source-ip");
  EXPECT_EQ(e["dir"], "from-container");
  EXPECT_EQ(e["at"]["container"], "web");
  EXPECT_EQ(e["at"]["network"], "n1");
  EXPECT_EQ(e["orig_len"], 42);
  EXPECT_EQ(e["packet"].get<std::string>().size(), 84u);
  EXPECT_EQ(sent[2].size(), 1u);
  EXPECT_EQ(sent[3].size(), 0u) << "a trace monitor";
  EXPECT_EQ(sent[4].size(), 1u) << "db is the destination";
}

TEST_F(MonitorHubTest, LostCountsArePerMonitor) {
  port.lost = 5;
  hub->open(1, "monitor", json::object());
  hub->report_lost();
  EXPECT_TRUE(sent[1].empty()) << "nothing lost since it connected";
  port.lost = 12;
  hub->report_lost();
  ASSERT_EQ(sent[1].size(), 1u);
  EXPECT_EQ(sent[1][0], json({{"lost", 7}}));
  hub->report_lost();
  EXPECT_EQ(sent[1].size(), 1u) << "told once";
}

TEST_F(MonitorHubTest, ARefusedFilterOpensNothing) {
  EXPECT_THROW(hub->open(1, "monitor", json{{"reason", "bogus"}}), core::UserError);
  EXPECT_THROW(hub->open(1, "monitor", json{{"container", "nope"}}), core::UserError);
  EXPECT_EQ(hub->monitors(), 0u);
  EXPECT_TRUE(port.settings.types.empty());
  EXPECT_EQ(port.fd(), -1);
}

// Flow events (the datapath's and the GC's): named by the container whose
// address the flow has (before or after translation), filtered by it.
TEST_F(MonitorHubTest, FlowEventsAreNamedByTheirContainerAndFiltered) {
  EXPECT_FALSE(hub->wants_flows());
  hub->open(1, "monitor", json{{"types", {"flow"}}});
  hub->open(2, "monitor", json{{"types", {"flow"}}, {"container", "web"}});
  hub->open(3, "monitor", json{{"types", {"flow"}}, {"container", "db"}});
  hub->open(4, "monitor", json{{"types", {"drop"}}});
  EXPECT_TRUE(hub->wants_flows());
  EXPECT_TRUE(port.settings.types.contains(datapath::EventType::kFlow));

  datapath::FlowRecord f;
  f.phase = datapath::FlowPhase::kStart;
  f.orig = datapath::CtTuple{0xc6336407, 0xc0000201, 4242, 8080, 6};  // client -> host:8080
  f.xlat = datapath::CtTuple{0xc6336407, 0x0a050002, 4242, 80, 6};    // -> web:80
  f.packets_orig = 1;
  f.bytes_orig = 60;
  f.created_ns = 1000;
  datapath::MonitorEvent start;
  start.type = datapath::EventType::kFlow;
  start.time_ns = 1000;
  start.flow = f;
  port.waiting.push_back(start);
  hub->on_readable();
  ASSERT_EQ(sent[1].size(), 1u);
  const json& e = sent[1][0]["event"];
  EXPECT_EQ(e["type"], "flow");
  EXPECT_EQ(e["container"], "web");
  EXPECT_EQ(e["network"], "n1");
  EXPECT_EQ(e["flow"]["phase"], "start");
  EXPECT_EQ(e["flow"]["proto"], "tcp");
  EXPECT_EQ(e["flow"]["src"], "198.51.100.7:4242");
  EXPECT_EQ(e["flow"]["dst"], "192.0.2.1:8080");
  EXPECT_EQ(e["flow"]["xlat_dst"], "10.5.0.2:80");
  EXPECT_EQ(e["flow"]["nat"], json({"dnat"}));
  EXPECT_EQ(e["flow"]["packets_orig"], 1);
  EXPECT_FALSE(e["flow"].contains("end"));
  EXPECT_EQ(sent[2].size(), 1u) << "web's";
  EXPECT_EQ(sent[3].size(), 0u) << "not db's";
  EXPECT_EQ(sent[4].size(), 0u) << "a drop monitor";

  // The GC's removal of the same flow: an end in the same stream.
  f.phase = datapath::FlowPhase::kEndGc;
  f.packets_reply = 10;
  f.bytes_reply = 9000;
  hub->flows_ended({f}, 2'100'001'000);
  ASSERT_EQ(sent[1].size(), 2u);
  const json& end = sent[1][1]["event"];
  EXPECT_EQ(end["flow"]["phase"], "end");
  EXPECT_EQ(end["flow"]["end"], "gc");
  EXPECT_EQ(end["flow"]["bytes_reply"], 9000);
  EXPECT_EQ(end["flow"]["age_ns"], 2'100'000'000u);
  EXPECT_EQ(sent[2].size(), 2u);
  EXPECT_EQ(sent[3].size(), 0u);
  hub->close(1);
  hub->close(2);
  hub->close(3);
  EXPECT_FALSE(hub->wants_flows());
}

// The GC's and purges' flow ends go through a token bucket like the
// datapath's (a second's worth of burst, then the rate): a GC that expires
// a whole conntrack at once tells a burst and counts the rest as lost.
TEST_F(MonitorHubTest, DaemonFlowEndsAreRateLimitedAndTheRestCountsAsLost) {
  hub = std::make_unique<MonitorHub>(*ctl, port, MonitorOptions{.trace_every = 100, .rate = 10},
                                     [this](uint64_t id, std::string_view line) {
                                       sent[id].push_back(json::parse(line));
                                       return true;
                                     });
  hub->open(1, "monitor", json{{"types", {"flow"}}});
  datapath::FlowRecord f;
  f.phase = datapath::FlowPhase::kEndGc;
  f.orig = datapath::CtTuple{0xc6336407, 0x0a050002, 4242, 80, 6};
  const uint64_t t0 = 5'000'000'000;
  hub->flows_ended(std::vector<datapath::FlowRecord>(25, f), t0);
  EXPECT_EQ(sent[1].size(), 10u) << "the burst: a second's worth";
  hub->report_lost();
  ASSERT_EQ(sent[1].size(), 11u);
  EXPECT_EQ(sent[1].back(), json({{"lost", 15}}));
  hub->flows_ended(std::vector<datapath::FlowRecord>(5, f), t0 + 300'000'000);
  EXPECT_EQ(sent[1].size(), 14u) << "0.3 s later: 3 more tokens";
  hub->flows_ended(std::vector<datapath::FlowRecord>(20, f), t0 + 10'000'000'000);
  EXPECT_EQ(sent[1].size(), 24u) << "refilled to the burst, no more";
  hub->report_lost();
  EXPECT_EQ(sent[1].back(), json({{"lost", 15 + 2 + 10}}));
  // A monitor that connects later counts only what it missed itself.
  hub->open(2, "monitor", json{{"types", {"flow"}}});
  hub->report_lost();
  EXPECT_TRUE(sent[2].empty());
}

}  // namespace
}  // namespace bpfnet::daemon
