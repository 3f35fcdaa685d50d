#include "ctl/flows_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ctl/json.h"
#include "ctl/render.h"
#include "ctl/tabwriter.h"

namespace bpfnet::ctl {
namespace {

// Two flows as the daemon writes them (core/flows.cc flows_json_text): a
// published port, and a masqueraded flow of a container whose name needs
// escapes and has a two-byte character.
const std::string kTwoFlows =
    R"([{"proto":"tcp","client":"198.51.100.7:40000","address":"192.0.2.1:8080",)"
    R"("address_kind":"service","service":"api","container":"web","network":"front",)"
    R"("server":"172.18.0.2:80","nat":"DNAT","snat":null,"client_state":"ESTABLISHED",)"
    R"("server_state":"ESTABLISHED","age_ms":192000,"idle_ms":4000,"client_packets":10,)"
    R"("client_bytes":1000,"server_packets":8,"server_bytes":5000},)"
    R"({"proto":"udp","client":"172.18.0.3:5353","address":"8.8.8.8:53",)"
    R"("address_kind":"outside","service":"","container":"d\"b\u00e9","network":"front",)"
    R"("server":"8.8.8.8:53","nat":"masquerade","snat":"192.0.2.1:20001","client_state":"NEW",)"
    R"("server_state":"NEW","age_ms":7500000,"idle_ms":61000,"client_packets":1,)"
    R"("client_bytes":60,"server_packets":0,"server_bytes":0}])";

TEST(FlowsTable, TheDockerTableOfTheFlowsText) {
  // What docker_table (Go's tabwriter) lays out for the same cells.
  const std::string want = docker_table({
      {"PROTO", "CLIENT", "ADDRESS", "CONTAINER", "NETWORK", "SERVER", "NAT", "STATE", "AGE",
       "IDLE", "PACKETS IN/OUT", "BYTES IN/OUT"},
      {"tcp", "198.51.100.7:40000", "192.0.2.1:8080 (api)", "web", "front", "172.18.0.2:80", "DNAT",
       "ESTABLISHED/ESTABLISHED", "3m12s", "4s", "10/8", "1000/5000"},
      {"udp", "172.18.0.3:5353", "8.8.8.8:53", "d\"b\xc3\xa9", "front", "8.8.8.8:53",
       "masquerade 192.0.2.1:20001", "NEW/NEW", "2h05m", "1m01s", "1/0", "60/0"},
  });
  EXPECT_EQ(flows_table(kTwoFlows), want);
  // Whitespace between tokens (a document's dump with indentation) is the same.
  EXPECT_EQ(flows_table(Json::parse(kTwoFlows).dump(2)), want);
}

TEST(FlowsTable, NoFlowsIsTheHeaderAlone) {
  EXPECT_EQ(flows_table("[]"),
            "PROTO     CLIENT    ADDRESS   CONTAINER   NETWORK   SERVER    NAT       STATE     "
            "AGE       IDLE      PACKETS IN/OUT   BYTES IN/OUT\n");
}

TEST(FlowsTable, JsonOneFlowPerLineAsTheDaemonWroteIt) {
  const std::string out = flows_json_lines(kTwoFlows);
  EXPECT_EQ(Json::parse(out), Json::parse(kTwoFlows));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4);  // [, two flows, ]
  EXPECT_TRUE(out.starts_with("[\n{\"proto\":\"tcp\""));
  EXPECT_TRUE(out.ends_with("}\n]\n"));
  EXPECT_EQ(flows_json_lines("[]"), "[]\n");
}

TEST(FlowsTable, WhatIsNotAnArrayOfFlatObjectsIsABadResult) {
  for (const char* text : {"", "{}", "[", "[{\"proto\":\"tcp\"}", "[{\"a\":[1]}]",
                           "[{\"a\":{\"b\":1}}]", "[{\"a\":\"unterminated}]", "[{}] x", "[{},]"}) {
    EXPECT_THROW(flows_table(text), BadResult) << text;
    EXPECT_THROW(flows_json_lines(text), BadResult) << text;
  }
}

}  // namespace
}  // namespace bpfnet::ctl
