// bpfnetctl monitor's reading of the daemon's stream: lines parsed (and
// malformed ones refused by name), printed as tcpdump does, summed up.
#include "ctl/monitor_stream.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

namespace bpfnet::ctl {
namespace {

// A spoofed ICMP echo from c1, as the daemon sends it (98 bytes, 64 captured...
// here the first 42: Ethernet, IPv4, ICMP header, 0 data bytes).
constexpr const char* kDropLine =
    R"({"event":{"type":"drop","reason":"invalid-source-ip","time_unix_ns":1700000000123456789,)"
    R"("hook":"tc","dir":"from-container","orig_len":98,)"
    R"("at":{"ifindex":7,"interface":"bnv0a1b2c3d4e5","container":"c1","network":"web"},)"
    R"("packet":"6e000000000a0242ac120002080045000054123440004001000)"
    R"(00a4f00630a4f000308000000007b0001"}})";

class MonitorStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_F(MonitorStreamTest, ADropLinePrintsAsTcpdumpWould) {
  MonitorStreamItem item = parse_monitor_line(kDropLine);
  ASSERT_TRUE(item.event);
  EXPECT_FALSE(item.lost);
  const MonitorEventLine& e = *item.event;
  EXPECT_EQ(e.packet.size(), 42u);
  EXPECT_EQ(e.orig_len, 98u);
  EXPECT_EQ(format_event(e),
            "22:13:20.123456 drop invalid-source-ip c1 (web) bnv0a1b2c3d4e5 from-container: "
            "IP 10.79.0.99 > 10.79.0.3: icmp echo request, id 123, seq 1");
  Json j = Json::parse(format_event_json(e));
  EXPECT_EQ(j["summary"], "IP 10.79.0.99 > 10.79.0.3: icmp echo request, id 123, seq 1");
  EXPECT_EQ(j["reason"], "invalid-source-ip");
}

TEST_F(MonitorStreamTest, ATraceShowsWhereItWent) {
  MonitorStreamItem item = parse_monitor_line(
      R"({"event":{"type":"trace","time_unix_ns":0,"dir":"from-outside","orig_len":0,"packet":"",)"
      R"("at":{"ifindex":2,"interface":"eth0"},"to":{"ifindex":9,"interface":"bnv9","container":"web","network":"n"}}})");
  ASSERT_TRUE(item.event);
  EXPECT_EQ(format_event(*item.event),
            "00:00:00.000000 trace eth0 from-outside -> web (n) bnv9: [|ether]");
}

TEST_F(MonitorStreamTest, LostCounts) {
  MonitorStreamItem item = parse_monitor_line(R"({"lost": 12})");
  EXPECT_FALSE(item.event);
  EXPECT_EQ(item.lost, 12u);
}

TEST_F(MonitorStreamTest, MalformedLinesAreProtocolErrors) {
  for (
      const char* line : {
          "",
          "[]",
          "{}",
          R"({"lost": -1})",
          R"({"event": 1})",
          R"({"event":{"type":"party","time_unix_ns":0,"orig_len":0,"packet":""}})",
          R"({"event":{"type":"drop","time_unix_ns":0,"orig_len":0,"packet":""}})",
          R"({"event":{"type":"trace","time_unix_ns":0,"orig_len":1,"packet":"zz"}})",
          R"({"event":{"type":"trace","time_unix_ns":0,"orig_len":1,"packet":"abc"}})",
          R"({"event":{"type":"trace","time_unix_ns":0,"orig_len":1,"packet":"abcd"}})",
          R"({"event":{"type":"trace","time_unix_ns":0,"orig_len":1,"packet":"","at":{"ifindex":-1}}})",
      }) {
    EXPECT_THROW(parse_monitor_line(line), ProtocolError) << line;
  }
  const std::string too_long =
      R"({"event":{"type":"trace","time_unix_ns":0,"orig_len":999,"packet":")" +
      std::string(2 * 129, 'a') + R"("}})";
  EXPECT_THROW(parse_monitor_line(too_long), ProtocolError);
}

TEST_F(MonitorStreamTest, TheSummaryCountsByKindAndLost) {
  MonitorSummary s;
  const MonitorEventLine drop = *parse_monitor_line(kDropLine).event;
  s.count(drop);
  s.count(drop);
  s.set_lost(3);
  EXPECT_EQ(s.render(),
            "2 events\n  drop invalid-source-ip: 2\n3 events lost (rate limit, full ring or a "
            "slow reader)\n");
  EXPECT_EQ(s.to_json()["summary"]["by_kind"]["drop invalid-source-ip"], 2);
}

// Flow events: one line per flow start and end, with its NAT, its container
// and, at the end, both directions' counters and its age.
constexpr const char* kFlowEndLine =
    R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":"",)"
    R"("container":"web1","network":"net",)"
    R"("flow":{"phase":"end","end":"gc","proto":"tcp","src":"10.0.0.1:4242",)"
    R"("dst":"192.168.1.2:8080","xlat_src":"10.0.0.1:4242","xlat_dst":"172.18.0.2:80",)"
    R"("nat":["dnat"],"packets_orig":12,"bytes_orig":1300,"packets_reply":10,)"
    R"("bytes_reply":9000,"age_ns":2100000000}}})";

TEST_F(MonitorStreamTest, FlowEventsPrintOneLineEach) {
  MonitorStreamItem item = parse_monitor_line(kFlowEndLine);
  ASSERT_TRUE(item.event && item.event->flow);
  const MonitorEventLine e = *item.event;
  EXPECT_EQ(e.flow->packets_orig, 12u);
  EXPECT_EQ(e.flow->bytes_reply, 9000u);
  EXPECT_EQ(e.flow->age_ns, 2'100'000'000u);
  EXPECT_EQ(format_event(e),
            "00:00:00.000000 FLOW end tcp 10.0.0.1:4242 -> 192.168.1.2:8080 (dnat "
            "172.18.0.2:80) web1 [net]: 12 pkts/1.3 kB ->, 10 pkts/9.0 kB <-, 2.1 s, gc");
  Json j = Json::parse(format_event_json(e));
  EXPECT_EQ(j["flow"]["src"], "10.0.0.1:4242");
  EXPECT_EQ(j["container"], "web1");
  EXPECT_EQ(j["summary"],
            "FLOW end tcp 10.0.0.1:4242 -> 192.168.1.2:8080 (dnat 172.18.0.2:80) web1 [net]: "
            "12 pkts/1.3 kB ->, 10 pkts/9.0 kB <-, 2.1 s, gc");

  // A container's masqueraded flow: its start, SNAT, no counters.
  item = parse_monitor_line(
      R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":"",)"
      R"("container":"c1","network":"n","flow":{"phase":"start","proto":"udp",)"
      R"("src":"172.18.0.2:5000","dst":"1.1.1.1:53","xlat_src":"192.0.2.1:40001",)"
      R"("xlat_dst":"1.1.1.1:53","nat":["snat"],"packets_orig":1,"bytes_orig":40,)"
      R"("packets_reply":0,"bytes_reply":0,"age_ns":0}}})");
  ASSERT_TRUE(item.event);
  EXPECT_EQ(format_event(*item.event),
            "00:00:00.000000 FLOW start udp 172.18.0.2:5000 -> 1.1.1.1:53 (snat "
            "192.0.2.1:40001) c1 [n]");

  MonitorSummary summary;
  summary.count(e);
  summary.count(*item.event);
  EXPECT_EQ(summary.to_json()["summary"]["by_kind"], (Json{{"flow end", 1}, {"flow start", 1}}));
}

TEST_F(MonitorStreamTest, MalformedFlowLinesAreProtocolErrors) {
  for (const char* line : {
           R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":""}})",
           R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":"","flow":1}})",
           R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":"",)"
           R"("flow":{"phase":"middle","proto":"tcp","src":"a","dst":"b"}}})",
           R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":"",)"
           R"("flow":{"phase":"end","proto":"tcp","src":"a","dst":"b","nat":[1]}}})",
           R"({"event":{"type":"flow","time_unix_ns":0,"orig_len":0,"packet":"",)"
           R"("flow":{"phase":"end","proto":"tcp","src":"a","dst":"b","packets_orig":-1}}})",
       })
    EXPECT_THROW(parse_monitor_line(line), ProtocolError) << line;
}

}  // namespace
}  // namespace bpfnet::ctl
