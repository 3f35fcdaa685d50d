// core/flows.h: conntrack halves joined with the state into `flows` rows,
// without syscalls (the halves are what datapath::read_flow_halves gives).
#include "core/flows.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <tuple>

#include "bpfnet_abi.h"
#include "core/flows_wire.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;
using testing::hex_id;

constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kNow = 1000 * kSec;

uint32_t ip(const char* text) { return Ipv4::parse(text).value; }

const uint32_t kHost = ip("192.0.2.1"), kClient = ip("198.51.100.7");
const uint32_t kWeb = ip("172.18.0.2"), kDb = ip("172.18.0.3"), kVip = ip("172.18.0.100");
const uint32_t kOther = ip("172.19.0.2"), kOutside = ip("203.0.113.9");

Network network(const std::string& id, const std::string& name) {
  Network n;
  n.id = id;
  n.name = name;
  return n;
}
Endpoint endpoint(const std::string& id, const std::string& net, const std::string& container,
                  uint32_t addr) {
  Endpoint e;
  e.id = id;
  e.network_id = net;
  e.container = container;
  e.ip = Ipv4{addr};
  return e;
}

State sample_state() {
  State s;
  s.networks = {network(hex_id("a1"), "front"), network(hex_id("b2"), "back")};
  s.endpoints = {endpoint(hex_id("e1"), hex_id("a1"), "web", kWeb),
                 endpoint(hex_id("e2"), hex_id("a1"), "db", kDb),
                 endpoint(hex_id("e3"), hex_id("b2"), "other", kOther)};
  Service svc;
  svc.id = hex_id("5e");
  svc.name = "api";
  svc.network_id = hex_id("a1");
  svc.vip = Ipv4{kVip};
  svc.ports = {{Proto::kTcp, 80}};
  svc.published = {PortBinding{Proto::kTcp, 80, Ipv4{}, 8443}};
  s.services.push_back(svc);
  return s;
}

// Both halves of a flow, as ct_create() writes them: `fwd` is the first
// packet's tuple, `to` what it is rewritten to.
std::vector<FlowHalf> flow(FlowTuple fwd, FlowTuple to, uint8_t flags, uint64_t created,
                           uint64_t fwd_packets, uint64_t fwd_bytes, uint64_t rev_packets,
                           uint64_t rev_bytes) {
  FlowTuple rev{to.daddr, to.saddr, to.dport, to.sport, to.proto};
  FlowTuple back{fwd.daddr, fwd.saddr, fwd.dport, fwd.sport, fwd.proto};
  const uint64_t expires = kNow - 5 * kSec + BPFNET_CT_TIMEOUT_TCP_EST;  // seen 5 s ago
  FlowHalf f{fwd, rev, to, BPFNET_CT_ESTABLISHED, flags, expires, created, fwd_packets, fwd_bytes};
  FlowHalf r{rev,
             fwd,
             back,
             BPFNET_CT_ESTABLISHED,
             uint8_t(flags | BPFNET_CT_F_REPLY),
             expires,
             created,
             rev_packets,
             rev_bytes};
  if (fwd.proto == IPPROTO_UDP)
    f.expires_ns = r.expires_ns = kNow - 5 * kSec + BPFNET_CT_TIMEOUT_UDP;
  return {r, f};  // the reply half first: the join must not care
}

std::vector<FlowHalf> sample_flows() {
  std::vector<FlowHalf> all;
  auto add = [&](std::vector<FlowHalf> halves) {
    all.insert(all.end(), halves.begin(), halves.end());
  };
  // An outside client on a published port of web (8080 -> 80).
  add(flow({kClient, kHost, 40000, 8080, IPPROTO_TCP}, {kClient, kWeb, 40000, 80, IPPROTO_TCP},
           BPFNET_CT_F_DNAT, kNow - 60 * kSec, 10, 1000, 8, 5000));
  // The same client over UDP to db's published 5353 -> 53.
  add(flow({kClient, kHost, 40001, 5353, IPPROTO_UDP}, {kClient, kDb, 40001, 53, IPPROTO_UDP},
           BPFNET_CT_F_DNAT, kNow - 2 * kSec, 1, 60, 1, 120));
  // db masqueraded to the outside (source port 61000 on the host).
  add(flow({kDb, kOutside, 33000, 443, IPPROTO_TCP}, {kHost, kOutside, 61000, 443, IPPROTO_TCP},
           BPFNET_CT_F_SNAT, kNow - 1 * kSec, 3, 300, 2, 200));
  // other reaches the service api's VIP, balanced to web.
  add(flow({kOther, kVip, 34000, 80, IPPROTO_TCP}, {kOther, kWeb, 34000, 80, IPPROTO_TCP},
           BPFNET_CT_F_DNAT | BPFNET_CT_F_LB, kNow - 3 * kSec, 4, 400, 4, 800));
  return all;
}

TEST(FlowsTest, OneRowPerFlowWithBothDirectionsNamed) {
  const State state = sample_state();  // the rows' names point into it
  const auto rows = join_flows(sample_flows(), state, FlowFilter{}, kNow);
  ASSERT_EQ(rows.size(), 4u);
  // Sorted by container, network, client: db (2 flows), web (2 flows).
  const FlowRow& pub = rows[3];
  EXPECT_EQ(pub.container, "web");
  EXPECT_EQ(pub.network, "front");
  EXPECT_EQ(pub.client_ip.to_string(), "198.51.100.7");
  EXPECT_EQ(pub.client_port, 40000);
  EXPECT_EQ(pub.address_ip.to_string(), "192.0.2.1");
  EXPECT_EQ(pub.address_port, 8080);
  EXPECT_EQ(pub.address_kind, "published");
  EXPECT_EQ(pub.server_ip.value, kWeb);
  EXPECT_EQ(pub.server_port, 80);
  EXPECT_EQ(pub.nat, "DNAT");
  EXPECT_EQ(pub.client_packets, 10u);
  EXPECT_EQ(pub.client_bytes, 1000u);
  EXPECT_EQ(pub.server_packets, 8u);
  EXPECT_EQ(pub.server_bytes, 5000u);
  EXPECT_EQ(pub.client_state, BPFNET_CT_ESTABLISHED);
  EXPECT_EQ(pub.server_state, BPFNET_CT_ESTABLISHED);
  EXPECT_EQ(pub.age_ns, 60 * kSec);
  EXPECT_EQ(pub.idle_ns, 5 * kSec);

  const FlowRow& svc = rows[2];
  EXPECT_EQ(svc.client_ip.value, kOther);
  EXPECT_EQ(svc.address_kind, "service");
  EXPECT_EQ(svc.service, "api");
  EXPECT_EQ(svc.container, "web");

  const FlowRow& masq = rows[0];
  EXPECT_EQ(masq.container, "db");
  EXPECT_EQ(masq.nat, "masquerade");
  EXPECT_EQ(masq.address_kind, "outside");
  EXPECT_EQ(masq.snat_ip.value, kHost);
  EXPECT_EQ(masq.snat_port, 61000);

  const FlowRow& udp = rows[1];
  EXPECT_EQ(udp.proto, IPPROTO_UDP);
  EXPECT_EQ(udp.container, "db");
  EXPECT_EQ(udp.idle_ns, 5 * kSec);
  EXPECT_EQ(udp.server_bytes, 120u);
}

TEST(FlowsTest, FiltersByContainerNetworkServiceAndProtocol) {
  const State s = sample_state();
  const auto halves = sample_flows();
  auto count = [&](std::string container, std::string network, std::string service,
                   std::string proto = "") {
    FlowQuery q{std::move(container), std::move(network), std::move(service), std::move(proto)};
    return join_flows(halves, s, flow_filter(s, q), kNow).size();
  };
  EXPECT_EQ(count("web", "", ""), 2u);
  EXPECT_EQ(count("other", "", ""), 1u) << "other is the client of the service's flow";
  EXPECT_EQ(count("", "front", ""), 4u);
  EXPECT_EQ(count("", "back", ""), 1u);
  EXPECT_EQ(count("", "back", "", "udp"), 0u);
  EXPECT_EQ(count("", "", "api"), 1u);
  EXPECT_EQ(count("", "", "", "udp"), 1u);
  EXPECT_EQ(count("db", "", "", "tcp"), 1u);
}

TEST(FlowsTest, UnknownNamesAreClearErrors) {
  const State s = sample_state();
  EXPECT_EQ(error_of([&] { flow_filter(s, {"nope", "", "", ""}); }), "No such container: nope");
  EXPECT_EQ(error_of([&] { flow_filter(s, {"", "nope", "", ""}); }), "network nope not found");
  EXPECT_EQ(error_of([&] { flow_filter(s, {"", "", "nope", ""}); }), "service nope not found");
  EXPECT_EQ(error_of([&] {
              flow_filter(s, {"", "", "", "sctp"});
            }),
            "invalid protocol \"sctp\" (tcp or udp)");
  EXPECT_EQ(error_of([&] {
              flow_filter(s, {"web", "front", "", ""});
            }),
            "flows: give at most one of CONTAINER, --network, --service");
}

TEST(FlowsTest, AHalfWhoseReplyIsGoneStillShowsItsFlow) {
  auto halves = flow({kClient, kHost, 40000, 8080, IPPROTO_TCP},
                     {kClient, kWeb, 40000, 80, IPPROTO_TCP}, BPFNET_CT_F_DNAT, kNow, 1, 60, 0, 0);
  halves.erase(halves.begin());        // the reply half
  const State state = sample_state();  // the rows' names point into it
  const auto rows = join_flows(halves, state, FlowFilter{}, kNow);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].server_packets, 0u);
  EXPECT_EQ(rows[0].container, "web");
}

TEST(FlowsTest, JsonNamesEveryField) {
  const State state = sample_state();
  const auto rows = join_flows(sample_flows(), state, FlowFilter{}, kNow);
  const nlohmann::json all = nlohmann::json::parse(flows_json_text(rows));
  const nlohmann::json& j = all[3];
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["client"], "198.51.100.7:40000");
  EXPECT_EQ(j["address"], "192.0.2.1:8080");
  EXPECT_EQ(j["server"], "172.18.0.2:80");
  EXPECT_EQ(j["container"], "web");
  EXPECT_EQ(j["network"], "front");
  EXPECT_EQ(j["client_state"], "ESTABLISHED");
  EXPECT_EQ(j["age_ms"], 60000);
  EXPECT_EQ(j["idle_ms"], 5000);
  EXPECT_EQ(j["client_bytes"], 1000);
  EXPECT_EQ(j["server_packets"], 8);
  EXPECT_TRUE(j["snat"].is_null());
  EXPECT_EQ(all[0]["snat"], "192.0.2.1:61000");
  EXPECT_EQ(all[0]["nat"], "masquerade");
  EXPECT_EQ(all.size(), 4u);
}

// Many flows in the conntrack's (hash) order come out sorted by container,
// network, client, each once: the rows are put in order in place.
TEST(FlowsTest, ManyFlowsComeOutSortedEachOnce) {
  State state = sample_state();
  for (uint32_t k = 0; k < 40; ++k)
    state.endpoints.push_back(endpoint(hex_id(fmt::format("f{:02x}", k)),
                                       hex_id(k % 2 ? "a1" : "b2"),
                                       fmt::format("c{:02}", (k * 7) % 40), kWeb + 16 + k));
  std::vector<FlowHalf> halves;
  std::mt19937 random(7);
  std::vector<std::tuple<uint32_t, uint32_t, uint16_t>> flows;  // server, client, port
  for (uint32_t n = 0; n < 3000; ++n)
    flows.emplace_back(kWeb + 16 + random() % 40, kClient + random() % 50,
                       uint16_t(1024 + random() % 60000));
  std::sort(flows.begin(), flows.end());
  flows.erase(std::unique(flows.begin(), flows.end()), flows.end());
  for (const auto& [server, client, port] : flows) {
    auto two =
        flow({client, kHost, port, 8080, IPPROTO_TCP}, {client, server, port, 80, IPPROTO_TCP},
             BPFNET_CT_F_DNAT, kNow - kSec, 1, 60, 1, 60);
    halves.insert(halves.end(), two.begin(), two.end());
  }
  std::shuffle(halves.begin(), halves.end(), random);
  const auto rows = join_flows(halves, state, FlowFilter{}, kNow);
  ASSERT_EQ(rows.size(), flows.size());
  std::map<uint32_t, std::string> container_at;
  for (const Endpoint& ep : state.endpoints) container_at[ep.ip.value] = ep.container;
  std::set<std::tuple<uint32_t, uint32_t, uint16_t>> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const FlowRow& r = rows[i];
    EXPECT_TRUE(seen.emplace(r.server_ip.value, r.client_ip.value, r.client_port).second);
    EXPECT_EQ(container_at[r.server_ip.value], r.container);
    if (i == 0) continue;
    const FlowRow& p = rows[i - 1];
    EXPECT_LE(std::tie(p.container, p.network, p.client_ip, p.client_port),
              std::tie(r.container, r.network, r.client_ip, r.client_port))
        << "row " << i;
  }
}

// The rows format (what bpfnetctl asks for) carries every field and name,
// escapes included, as the objects format does.
TEST(FlowsTest, RowsFormatCarriesEveryFieldAndName) {
  State state = sample_state();
  state.endpoints[1].container = "d\"b\\\x01\xc3\xa9";  // db: a quote, a backslash, a control byte
  const auto rows = join_flows(sample_flows(), state, FlowFilter{}, kNow);
  const std::string text = flows_rows_text(rows);
  EXPECT_TRUE(text.starts_with(R"({"names":[)")) << text;
  DecodedFlows back = decode_flows_rows(text);
  ASSERT_EQ(back.rows.size(), rows.size());
  auto fields = [](const FlowRow& r) {
    return std::make_tuple(r.proto, r.client_ip, r.client_port, r.address_ip, r.address_port,
                           r.address_kind, r.service, r.container, r.network, r.server_ip,
                           r.server_port, r.nat, r.snat_ip, r.snat_port, r.client_state,
                           r.server_state, r.age_ns, r.idle_ns, r.client_packets, r.client_bytes,
                           r.server_packets, r.server_bytes);
  };
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(fields(back.rows[i]), fields(rows[i])) << i;
  EXPECT_EQ(back.rows[0].container, "d\"b\\\x01\xc3\xa9");
  // Both formats say the same: the objects written from the decoded rows
  // are those written from the joined ones.
  EXPECT_EQ(flows_json_text(back.rows), flows_json_text(rows));
  // A moved result keeps its names.
  const DecodedFlows moved = std::move(back);
  EXPECT_EQ(moved.rows[3].container, "web");
  EXPECT_EQ(moved.rows[2].service, "api");
}

TEST(FlowsTest, JsonOneFlowPerLine) {
  const State state = sample_state();
  const auto rows = join_flows(sample_flows(), state, FlowFilter{}, kNow);
  const std::string lines = flows_json_text(rows, FlowsLayout::kLinePerFlow);
  EXPECT_EQ(nlohmann::json::parse(lines), nlohmann::json::parse(flows_json_text(rows)));
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 6);
  EXPECT_EQ(flows_json_text({}, FlowsLayout::kLinePerFlow), "[]\n");
  EXPECT_EQ(flows_json_text({}), "[]");
  EXPECT_EQ(flows_rows_text({}), R"({"names":[],"rows":[]})");
}

}  // namespace
}  // namespace bpfnet::core
