#include "ctl/flows_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>

#include "ctl/json.h"
#include "ctl/render.h"
#include "ctl/tabwriter.h"

namespace bpfnet::ctl {
namespace {

// Two flows as the daemon writes them in the rows format (core/flows_wire.h):
// a service's published port, and a masqueraded flow of a container whose
// name needs escapes and has a two-byte character. 198.51.100.7 is
// 3325256711, 192.0.2.1 3221225985, 172.18.0.2/.3 2886860802/3, 8.8.8.8
// 134744072; states 0 NEW, 1 ESTABLISHED.
const std::string kTwoFlows =
    R"({"names":["service","api","web","front","DNAT","outside","","d\"b\u00e9","masquerade"],)"
    R"("rows":[[6,3325256711,40000,3221225985,8080,0,1,2,3,2886860802,80,4,0,0,1,1,192000,4000,)"
    R"(10,1000,8,5000],)"
    R"([17,2886860803,5353,134744072,53,5,6,7,3,134744072,53,8,3221225985,20001,0,0,7500000,)"
    R"(61000,1,60,0,0]]})";

TEST(FlowsTable, TheDockerTableOfTheFlows) {
  // What docker_table (Go's tabwriter) lays out for the same cells.
  const std::string want = docker_table({
      {"PROTO", "CLIENT", "ADDRESS", "CONTAINER", "NETWORK", "SERVER", "NAT", "STATE", "AGE",
       "IDLE", "PACKETS IN/OUT", "BYTES IN/OUT"},
      {"tcp", "198.51.100.7:40000", "192.0.2.1:8080 (api)", "web", "front", "172.18.0.2:80", "DNAT",
       "ESTABLISHED/ESTABLISHED", "3m12s", "4s", "10/8", "1000/5000"},
      {"udp", "172.18.0.3:5353", "8.8.8.8:53", "d\"b\xc3\xa9", "front", "8.8.8.8:53",
       "masquerade 192.0.2.1:20001", "NEW/NEW", "2h05m", "1m01s", "1/0", "60/0"},
  });
  EXPECT_EQ(flows_table(decode_flows(kTwoFlows).rows), want);
  // Whitespace between tokens (a document's dump with indentation) is the same.
  EXPECT_EQ(flows_table(decode_flows(Json::parse(kTwoFlows).dump(2)).rows), want);
}

TEST(FlowsTable, NoFlowsIsTheHeaderAlone) {
  const std::string header =
      "PROTO     CLIENT    ADDRESS   CONTAINER   NETWORK   SERVER    NAT       STATE     "
      "AGE       IDLE      PACKETS IN/OUT   BYTES IN/OUT\n";
  EXPECT_EQ(flows_table({}), header);
  EXPECT_EQ(flows_table(decode_flows(R"({"names":[],"rows":[]})").rows), header);
}

TEST(FlowsTable, JsonOneObjectPerFlowPerLine) {
  const std::string out = flows_json_lines(decode_flows(kTwoFlows).rows);
  EXPECT_EQ(Json::parse(out), Json::parse(R"([
    {"proto":"tcp","client":"198.51.100.7:40000","address":"192.0.2.1:8080",
     "address_kind":"service","service":"api","container":"web","network":"front",
     "server":"172.18.0.2:80","nat":"DNAT","snat":null,"client_state":"ESTABLISHED",
     "server_state":"ESTABLISHED","age_ms":192000,"idle_ms":4000,"client_packets":10,
     "client_bytes":1000,"server_packets":8,"server_bytes":5000},
    {"proto":"udp","client":"172.18.0.3:5353","address":"8.8.8.8:53",
     "address_kind":"outside","service":"","container":"d\"b\u00e9","network":"front",
     "server":"8.8.8.8:53","nat":"masquerade","snat":"192.0.2.1:20001","client_state":"NEW",
     "server_state":"NEW","age_ms":7500000,"idle_ms":61000,"client_packets":1,
     "client_bytes":60,"server_packets":0,"server_bytes":0}])"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4);  // [, two flows, ]
  EXPECT_TRUE(out.starts_with("[\n{\"proto\":\"tcp\""));
  EXPECT_TRUE(out.ends_with("}\n]\n"));
  EXPECT_EQ(flows_json_lines({}), "[]\n");
}

TEST(FlowsTable, WhatIsNotARowsResultIsABadResult) {
  const std::string row = "6,1,2,3,4,0,0,0,0,5,6,0,7,8,1,1,9,10,11,12,13,14";  // 22 columns
  const std::string names = R"({"names":["x"],"rows":[)";
  const std::pair<std::string, std::string> bad[] = {
      {"", "'{' expected at byte 0"},
      {"[]", "'{' expected at byte 0"},
      {R"({"rows":[],"names":[]})", "\"names\" expected"},
      {R"({"names":[1],"rows":[]})", "a string expected"},
      {R"({"names":["x)", "an unterminated string"},
      {R"({"names":["x],"rows":[]})", "']' expected"},
      // Not UTF-8, a raw control byte: what JSON refuses (fuzz_flows_result
      // found the first printed as JSON that did not parse).
      {"{\"names\":[\"a\xff\"],\"rows\":[]}", "a bad string at byte 10"},
      {"{\"names\":[\"a\x01\"],\"rows\":[]}", "a bad string at byte 10"},
      {names + "[" + row + ",15]]}", "']' expected (a row has 22 columns)"},
      {names + "[6,1,2]]}", "',' expected"},
      {names + "[" + row.substr(0, row.size() - 3) + ",-1]]}", "an unsigned number expected"},
      {names + "[" + row.substr(0, row.size() - 3) + ",014]]}", "an unsigned number expected"},
      {names + "[6,1,65536" + row.substr(5) + "]]}", "a number over 65535"},
      {names + "[6,4294967296" + row.substr(3) + "]]}", "a number over 4294967295"},
      {names + "[256" + row.substr(1) + "]]}", "a number over 255"},
      {names + "[6,1,2,3,4,1" + row.substr(11) + "]]}", "name 1 of 1"},
      {names + "[" + row + "]]} x", "text after the result"},
      {names + "[" + row + "],]}", "'[' expected"},
  };
  for (const auto& [text, why] : bad) {
    try {
      decode_flows(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const BadResult& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what() << "\n" << text;
      EXPECT_TRUE(std::string(e.what()).starts_with("flows: bad rows result: ")) << e.what();
    }
  }
  EXPECT_EQ(decode_flows(names + "[" + row + "]]}").rows.size(), 1u);
}

}  // namespace
}  // namespace bpfnet::ctl
