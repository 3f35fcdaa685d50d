#include "ctl/render.h"

#include <gtest/gtest.h>

namespace bpfnet::ctl {
namespace {

Command command(const std::vector<std::string>& args) { return parse_command(args); }

Json network(const std::string& name, const std::string& id, const std::string& driver) {
  Json n = Json::object();
  n["Name"] = name;
  n["Id"] = id;
  n["Created"] = "2024-01-01T00:00:00Z";
  n["Scope"] = "local";
  n["Driver"] = driver;
  n["IPAM"] = {{"Driver", "default"}, {"Options", Json::object()}, {"Config", Json::array()}};
  n["Containers"] = Json::object();
  return n;
}

const std::string kId1 = "3f1c2b7a9d8e4f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
const std::string kId2 = "9a8b7c6d5e4f30211f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5c6d7e8f9";
const std::string kId3 = "0011223344556677889900aabbccddeeff00112233445566778899aabbccddee";

Json sample_networks() {
  return Json::array({network("net10", kId1, "bridge"), network("none", kId2, "null"),
                      network("net2", kId3, "bridge")});
}

TEST(NaturalLess, MatchesGoSortorder) {
  EXPECT_TRUE(natural_less("net2", "net10"));
  EXPECT_FALSE(natural_less("net10", "net2"));
  EXPECT_TRUE(natural_less("a", "b"));
  EXPECT_TRUE(natural_less("ab1", "abc1"));  // digits sort before other characters
  EXPECT_TRUE(natural_less("x2", "x02"));    // fewer leading zeros first
  EXPECT_FALSE(natural_less("x02", "x2"));
  EXPECT_TRUE(natural_less("a", "a1"));  // a prefix sorts first
  EXPECT_FALSE(natural_less("same", "same"));
  EXPECT_TRUE(natural_less("B", "a"));  // bytewise, so upper case first
}

TEST(TruncateId, LikeDocker) {
  EXPECT_EQ(truncate_id(kId1), "3f1c2b7a9d8e");
  EXPECT_EQ(truncate_id("sha256:" + kId1), "3f1c2b7a9d8e");
  EXPECT_EQ(truncate_id("abc"), "abc");
}

TEST(PrettyJson, FourSpacesAndNewline) {
  Json j = Json::object();
  j["b"] = 1;
  j["a"] = Json::array({Json::object(), Json::array()});
  EXPECT_EQ(pretty_json(j),
            "{\n"
            "    \"b\": 1,\n"
            "    \"a\": [\n"
            "        {},\n"
            "        []\n"
            "    ]\n"
            "}\n");
}

TEST(RenderLs, DockerTableSortedNaturally) {
  EXPECT_EQ(render(command({"network", "ls"}), sample_networks()),
            "NETWORK ID     NAME      DRIVER    SCOPE\n"
            "001122334455   net2      bridge    local\n"  // net2 < net10
            "3f1c2b7a9d8e   net10     bridge    local\n"
            "9a8b7c6d5e4f   none      null      local\n");
}

TEST(RenderLs, NoneNetworkShowsNullDriver) {
  Json nets = Json::array({network("none", kId2, "")});
  EXPECT_NE(render(command({"network", "ls"}), nets).find("none      null"), std::string::npos);
}

TEST(RenderLs, LongNamesWidenTheColumn) {
  Json nets = Json::array({network("a-rather-long-network-name", kId1, "bridge")});
  EXPECT_EQ(render(command({"network", "ls"}), nets),
            "NETWORK ID     NAME                         DRIVER    SCOPE\n"
            "3f1c2b7a9d8e   a-rather-long-network-name   bridge    local\n");
}

TEST(RenderLs, Empty) {
  EXPECT_EQ(render(command({"network", "ls"}), Json::array()),
            "NETWORK ID   NAME      DRIVER    SCOPE\n");
}

TEST(RenderLs, QuietAndNoTrunc) {
  EXPECT_EQ(render(command({"network", "ls", "-q"}), sample_networks()),
            "001122334455\n3f1c2b7a9d8e\n9a8b7c6d5e4f\n");
  EXPECT_EQ(render(command({"network", "ls", "-q", "--no-trunc"}), sample_networks()),
            kId3 + "\n" + kId1 + "\n" + kId2 + "\n");
  EXPECT_NE(render(command({"network", "ls", "--no-trunc"}), sample_networks()).find(kId1 + "   "),
            std::string::npos);
}

TEST(RenderLs, JsonIsTheArrayAsReceived) {
  const Json nets = sample_networks();
  const std::string out = render(command({"network", "ls", "-o", "json"}), nets);
  EXPECT_EQ(out, nets.dump(4) + "\n");
  // Key order is the daemon's, not alphabetical.
  EXPECT_LT(out.find("\"Name\""), out.find("\"Created\""));
}

TEST(RenderLs, RejectsNonArray) {
  EXPECT_THROW(render(command({"network", "ls"}), Json::object()), BadResult);
  EXPECT_THROW(render(command({"network", "ls"}), Json::array({1})), BadResult);
}

TEST(RenderCreate, PrintsTheFullId) {
  EXPECT_EQ(render(command({"network", "create", "n"}), network("n", kId1, "bridge")), kId1 + "\n");
  EXPECT_THROW(render(command({"network", "create", "n"}), Json::object()), BadResult);
}

TEST(RenderCreate, JsonPrintsTheNetwork) {
  const Json n = network("n", kId1, "bridge");
  EXPECT_EQ(render(command({"network", "create", "--format", "json", "n"}), n), n.dump(4) + "\n");
}

TEST(RenderInspect, IndentedArray) {
  const Json found = Json::array({network("a", kId1, "bridge")});
  const std::string out = render(command({"network", "inspect", "a"}), found);
  EXPECT_EQ(out.substr(0, 20), "[\n    {\n        \"Nam");
  EXPECT_EQ(out, found.dump(4) + "\n");
  EXPECT_EQ(render(command({"network", "inspect", "a"}), Json::array()), "[]\n");
}

TEST(RenderRm, PrintsTheNamesGiven) {
  const Json removed = Json::parse(R"([{"name":"a","id":"1"},{"name":"b2","id":"2"}])");
  EXPECT_EQ(render(command({"network", "rm", "a", "b2"}), removed), "a\nb2\n");
  EXPECT_EQ(render(command({"network", "rm", "-o", "json", "a", "b2"}), removed),
            removed.dump(4) + "\n");
}

TEST(RenderConnect, NothingOrTheEndpoint) {
  const Json ep = Json::parse(
      R"({"container":"web","network":"front","endpoint_id":"e1","ip":"10.1.0.5",)"
      R"("prefix_len":16,"mac":"02:42:0a:01:00:05","gateway":"10.1.0.1","ifname":"eth0",)"
      R"("host_ifname":"veth1a2b3c4"})");
  EXPECT_EQ(render(command({"network", "connect", "front", "web", "--netns", "x"}), ep), "");
  EXPECT_EQ(
      render(command({"network", "connect", "front", "web", "--netns", "x", "-o", "json"}), ep),
      ep.dump(4) + "\n");
}

TEST(RenderDisconnect, Nothing) {
  EXPECT_EQ(render(command({"network", "disconnect", "front", "web"}), Json::object()), "");
  EXPECT_EQ(
      render(command({"network", "disconnect", "front", "web", "-o", "json"}), Json::object()),
      "{}\n");
}

Json sample_stats() {
  return Json::parse(R"({
    "endpoints": [
      {"container": "web10", "network": "front", "ifname": "eth0", "host_ifname": "veth0000001",
       "ip": "172.18.0.3", "rx_packets": 5, "rx_bytes": 420, "tx_packets": 7, "tx_bytes": 1234567,
       "drops": 0},
      {"container": "web2", "network": "front", "ifname": "eth0", "host_ifname": "veth0000002",
       "ip": "172.18.0.2", "rx_packets": 100, "rx_bytes": 8400, "tx_packets": 120, "tx_bytes": 10080,
       "drops": 3}
    ],
    "drops": [
      {"reason": "no_endpoint", "code": 2, "packets": 0, "bytes": 0},
      {"reason": "spoofed_source", "code": 1, "packets": 1, "bytes": 98},
      {"reason": "port_unpublished", "code": 3, "packets": 2, "bytes": 120}
    ]
  })");
}

TEST(RenderStats, TwoTables) {
  EXPECT_EQ(
      render(command({"stats"}), sample_stats()),
      "CONTAINER   NETWORK   INTERFACE   IP           RX PACKETS   RX BYTES   TX PACKETS   TX BYTES"
      "   DROPS\n"
      "web2        front     eth0        172.18.0.2   100          8400       120          10080"
      "      3\n"
      "web10       front     eth0        172.18.0.3   5            420        7            1234567"
      "    0\n"
      "\n"
      "DROP REASON        PACKETS   BYTES\n"
      "port_unpublished   2         120\n"
      "spoofed_source     1         98\n");
}

TEST(RenderStats, NothingDroppedGivesAnEmptyDropTable) {
  Json stats = sample_stats();
  stats["drops"] = Json::array({Json::parse(R"({"reason":"x","code":1,"packets":0,"bytes":0})")});
  const std::string out = render(command({"stats"}), stats);
  EXPECT_EQ(out.substr(out.find("\n\n") + 2), "DROP REASON   PACKETS   BYTES\n");
}

TEST(RenderStats, NoEndpoints) {
  EXPECT_EQ(render(command({"stats"}), Json::parse(R"({"endpoints":[],"drops":[]})")),
            "CONTAINER   NETWORK   INTERFACE   IP        RX PACKETS   RX BYTES   TX PACKETS   "
            "TX BYTES   DROPS\n"
            "\n"
            "DROP REASON   PACKETS   BYTES\n");
}

TEST(RenderStats, JsonAsIs) {
  const Json stats = sample_stats();
  EXPECT_EQ(render(command({"stats", "-o", "json"}), stats), stats.dump(4) + "\n");
}

TEST(RenderStats, RejectsBadShapes) {
  EXPECT_THROW(render(command({"stats"}), Json::array()), BadResult);
  EXPECT_THROW(render(command({"stats"}), Json::parse(R"({"endpoints":{}})")), BadResult);
}

// --- port-map -----------------------------------------------------------------

Json binding(const std::string& proto, int container_port, const std::string& host_ip,
             int host_port) {
  Json b = Json::object();
  b["proto"] = proto;
  b["container_port"] = container_port;
  b["host_ip"] = host_ip;
  b["host_port"] = host_port;
  b["network"] = "front";
  b["container_ip"] = "172.18.0.2";
  return b;
}

Json bindings_of(const std::string& container, Json bindings) {
  Json c = Json::object();
  c["container"] = container;
  c["bindings"] = std::move(bindings);
  return c;
}

TEST(RenderPortAdd, DockerPortLines) {
  const Json added = bindings_of(
      "web", Json::array({binding("tcp", 80, "::", 8080), binding("tcp", 80, "0.0.0.0", 8080)}));
  EXPECT_EQ(render(command({"port-map", "add", "web", "8080:80"}), added),
            "80/tcp -> 0.0.0.0:8080\n"
            "80/tcp -> [::]:8080\n");
}

TEST(RenderPortAdd, JsonAsIs) {
  const Json added = bindings_of("web", Json::array({binding("udp", 53, "127.0.0.1", 5353)}));
  EXPECT_EQ(render(command({"port-map", "add", "web", "5353:53/udp", "-o", "json"}), added),
            added.dump(4) + "\n");
}

TEST(RenderPortAdd, RejectsBadShapes) {
  const Command cmd = command({"port-map", "add", "web", "80"});
  EXPECT_THROW(render(cmd, Json::array()), BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"({"container":"web"})")), BadResult);
  Json bad = binding("tcp", 80, "0.0.0.0", 8080);
  bad["host_port"] = "8080";
  EXPECT_THROW(render(cmd, bindings_of("web", Json::array({bad}))), BadResult);
  bad["host_port"] = 70000;
  EXPECT_THROW(render(cmd, bindings_of("web", Json::array({bad}))), BadResult);
  bad["host_port"] = -1;
  EXPECT_THROW(render(cmd, bindings_of("web", Json::array({bad}))), BadResult);
  bad = binding("tcp", 80, "0.0.0.0", 8080);
  bad["container_port"] = 80.5;
  EXPECT_THROW(render(cmd, bindings_of("web", Json::array({bad}))), BadResult);
  bad = binding("tcp", 80, "0.0.0.0", 8080);
  bad.erase("proto");
  EXPECT_THROW(render(cmd, bindings_of("web", Json::array({bad}))), BadResult);
}

TEST(RenderPortLs, OneContainerSortedNaturally) {
  // docker sorts whole lines with NaturalLess: container port numerically, then
  // the protocol, then the host address (digits before '['), then the host port.
  const Json ls = Json::array({bindings_of(
      "web", Json::array({binding("tcp", 443, "0.0.0.0", 8443), binding("udp", 80, "0.0.0.0", 9),
                          binding("tcp", 80, "::", 8080), binding("tcp", 80, "0.0.0.0", 10080),
                          binding("tcp", 80, "0.0.0.0", 8080), binding("tcp", 9000, "::1", 9000),
                          binding("tcp", 80, "127.0.0.1", 80)}))});
  EXPECT_EQ(render(command({"port-map", "ls", "web"}), ls),
            "80/tcp -> 0.0.0.0:8080\n"
            "80/tcp -> 0.0.0.0:10080\n"
            "80/tcp -> 127.0.0.1:80\n"
            "80/tcp -> [::]:8080\n"
            "80/udp -> 0.0.0.0:9\n"
            "443/tcp -> 0.0.0.0:8443\n"
            "9000/tcp -> [::1]:9000\n");
}

TEST(RenderPortLs, OneContainerWithoutBindingsPrintsNothing) {
  const Json ls = Json::array({bindings_of("web", Json::array())});
  EXPECT_EQ(render(command({"port-map", "ls", "web"}), ls), "");
}

TEST(RenderPortLs, AllContainersInBlocks) {
  const Json ls =
      Json::array({bindings_of("web10", Json::array({binding("tcp", 80, "0.0.0.0", 8081)})),
                   bindings_of("idle", Json::array()),
                   bindings_of("web2", Json::array({binding("tcp", 80, "::", 8080),
                                                    binding("tcp", 80, "0.0.0.0", 8080)}))});
  EXPECT_EQ(render(command({"port-map", "ls"}), ls),
            "web2\n"
            "  80/tcp -> 0.0.0.0:8080\n"
            "  80/tcp -> [::]:8080\n"
            "\n"
            "web10\n"
            "  80/tcp -> 0.0.0.0:8081\n");
  EXPECT_EQ(render(command({"port-map", "ls"}), Json::array()), "");
}

TEST(RenderPortLs, JsonAsIs) {
  const Json ls =
      Json::array({bindings_of("web", Json::array({binding("sctp", 7, "0.0.0.0", 7)}))});
  EXPECT_EQ(render(command({"port-map", "ls", "-o", "json"}), ls), ls.dump(4) + "\n");
}

TEST(RenderPortLs, RejectsBadShapes) {
  EXPECT_THROW(render(command({"port-map", "ls"}), Json::object()), BadResult);
  EXPECT_THROW(render(command({"port-map", "ls"}), Json::parse(R"([{"bindings":[]}])")), BadResult);
  EXPECT_THROW(render(command({"port-map", "ls", "web"}), Json::parse(R"([{"container":"web"}])")),
               BadResult);
}

TEST(RenderPortRm, NothingOrTheResult) {
  const Json removed = Json::parse(R"({"container":"web","removed":[]})");
  EXPECT_EQ(render(command({"port-map", "rm", "web", "8080"}), removed), "");
  EXPECT_EQ(render(command({"port-map", "rm", "web", "8080", "-o", "json"}), removed),
            removed.dump(4) + "\n");
}

// --- service ------------------------------------------------------------------

Json backend(const std::string& container, const std::string& ip, const std::string& state) {
  Json b = Json::object();
  b["Container"] = container;
  b["IP"] = ip;
  b["Weight"] = 1;
  b["State"] = state;
  b["LastError"] = "";
  b["Flows"] = 0;
  return b;
}

Json service(const std::string& name, const std::string& network, const std::string& vip,
             Json ports, Json published, Json backends) {
  Json s = Json::object();
  s["Name"] = name;
  s["Id"] = kId1;
  s["Network"] = network;
  s["VIP"] = vip;
  s["Ports"] = std::move(ports);
  s["Published"] = std::move(published);
  s["Affinity"] = {{"Mode", "none"}, {"TimeoutSeconds", 0}};
  s["TableSize"] = 16381;
  s["HealthCheck"] = Json::object();
  s["Backends"] = std::move(backends);
  return s;
}

Json sample_services() {
  Json db = service("db", "back", "10.2.0.9", Json::array({"5432/tcp"}), Json::array(),
                    Json::array({backend("pg1", "10.2.0.2", "unhealthy")}));
  db.erase("Published");
  return Json::array(
      {service(
           "web10", "front", "10.1.0.100", Json::array({"80/tcp", "443/tcp"}),
           Json::array({binding("tcp", 80, "::", 8080), binding("tcp", 80, "0.0.0.0", 8080)}),
           Json::array({backend("a", "10.1.0.2", "healthy"), backend("b", "10.1.0.3", "draining"),
                        backend("c", "10.1.0.4", "healthy")})),
       db,
       service("web2", "front", "10.1.0.101", Json::array({"53/udp"}), Json::array(),
               Json::array())});
}

TEST(RenderServiceLs, DockerTableSortedNaturally) {
  EXPECT_EQ(render(command({"service", "ls"}), sample_services()),
            "NAME      NETWORK   VIP          PORTS             PUBLISHED                          "
            "       BACKENDS\n"
            "db        back      10.2.0.9     5432/tcp                                            "
            "        1 (0 healthy)\n"
            "web2      front     10.1.0.101   53/udp                                              "
            "        0 (0 healthy)\n"
            "web10     front     10.1.0.100   80/tcp, 443/tcp   0.0.0.0:8080->80/tcp, "
            "[::]:8080->80/tcp   3 (2 healthy)\n");
}

TEST(RenderServiceLs, Empty) {
  EXPECT_EQ(render(command({"service", "ls"}), Json::array()),
            "NAME      NETWORK   VIP       PORTS     PUBLISHED   BACKENDS\n");
}

TEST(RenderServiceLs, MissingFieldsAreEmptyCells) {
  EXPECT_EQ(render(command({"service", "ls"}), Json::parse(R"([{"Name":"bare"}])")),
            "NAME      NETWORK   VIP       PORTS     PUBLISHED   BACKENDS\n"
            "bare                                                0 (0 healthy)\n");
}

// The PUBLISHED cell of a one-service table.
std::string published_cell(Json bindings) {
  const std::string out = render(
      command({"service", "ls"}),
      Json::array({service("s", "n", "v", Json::array(), std::move(bindings), Json::array())}));
  const std::string row = out.substr(out.find('\n') + 1);
  const size_t start = out.find("PUBLISHED");
  const size_t end = out.find("BACKENDS");
  std::string cell = row.substr(start, end - start);
  cell.erase(cell.find_last_not_of(' ') + 1);
  return cell;
}

TEST(RenderServiceLs, PublishedLikeDockerPs) {
  EXPECT_EQ(published_cell(Json::array({binding("tcp", 80, "0.0.0.0", 8080)})),
            "0.0.0.0:8080->80/tcp");
  // docker ps (formatter.DisplayablePorts): sorted by container port, host
  // address (IPv4 first, numerically), host port and protocol; runs of ports
  // published on the same port are grouped per address and protocol, and come
  // first; the other mappings follow, in order.
  EXPECT_EQ(published_cell(Json::array(
                {binding("tcp", 90, "10.0.0.1", 9090), binding("tcp", 82, "0.0.0.0", 82),
                 binding("tcp", 84, "0.0.0.0", 84), binding("tcp", 80, "::", 80),
                 binding("tcp", 81, "0.0.0.0", 81), binding("udp", 53, "0.0.0.0", 53),
                 binding("tcp", 90, "9.0.0.1", 9090), binding("tcp", 80, "0.0.0.0", 80)})),
            "0.0.0.0:80-82->80-82/tcp, 0.0.0.0:53->53/udp, 0.0.0.0:84->84/tcp, [::]:80->80/tcp, "
            "9.0.0.1:9090->90/tcp, 10.0.0.1:9090->90/tcp");
  EXPECT_EQ(
      published_cell(Json::array({binding("udp", 53, "::1", 5353), binding("tcp", 53, "::1", 5353),
                                  binding("tcp", 53, "127.0.0.1", 5353)})),
      "127.0.0.1:5353->53/tcp, [::1]:5353->53/tcp, [::1]:5353->53/udp");
  EXPECT_EQ(published_cell(Json::array()), "");
}

TEST(RenderServiceLs, JsonIsTheArrayAsReceived) {
  const Json services = sample_services();
  EXPECT_EQ(render(command({"service", "ls", "-o", "json"}), services), services.dump(4) + "\n");
}

TEST(RenderServiceLs, RejectsBadShapes) {
  const Command cmd = command({"service", "ls"});
  EXPECT_THROW(render(cmd, Json::object()), BadResult);
  EXPECT_THROW(render(cmd, Json::array({"web"})), BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"([{"Name":"s","Ports":"80/tcp"}])")), BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"([{"Name":"s","Ports":[80]}])")), BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"([{"Name":"s","Published":{}}])")), BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"([{"Name":"s","Published":[{"proto":"tcp"}]}])")),
               BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"([{"Name":"s","Backends":{}}])")), BadResult);
  EXPECT_THROW(render(cmd, Json::parse(R"([{"Name":"s","Backends":["a"]}])")), BadResult);
}

TEST(RenderServiceCreate, PrintsTheIdOrTheService) {
  const Json s = sample_services()[0];
  EXPECT_EQ(
      render(command({"service", "create", "web10", "--network", "front", "--port", "80"}), s),
      kId1 + "\n");
  EXPECT_EQ(
      render(command({"service", "create", "w", "--network", "n", "--port", "80", "-o", "json"}),
             s),
      s.dump(4) + "\n");
  EXPECT_THROW(
      render(command({"service", "create", "w", "--network", "n", "--port", "80"}), Json::object()),
      BadResult);
}

TEST(RenderServiceBackend, NothingOrTheService) {
  const Json s = sample_services()[0];
  for (const char* verb : {"add-backend", "rm-backend", "drain"}) {
    EXPECT_EQ(render(command({"service", verb, "web10", "a"}), s), "") << verb;
    EXPECT_EQ(render(command({"service", verb, "web10", "a", "-o", "json"}), s), s.dump(4) + "\n")
        << verb;
  }
}

TEST(RenderServiceInspect, IndentedArray) {
  const Json found = Json::array({sample_services()[1]});
  const std::string out = render(command({"service", "inspect", "db"}), found);
  EXPECT_EQ(out.substr(0, 20), "[\n    {\n        \"Nam");
  EXPECT_EQ(out, found.dump(4) + "\n");
  // JSON whatever the output format.
  EXPECT_EQ(render(command({"service", "inspect", "-o", "table", "db"}), found), out);
  EXPECT_THROW(render(command({"service", "inspect", "db"}), Json::object()), BadResult);
}

TEST(RenderServiceRm, PrintsTheNamesGiven) {
  const Json removed = Json::parse(R"([{"name":"web","id":"1"},{"name":"db","id":"2"}])");
  EXPECT_EQ(render(command({"service", "rm", "web", "db"}), removed), "web\ndb\n");
  EXPECT_EQ(render(command({"service", "rm", "-o", "json", "web", "db"}), removed),
            removed.dump(4) + "\n");
}

TEST(RenderVersion, ClientAndServer) {
  const Json ping = Json::parse(R"({"version":"9.8.7"})");
  EXPECT_EQ(
      render(command({"version"}), ping),
      "Client:\n Version:  " + std::string(client_version()) + "\n\nServer:\n Version:  9.8.7\n");
  EXPECT_EQ(render(command({"version", "-o", "json"}), ping),
            "{\n    \"Client\": {\n        \"Version\": \"" + std::string(client_version()) +
                "\"\n    },\n    \"Server\": {\n        \"Version\": \"9.8.7\"\n    }\n}\n");
}

TEST(RenderVersion, ClientVersionIsTheProjectVersion) {
  EXPECT_EQ(client_version(), BPFNET_EXPECTED_VERSION);
}

TEST(RenderUplinkLs, ModeDriverAddressAndReasonByName) {
  const Json uplinks = Json::parse(R"([
    {"name": "up1", "requested": "tc", "mode": "none",
     "reason": "no such interface, or no IPv4 address"},
    {"name": "eth0", "requested": "auto", "mode": "tc", "reason": "veth: partial checksums from the peer",
     "ifindex": 7, "driver": "veth", "address": "192.0.2.1"}])");
  EXPECT_EQ(render(command({"uplink", "ls"}), uplinks),
            "NAME      MODE      DRIVER    ADDRESS     REASON\n"
            "eth0      tc        veth      192.0.2.1   veth: partial checksums from the peer\n"
            "up1       none                            no such interface, or no IPv4 address\n");
  EXPECT_EQ(render(command({"uplink", "ls", "-o", "json"}), uplinks), pretty_json(uplinks));
  EXPECT_THROW(render(command({"uplink", "ls"}), Json::object()), BadResult);
}

TEST(RenderDoctor, OkOrOneDriftLinePerProblem) {
  EXPECT_EQ(render(command({"doctor"}), Json::parse(R"({"ok": true, "problems": []})")),
            "OK: the state, the interfaces and the maps agree\n");
  EXPECT_EQ(render(command({"doctor"}),
                   Json::parse(R"({"ok": false, "problems": ["interface bnv1 is leaked", "x"]})")),
            "DRIFT: interface bnv1 is leaked\nDRIFT: x\n");
  EXPECT_THROW(render(command({"doctor"}), Json::parse(R"({"ok": true, "problems": 3})")),
               BadResult);
}

}  // namespace
}  // namespace bpfnet::ctl
