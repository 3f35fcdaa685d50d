// The monitor's pure parts in core: packet summaries (tcpdump's words, any
// bytes), the filters a monitor asks for (checked against the state) and
// their matching, drop reasons by name.
#include <gtest/gtest.h>

#include <vector>

#include "bpfnet_abi.h"
#include "core/drop_reasons.h"
#include "core/error.h"
#include "core/monitor_filter.h"
#include "core/packet_summary.h"

namespace bpfnet::core {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes ipv4_frame(uint8_t proto, const Bytes& l4, uint16_t frag = 0x4000) {
  Bytes b = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  const uint16_t total = uint16_t(20 + l4.size());
  Bytes ip = {0x45,
              0,
              uint8_t(total >> 8),
              uint8_t(total),
              0x12,
              0x34,
              uint8_t(frag >> 8),
              uint8_t(frag),
              64,
              proto,
              0,
              0,
              10,
              0,
              0,
              5,
              10,
              0,
              1,
              7};
  b.insert(b.end(), ip.begin(), ip.end());
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

TEST(PacketSummary, TcpUdpIcmpInTcpdumpsWords) {
  Bytes tcp(20, 0);
  tcp[0] = 0x04, tcp[1] = 0xd2, tcp[3] = 80, tcp[13] = 0x12;  // 1234 -> 80, SYN+ACK
  EXPECT_EQ(summarize_packet(ipv4_frame(6, tcp)).text, "IP 10.0.0.5.1234 > 10.0.1.7.80: tcp [S.]");
  Bytes udp = {0x9c, 0x40, 0, 53, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(summarize_packet(ipv4_frame(17, udp)).text,
            "IP 10.0.0.5.40000 > 10.0.1.7.53: udp, length 5");
  Bytes echo = {8, 0, 0, 0, 0, 7, 0, 1};
  PacketSummary s = summarize_packet(ipv4_frame(1, echo));
  EXPECT_EQ(s.text, "IP 10.0.0.5 > 10.0.1.7: icmp echo request, id 7, seq 1");
  EXPECT_EQ(s.src, Ipv4::parse("10.0.0.5"));
  EXPECT_EQ(s.dst, Ipv4::parse("10.0.1.7"));
  EXPECT_EQ(summarize_packet(ipv4_frame(47, {})).text, "IP 10.0.0.5 > 10.0.1.7: ip-proto-47");
  EXPECT_EQ(summarize_packet(ipv4_frame(6, tcp, 0x0010)).text,
            "IP 10.0.0.5 > 10.0.1.7: ip-proto-6 fragment");
}

TEST(PacketSummary, Arp) {
  Bytes b = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0,  2, 0x08, 0x06,
             0,    1,    8,    0,    6,    4,    0, 1, 2, 0, 0,  0, 0,    2,
             10,   0,    0,    5,    0,    0,    0, 0, 0, 0, 10, 0, 0,    1};
  PacketSummary s = summarize_packet(b);
  EXPECT_EQ(s.text, "ARP, Request who-has 10.0.0.1 tell 10.0.0.5");
  b[21] = 2;
  EXPECT_EQ(summarize_packet(b).text, "ARP, Reply 10.0.0.5 is-at 02:00:00:00:00:02");
}

TEST(PacketSummary, ShortOrOddBytesGiveASummaryNotACrash) {
  EXPECT_EQ(summarize_packet(Bytes{}).text, "[|ether]");
  EXPECT_EQ(summarize_packet(Bytes(13, 0)).text, "[|ether]");
  Bytes f = ipv4_frame(6, Bytes(20, 0));
  EXPECT_EQ(summarize_packet(Bytes(f.begin(), f.begin() + 20)).text, "IP [|ip]");
  EXPECT_EQ(summarize_packet(Bytes(f.begin(), f.begin() + 40)).text,
            "IP 10.0.0.5 > 10.0.1.7: tcp [|tcp]");
  Bytes ip6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd};
  EXPECT_EQ(summarize_packet(ip6).text, "IP6");
  f[14] = 0x41;  // IHL 1
  EXPECT_EQ(summarize_packet(f).text, "IP 10.0.0.5 > 10.0.1.7: bad header length 4");
}

TEST(DropReasons, CodeByName) {
  EXPECT_EQ(drop_reason_code("invalid-source-ip"), unsigned(BPFNET_DROP_INVALID_SIP));
  EXPECT_EQ(drop_reason_code("forwarded"), std::nullopt);
  EXPECT_EQ(drop_reason_code("bogus"), std::nullopt);
}

class MonitorFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Network n;
    n.id = std::string(64, 'a');
    n.name = "web";
    n.driver = "bridge";
    state_.networks.push_back(n);
    Endpoint e;
    e.id = std::string(64, 'b');
    e.network_id = n.id;
    e.container = "c1";
    state_.endpoints.push_back(e);
  }
  State state_;
};

TEST_F(MonitorFilterTest, EveryTypeByDefault) {
  MonitorFilter f = parse_monitor_filter(nlohmann::json::object(), state_);
  EXPECT_EQ(f.types, (std::set<std::string>{"drop", "trace", "flow"}));
}

TEST_F(MonitorFilterTest, UnknownNamesAreRefusedNamingThem) {
  auto refused = [&](const nlohmann::json& args, const std::string& message) {
    try {
      parse_monitor_filter(args, state_);
      ADD_FAILURE() << "accepted " << args.dump();
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  refused({{"types", {"drop", "bogus"}}},
          "monitor: --type bogus: no such event type (drop, trace, flow)");
  refused({{"container", "c9"}}, "monitor: --container c9: no such container");
  refused({{"network", "nope"}}, "monitor: --network nope: no such network");
  refused({{"reason", "forwarded"}}, "monitor: --reason forwarded: no such drop reason");
  EXPECT_THROW(parse_monitor_filter({{"colour", "red"}}, state_), UserError);
}

TEST_F(MonitorFilterTest, MatchesByTypeReasonContainerNetwork) {
  MonitorFilter f = parse_monitor_filter(
      {{"types", {"drop"}}, {"container", "c1"}, {"network", "web"}, {"reason", "isolation"}},
      state_);
  EventSubjects e{"drop", BPFNET_DROP_ISOLATION, {"c1", "c2"}, {"web", "db"}};
  EXPECT_TRUE(monitor_matches(f, e));
  EXPECT_FALSE(monitor_matches(f, {"trace", BPFNET_DROP_ISOLATION, {"c1"}, {"web"}}));
  EXPECT_FALSE(monitor_matches(f, {"drop", BPFNET_DROP_ICC, {"c1"}, {"web"}}));
  EXPECT_FALSE(monitor_matches(f, {"drop", BPFNET_DROP_ISOLATION, {"c2"}, {"web"}}));
  EXPECT_FALSE(monitor_matches(f, {"drop", BPFNET_DROP_ISOLATION, {"c1"}, {"db"}}));
  MonitorFilter any = parse_monitor_filter(nlohmann::json::object(), state_);
  EXPECT_TRUE(monitor_matches(any, {"trace", 0, {}, {}}));
}

TEST(MonitorEventTypes, InTheDatapathsOrder) {
  // enum bpfnet_event_type: drop = 1, trace = 2, flow = 3.
  auto types = monitor_event_types();
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[BPFNET_EVENT_DROP - 1], "drop");
  EXPECT_EQ(types[BPFNET_EVENT_TRACE - 1], "trace");
  EXPECT_EQ(types[BPFNET_EVENT_FLOW - 1], "flow");
}

}  // namespace
}  // namespace bpfnet::core
