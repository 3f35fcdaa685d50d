#include "ctl/cli.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "ctl/render.h"
#include "fake_server.h"

namespace bpfnet::ctl {
namespace {

using namespace std::chrono_literals;

// A daemon in memory: answers by "op" or "op name", records the requests.
struct FakeDaemon {
  std::map<std::string, Json> results;        // key -> result
  std::map<std::string, std::string> errors;  // key -> daemon error
  bool down = false;                          // throw ConnectError
  std::vector<Json> requests;
  std::vector<std::string> sockets;  // socket paths the factory was asked for

  TransportFactory factory() {
    return [this](const std::string& socket) -> Transport {
      sockets.push_back(socket);
      return [this, socket](const Json& request) -> Json {
        requests.push_back(request);
        if (down) {
          throw ConnectError("Cannot connect to the bpfnet daemon at unix://" + socket +
                             ". Is bpfnetd running?");
        }
        std::string key = request["op"].get<std::string>();
        if (request["args"].contains("name"))
          key += " " + request["args"]["name"].get<std::string>();
        if (auto e = errors.find(key); e != errors.end()) throw DaemonError(e->second);
        if (auto r = results.find(key); r != results.end()) return r->second;
        throw DaemonError("no canned answer for " + key);
      };
    };
  }
};

struct CliRun {
  int status;
  std::string out;
  std::string err;
};

CliRun run_with(FakeDaemon& daemon, const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = run_cli(args, out, err, daemon.factory());
  return {status, out.str(), err.str()};
}

Json net(const std::string& name, const std::string& id) {
  Json n = Json::object();
  n["Name"] = name;
  n["Id"] = id;
  n["Scope"] = "local";
  n["Driver"] = "bridge";
  return n;
}

const std::string kIdA = "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111";
const std::string kIdB = "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222";

TEST(Cli, UsageErrorIsOneLineAndContactsNoDaemon) {
  FakeDaemon daemon;
  const CliRun r = run_with(daemon, {"network", "create", "a", "--subnet"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "bpfnetctl: network create: flag needs an argument: --subnet\n");
  EXPECT_TRUE(daemon.sockets.empty());
}

TEST(Cli, FlowsSendsItsFiltersAndPrintsOneRowPerFlow) {
  FakeDaemon daemon;
  // The rows format bpfnetctl asks for (core/flows_wire.h): 198.51.100.7 is
  // 3325256711, 192.0.2.1 3221225985, 172.18.0.2 2886860802.
  daemon.results["flows"] = Json::parse(R"({"names":["published","","web","front","DNAT"],
      "rows":[[6,3325256711,40000,3221225985,8080,0,1,2,3,2886860802,80,4,0,0,1,1,192000,4000,
      10,1000,8,5000]]})");
  const CliRun r = run_with(daemon, {"flows", "web", "--proto", "tcp"});
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(daemon.requests.size(), 1u);
  EXPECT_EQ(daemon.requests[0]["op"], "flows");
  EXPECT_EQ(daemon.requests[0]["args"],
            Json::parse(R"({"container":"web","proto":"tcp","format":"rows"})"));
  EXPECT_EQ(
      r.out,
      "PROTO     CLIENT               ADDRESS          CONTAINER   NETWORK   SERVER          "
      "NAT       STATE                     AGE       IDLE      PACKETS IN/OUT   BYTES IN/OUT\n"
      "tcp       198.51.100.7:40000   192.0.2.1:8080   web         front     172.18.0.2:80   "
      "DNAT      ESTABLISHED/ESTABLISHED   3m12s     4s        10/8             1000/5000\n");
}

TEST(Cli, FlowsRefusesTwoScopesAndOtherProtocols) {
  FakeDaemon daemon;
  CliRun r = run_with(daemon, {"flows", "web", "--network", "front"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "bpfnetctl: flows: give at most one of CONTAINER, --network and --service\n");
  r = run_with(daemon, {"flows", "--proto", "icmp"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "bpfnetctl: flows: invalid --proto \"icmp\": tcp or udp\n");
  EXPECT_TRUE(daemon.requests.empty());
  daemon.errors["flows"] = "No such container: nope";
  r = run_with(daemon, {"flows", "nope"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error response from daemon: No such container: nope\n");
}

TEST(Cli, DoctorExitsOneOnDrift) {
  FakeDaemon daemon;
  daemon.results["doctor"] = Json::parse(R"({"ok": true, "problems": []})");
  EXPECT_EQ(run_with(daemon, {"doctor"}).status, 0);
  daemon.results["doctor"] =
      Json::parse(R"({"ok": false, "problems": ["map table vips: 1 extra"]})");
  const CliRun r = run_with(daemon, {"doctor"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "DRIFT: map table vips: 1 extra\n");
}

TEST(Cli, HelpGoesToStdout) {
  FakeDaemon daemon;
  const CliRun r = run_with(daemon, {"network", "create", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("Usage:  bpfnetctl network create", 0), 0u);
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(daemon.sockets.empty());
}

TEST(Cli, LsPrintsTheTableAndUsesTheSocket) {
  FakeDaemon daemon;
  daemon.results["network.ls"] = Json::array({net("b", kIdB), net("a", kIdA)});
  const CliRun r = run_with(daemon, {"--socket", "/tmp/other.sock", "network", "ls"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "NETWORK ID     NAME      DRIVER    SCOPE\n"
            "aaaaaaaaaaaa   a         bridge    local\n"
            "bbbbbbbbbbbb   b         bridge    local\n");
  EXPECT_EQ(daemon.sockets, std::vector<std::string>{"/tmp/other.sock"});
}

TEST(Cli, DaemonErrorDockerStyle) {
  FakeDaemon daemon;
  daemon.errors["network.create front"] = "network with name front already exists";
  const CliRun r = run_with(daemon, {"network", "create", "front"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Error response from daemon: network with name front already exists\n");
}

TEST(Cli, CreatePrintsTheId) {
  FakeDaemon daemon;
  daemon.results["network.create front"] = net("front", kIdA);
  const CliRun r = run_with(daemon, {"network", "create", "--subnet", "10.9.0.0/16", "front"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, kIdA + "\n");
  ASSERT_EQ(daemon.requests.size(), 1u);
  EXPECT_EQ(daemon.requests[0]["args"]["subnet"], "10.9.0.0/16");
}

TEST(Cli, NoDaemon) {
  FakeDaemon daemon;
  daemon.down = true;
  const CliRun r = run_with(daemon, {"network", "ls"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Cannot connect to the bpfnet daemon at unix:///run/bpfnet/bpfnetd.sock. Is bpfnetd "
            "running?\n");
}

TEST(Cli, VersionWithoutDaemonStillShowsTheClient) {
  FakeDaemon daemon;
  daemon.down = true;
  const CliRun r = run_with(daemon, {"version"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, render_client_version());
  EXPECT_NE(r.err.find("Cannot connect"), std::string::npos);
}

TEST(Cli, Version) {
  FakeDaemon daemon;
  daemon.results["ping"] = Json::parse(R"({"version":"0.1.0"})");
  const CliRun r = run_with(daemon, {"version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, render_client_version() + "\nServer:\n Version:  0.1.0\n");
}

TEST(Cli, InspectPrintsTheFoundAndFailsForTheMissing) {
  FakeDaemon daemon;
  daemon.results["network.inspect a"] = net("a", kIdA);
  daemon.errors["network.inspect nope"] = "network nope not found";
  const CliRun r = run_with(daemon, {"network", "inspect", "nope", "a"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, Json::array({net("a", kIdA)}).dump(4) + "\n");
  EXPECT_EQ(r.err, "Error: No such network: nope\n");
}

TEST(Cli, InspectAllMissing) {
  FakeDaemon daemon;
  daemon.errors["network.inspect x"] = "network x not found";
  daemon.errors["network.inspect y"] = "No such network: y";
  const CliRun r = run_with(daemon, {"network", "inspect", "x", "y"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "[]\n");
  EXPECT_EQ(r.err, "Error: No such network: x\nError: No such network: y\n");
}

TEST(Cli, InspectOtherDaemonError) {
  FakeDaemon daemon;
  daemon.errors["network.inspect a"] = "network name a is ambiguous (2 matches found)";
  // "matches found" is not "not found".
  const CliRun r = run_with(daemon, {"network", "inspect", "a"});
  EXPECT_EQ(r.err, "Error response from daemon: network name a is ambiguous (2 matches found)\n");
}

TEST(Cli, InspectSuccess) {
  FakeDaemon daemon;
  daemon.results["network.inspect a"] = net("a", kIdA);
  daemon.results["network.inspect b"] = net("b", kIdB);
  const CliRun r = run_with(daemon, {"network", "inspect", "a", "b"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Json::array({net("a", kIdA), net("b", kIdB)}).dump(4) + "\n");
}

TEST(Cli, RmGoesOnAfterAnError) {
  FakeDaemon daemon;
  daemon.results["network.rm a"] = Json::parse(R"({"id":"1"})");
  daemon.errors["network.rm busy"] =
      "error while removing network: network busy has active endpoints";
  daemon.results["network.rm " + kIdB.substr(0, 12)] = Json::parse(R"({"id":"2"})");
  const CliRun r = run_with(daemon, {"network", "rm", "a", "busy", kIdB.substr(0, 12)});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "a\n" + kIdB.substr(0, 12) + "\n");  // the names as given
  EXPECT_EQ(r.err,
            "Error response from daemon: error while removing network: network busy has active "
            "endpoints\n");
  EXPECT_EQ(daemon.requests.size(), 3u);
}

TEST(Cli, RmJson) {
  FakeDaemon daemon;
  daemon.results["network.rm a"] = Json::parse(R"({"id":"1"})");
  const CliRun r = run_with(daemon, {"network", "rm", "-o", "json", "a"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, Json::parse(R"([{"name":"a","id":"1"}])").dump(4) + "\n");
}

TEST(Cli, RmStopsWhenTheDaemonIsGone) {
  FakeDaemon daemon;
  daemon.down = true;
  const CliRun r = run_with(daemon, {"network", "rm", "a", "b"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(daemon.requests.size(), 1u);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(Cli, ConnectAndDisconnectPrintNothing) {
  FakeDaemon daemon;
  daemon.results["network.connect"] = Json::parse(R"({"container":"web","ip":"10.0.0.2"})");
  daemon.results["network.disconnect"] = Json::object();
  CliRun r = run_with(daemon, {"network", "connect", "front", "web", "--netns", "web"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "");
  r = run_with(daemon, {"network", "disconnect", "front", "web"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "");
  r = run_with(daemon, {"network", "connect", "front", "web", "--netns", "web", "-o", "json"});
  EXPECT_EQ(r.out, "{\n    \"container\": \"web\",\n    \"ip\": \"10.0.0.2\"\n}\n");
}

TEST(Cli, UnexpectedResultShape) {
  FakeDaemon daemon;
  daemon.results["network.ls"] = Json::object();
  const CliRun r = run_with(daemon, {"network", "ls"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "bpfnetctl: unexpected result from daemon: expected an array of networks, got: {}\n");
}

TEST(Cli, StatsJson) {
  FakeDaemon daemon;
  daemon.results["stats"] = Json::parse(R"({"endpoints":[],"drops":[]})");
  const CliRun r = run_with(daemon, {"stats", "-o", "json"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "{\n    \"endpoints\": [],\n    \"drops\": []\n}\n");
}

TEST(Cli, PortMapAddPrintsTheBindings) {
  FakeDaemon daemon;
  daemon.results["port.add"] = Json::parse(
      R"({"container":"web","bindings":[{"proto":"tcp","container_port":80,"host_ip":"::",)"
      R"("host_port":8080,"network":"front","container_ip":"172.18.0.2"},{"proto":"tcp",)"
      R"("container_port":80,"host_ip":"0.0.0.0","host_port":8080,"network":"front",)"
      R"("container_ip":"172.18.0.2"}]})");
  const CliRun r = run_with(daemon, {"port-map", "add", "web", "8080:80"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n");
}

TEST(Cli, PortMapDaemonErrorsDockerStyle) {
  FakeDaemon daemon;
  daemon.errors["port.add"] = "Bind for 0.0.0.0:8080 failed: port is already allocated";
  daemon.errors["port.rm"] = "no public port '8080/tcp' published for web";
  CliRun r = run_with(daemon, {"port-map", "add", "web", "8080:80"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Error response from daemon: Bind for 0.0.0.0:8080 failed: port is already "
            "allocated\n");
  r = run_with(daemon, {"port-map", "rm", "web", "8080"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error response from daemon: no public port '8080/tcp' published for web\n");
}

TEST(Cli, PortMapRmPrintsNothing) {
  FakeDaemon daemon;
  daemon.results["port.rm"] = Json::parse(R"({"container":"web","removed":[]})");
  const CliRun r = run_with(daemon, {"port-map", "rm", "web", "8080/tcp"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

// --- service ------------------------------------------------------------------

Json svc(const std::string& name, const std::string& id) {
  Json s = Json::object();
  s["Name"] = name;
  s["Id"] = id;
  s["Network"] = "front";
  s["VIP"] = "10.1.0.100";
  s["Ports"] = Json::array({"80/tcp"});
  s["Published"] = Json::array();
  s["Backends"] = Json::array();
  return s;
}

TEST(Cli, ServiceCreatePrintsTheId) {
  FakeDaemon daemon;
  daemon.results["service.create web"] = svc("web", kIdA);
  const CliRun r = run_with(daemon, {"service", "create", "web", "--network", "front", "--port",
                                     "80", "-p", "8080:80/tcp", "--health", "tcp"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, kIdA + "\n");
  ASSERT_EQ(daemon.requests.size(), 1u);
  EXPECT_EQ(daemon.requests[0].dump(),
            R"({"op":"service.create","args":{"name":"web","network":"front","ports":["80/tcp"],)"
            R"("publish":["8080:80/tcp"],"health":{"type":"tcp","interval_ms":2000,)"
            R"("timeout_ms":1000,"rise":2,"fall":3}}})");
}

TEST(Cli, ServiceCreateUsageErrorContactsNoDaemon) {
  FakeDaemon daemon;
  const CliRun r = run_with(daemon, {"service", "create", "web", "--network", "front", "--port",
                                     "80", "--health", "tcp", "--health-interval", "2x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "bpfnetctl: service create: invalid --health-interval \"2x\": expected a positive "
            "duration such as \"2s\", \"500ms\" or a number of milliseconds\n");
  EXPECT_TRUE(daemon.sockets.empty());
}

TEST(Cli, ServiceBackendVerbsPrintNothing) {
  FakeDaemon daemon;
  daemon.results["service.add-backend web"] = svc("web", kIdA);
  daemon.results["service.rm-backend web"] = svc("web", kIdA);
  daemon.results["service.drain web"] = svc("web", kIdA);
  for (const char* verb : {"add-backend", "rm-backend", "drain"}) {
    CliRun r = run_with(daemon, {"service", verb, "web", "c1"});
    EXPECT_EQ(r.status, 0) << verb;
    EXPECT_EQ(r.out, "") << verb;
    EXPECT_EQ(r.err, "") << verb;
    r = run_with(daemon, {"service", verb, "web", "c1", "-o", "json"});
    EXPECT_EQ(r.out, svc("web", kIdA).dump(4) + "\n") << verb;
  }
  ASSERT_EQ(daemon.requests.size(), 6u);
  EXPECT_EQ(daemon.requests[4].dump(),
            R"({"op":"service.drain","args":{"name":"web","container":"c1"}})");
}

TEST(Cli, ServiceDaemonErrorDockerStyle) {
  FakeDaemon daemon;
  daemon.errors["service.add-backend web"] = "container c9 is not connected to network front";
  const CliRun r = run_with(daemon, {"service", "add-backend", "web", "c9", "--weight", "2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Error response from daemon: container c9 is not connected to network front\n");
  EXPECT_EQ(daemon.requests[0]["args"]["weight"], 2);
}

TEST(Cli, ServiceInspectPrintsTheFoundAndFailsForTheMissing) {
  FakeDaemon daemon;
  daemon.results["service.inspect web"] = svc("web", kIdA);
  daemon.errors["service.inspect nope"] = "service nope not found";
  daemon.errors["service.inspect gone"] = "No such service: gone";
  const CliRun r = run_with(daemon, {"service", "inspect", "nope", "web", "gone"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, Json::array({svc("web", kIdA)}).dump(4) + "\n");
  EXPECT_EQ(r.err, "Error: No such service: nope\nError: No such service: gone\n");
}

TEST(Cli, ServiceRmGoesOnAfterAnError) {
  FakeDaemon daemon;
  daemon.results["service.rm a"] = Json::parse(R"({"id":"1"})");
  daemon.errors["service.rm b"] = "service b not found";
  daemon.results["service.rm c"] = Json::parse(R"({"id":"3"})");
  CliRun r = run_with(daemon, {"service", "rm", "a", "b", "c"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "a\nc\n");
  EXPECT_EQ(r.err, "Error response from daemon: service b not found\n");
  EXPECT_EQ(daemon.requests.size(), 3u);
  r = run_with(daemon, {"service", "rm", "-o", "json", "a", "c"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, Json::parse(R"([{"name":"a","id":"1"},{"name":"c","id":"3"}])").dump(4) + "\n");
}

TEST(Cli, ServiceLsUnexpectedResultShape) {
  FakeDaemon daemon;
  daemon.results["service.ls"] = Json::object();
  const CliRun r = run_with(daemon, {"service", "ls"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "bpfnetctl: unexpected result from daemon: expected an array of services, got: {}\n");
}

TEST(IsNotFound, Wording) {
  EXPECT_TRUE(is_not_found("network x not found"));
  EXPECT_TRUE(is_not_found("No such network: x"));
  EXPECT_TRUE(is_not_found("Network X Not Found"));
  EXPECT_TRUE(is_not_found("No such service: x"));
  EXPECT_FALSE(is_not_found("network x has active endpoints"));
}

// --- over a real unix socket ------------------------------------------------

TEST(CliSocket, LsAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) {
    return fake::Reply{R"({"ok":true,"result":[{"Name":"none","Id":")" + kIdB +
                       R"(","Scope":"local","Driver":"null"}]})"
                       "\n"};
  });
  std::ostringstream out;
  std::ostringstream err;
  const int status =
      run_cli({"--socket", server.socket(), "network", "ls"}, out, err, socket_transport(5s));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(),
            "NETWORK ID     NAME      DRIVER    SCOPE\n"
            "bbbbbbbbbbbb   none      null      local\n");
  EXPECT_EQ(server.requests(), std::vector<std::string>{R"({"op":"network.ls","args":{}})"});
}

TEST(CliSocket, ErrorAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) {
    return fake::Reply{R"({"ok":false,"error":"network front not found"})"
                       "\n"};
  });
  std::ostringstream out;
  std::ostringstream err;
  const int status = run_cli({"network", "disconnect", "front", "web", "--socket", server.socket()},
                             out, err, socket_transport(5s));
  EXPECT_EQ(status, 1);
  EXPECT_EQ(err.str(), "Error response from daemon: network front not found\n");
}

TEST(CliSocket, MalformedAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) { return fake::Reply{"<html>\n"}; });
  std::ostringstream out;
  std::ostringstream err;
  const int status =
      run_cli({"--socket", server.socket(), "stats"}, out, err, socket_transport(5s));
  EXPECT_EQ(status, 1);
  EXPECT_EQ(err.str(), "bpfnetctl: malformed response from daemon: not JSON: <html>\n");
}

TEST(CliSocket, PortMapLsAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) {
    return fake::Reply{
        R"({"ok":true,"result":[{"container":"web","bindings":[{"proto":"udp",)"
        R"("container_port":53,"host_ip":"127.0.0.1","host_port":5353,"network":"front",)"
        R"("container_ip":"172.18.0.2"}]},{"container":"db","bindings":[{"proto":"tcp",)"
        R"("container_port":5432,"host_ip":"0.0.0.0","host_port":5432,"network":"back",)"
        R"("container_ip":"172.19.0.2"}]}]})"
        "\n"};
  });
  std::ostringstream out;
  std::ostringstream err;
  const int status =
      run_cli({"--socket", server.socket(), "port-map", "ls"}, out, err, socket_transport(5s));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(),
            "db\n"
            "  5432/tcp -> 0.0.0.0:5432\n"
            "\n"
            "web\n"
            "  53/udp -> 127.0.0.1:5353\n");
  EXPECT_EQ(server.requests(), std::vector<std::string>{R"({"op":"port.ls","args":{}})"});
}

TEST(CliSocket, PortMapAddAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) {
    return fake::Reply{
        R"({"ok":true,"result":{"container":"web","bindings":[{"proto":"tcp",)"
        R"("container_port":80,"host_ip":"0.0.0.0","host_port":8080,"network":"front",)"
        R"("container_ip":"172.18.0.2"}]}})"
        "\n"};
  });
  std::ostringstream out;
  std::ostringstream err;
  const int status = run_cli(
      {"port-map", "add", "--socket", server.socket(), "web", "8080:80", "--network", "front"}, out,
      err, socket_transport(5s));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(), "80/tcp -> 0.0.0.0:8080\n");
  EXPECT_EQ(server.requests(),
            std::vector<std::string>{R"({"op":"port.add","args":{"container":"web",)"
                                     R"("specs":["8080:80"],"network":"front"}})"});
}

TEST(CliSocket, ServiceLsAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) {
    return fake::Reply{
        R"({"ok":true,"result":[{"Name":"web","Id":"s1","Network":"front","VIP":"10.1.0.100",)"
        R"("Ports":["80/tcp"],"Published":[{"proto":"tcp","container_port":80,)"
        R"("host_ip":"0.0.0.0","host_port":8080,"network":"front","container_ip":"10.1.0.100"}],)"
        R"("Affinity":{"Mode":"client-ip","TimeoutSeconds":10800},"TableSize":16381,)"
        R"("HealthCheck":{},"Backends":[{"Container":"a","IP":"10.1.0.2","Weight":1,)"
        R"("State":"healthy","LastError":"","Flows":4},{"Container":"b","IP":"10.1.0.3",)"
        R"("Weight":1,"State":"unhealthy","LastError":"connection refused","Flows":0}]}]})"
        "\n"};
  });
  std::ostringstream out;
  std::ostringstream err;
  const int status =
      run_cli({"--socket", server.socket(), "service", "ls"}, out, err, socket_transport(5s));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(),
            "NAME      NETWORK   VIP          PORTS     PUBLISHED              BACKENDS\n"
            "web       front     10.1.0.100   80/tcp    0.0.0.0:8080->80/tcp   2 (1 healthy)\n");
  EXPECT_EQ(server.requests(), std::vector<std::string>{R"({"op":"service.ls","args":{}})"});
}

TEST(CliSocket, ServiceCreateAgainstFakeServer) {
  fake::FakeServer server([](const std::string&) {
    return fake::Reply{R"({"ok":true,"result":{"Name":"web","Id":")" + kIdB +
                       R"("}})"
                       "\n"};
  });
  std::ostringstream out;
  std::ostringstream err;
  const int status = run_cli({"service",    "create",           "--socket", server.socket(),
                              "web",        "--network",        "front",    "--vip",
                              "10.1.0.100", "--port",           "80",       "--affinity",
                              "client-ip",  "--table-size",     "65537",    "--health",
                              "http",       "--health-path",    "/ready",   "--health-interval",
                              "1500",       "--health-timeout", "1s"},
                             out, err, socket_transport(5s));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(), kIdB + "\n");
  EXPECT_EQ(server.requests(),
            std::vector<std::string>{
                R"({"op":"service.create","args":{"name":"web","network":"front",)"
                R"("vip":"10.1.0.100","ports":["80/tcp"],"affinity":"client-ip",)"
                R"("table_size":65537,"health":{"type":"http","path":"/ready","expect":200,)"
                R"("interval_ms":1500,"timeout_ms":1000,"rise":2,"fall":3}}})"});
}

TEST(CliSocket, ServiceRmAgainstFakeServer) {
  fake::FakeServer server(
      [](const std::string& line) {
        if (line.find(R"("name":"db")") != std::string::npos) {
          return fake::Reply{R"({"ok":false,"error":"service db not found"})"
                             "\n"};
        }
        return fake::Reply{R"({"ok":true,"result":{"id":"s1"}})"
                           "\n"};
      },
      2);
  std::ostringstream out;
  std::ostringstream err;
  const int status = run_cli({"--socket", server.socket(), "service", "rm", "db", "web"}, out, err,
                             socket_transport(5s));
  EXPECT_EQ(status, 1);
  EXPECT_EQ(out.str(), "web\n");
  EXPECT_EQ(err.str(), "Error response from daemon: service db not found\n");
  EXPECT_EQ(server.requests(),
            (std::vector<std::string>{R"({"op":"service.rm","args":{"name":"db"}})",
                                      R"({"op":"service.rm","args":{"name":"web"}})"}));
}

// --- the executable ---------------------------------------------------------

CliRun run_binary(const std::vector<std::string>& args) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {-1, "", ""};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    std::vector<char*> argv{const_cast<char*>(BPFNETCTL_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(BPFNETCTL_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  auto slurp = [](int fd) {
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return s;
  };
  // Small outputs: reading one pipe after the other cannot deadlock here.
  CliRun r{-1, slurp(out_pipe[0]), slurp(err_pipe[0])};
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return r;
}

TEST(Binary, ExitStatusAndStreams) {
  CliRun r = run_binary({"--socket", "/nonexistent/bpfnetd.sock", "network", "ls"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Cannot connect to the bpfnet daemon at unix:///nonexistent/bpfnetd.sock. Is bpfnetd "
            "running?\n");

  r = run_binary({"network", "frob"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "bpfnetctl: network: unknown command \"frob\" (see 'bpfnetctl network --help')\n");

  r = run_binary({"service", "create", "web", "--network", "front"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "bpfnetctl: service create: missing required flag --port\n");

  r = run_binary({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, global_help());
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace bpfnet::ctl
