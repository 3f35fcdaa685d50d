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

}  // namespace
}  // namespace bpfnet::ctl
