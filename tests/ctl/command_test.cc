#include "ctl/command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bpfnet::ctl {
namespace {

using Args = std::vector<std::string>;

// The UsageError message of parse_command(args), or "<no error>".
std::string usage_error(const Args& args) {
  try {
    parse_command(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

Json only_request(const Command& cmd) {
  EXPECT_EQ(cmd.requests.size(), 1u);
  return cmd.requests.empty() ? Json() : cmd.requests[0].to_json();
}

// --- global flags -----------------------------------------------------------

TEST(ParseGlobal, Defaults) {
  const Command cmd = parse_command({"network", "ls"});
  EXPECT_EQ(cmd.socket_path, "/run/bpfnet/bpfnetd.sock");
  EXPECT_EQ(cmd.output, Output::kTable);
}

TEST(ParseGlobal, SocketBeforeVerb) {
  EXPECT_EQ(parse_command({"--socket", "/tmp/x.sock", "stats"}).socket_path, "/tmp/x.sock");
  EXPECT_EQ(parse_command({"--socket=/tmp/y.sock", "stats"}).socket_path, "/tmp/y.sock");
}

TEST(ParseGlobal, SocketAfterVerb) {
  EXPECT_EQ(parse_command({"network", "ls", "--socket", "/tmp/z.sock"}).socket_path, "/tmp/z.sock");
}

TEST(ParseGlobal, OutputBeforeVerb) {
  EXPECT_EQ(parse_command({"-o", "json", "network", "ls"}).output, Output::kJson);
  EXPECT_EQ(parse_command({"--output", "json", "stats"}).output, Output::kJson);
  EXPECT_EQ(parse_command({"--output=json", "stats"}).output, Output::kJson);
  EXPECT_EQ(parse_command({"-ojson", "stats"}).output, Output::kJson);
}

TEST(ParseGlobal, OutputAfterVerbOverrides) {
  EXPECT_EQ(parse_command({"network", "ls", "-o", "json"}).output, Output::kJson);
  EXPECT_EQ(parse_command({"-o", "json", "network", "ls", "-o", "table"}).output, Output::kTable);
  EXPECT_EQ(parse_command({"stats", "--format", "json"}).output, Output::kJson);
}

TEST(ParseGlobal, GlobalOutputAppliesToNetworkCreate) {
  const Command cmd = parse_command({"-o", "json", "network", "create", "n"});
  EXPECT_EQ(cmd.output, Output::kJson);
  EXPECT_EQ(only_request(cmd)["args"]["options"], Json::object());
}

TEST(ParseGlobal, Help) {
  for (const Args& args : {Args{"--help"}, Args{"-h"}, Args{"help"}, Args{"-o", "json", "-h"}}) {
    const Command cmd = parse_command(args);
    EXPECT_EQ(cmd.verb(), "help");
    EXPECT_NE(cmd.help_text.find("Usage:  bpfnetctl [OPTIONS] COMMAND"), std::string::npos);
    EXPECT_TRUE(cmd.requests.empty());
  }
}

TEST(ParseGlobal, HelpVerbShowsTheCommandsHelp) {
  const Command cmd = parse_command({"help", "network", "create"});
  EXPECT_EQ(cmd.verb(), "help");
  EXPECT_NE(cmd.help_text.find("bpfnetctl network create [OPTIONS] NETWORK"), std::string::npos);
}

TEST(ParseGlobal, UsageErrors) {
  EXPECT_EQ(usage_error({}), "missing command (see 'bpfnetctl --help')");
  EXPECT_EQ(usage_error({"frob"}), "unknown command \"frob\" (see 'bpfnetctl --help')");
  EXPECT_EQ(usage_error({"--frob", "stats"}), "unknown flag: --frob");
  EXPECT_EQ(usage_error({"-x", "stats"}), "unknown flag: -x");
  EXPECT_EQ(usage_error({"--socket"}), "flag needs an argument: --socket");
  EXPECT_EQ(usage_error({"-o"}), "flag needs an argument: --output");
  EXPECT_EQ(usage_error({"-o", "yaml", "stats"}),
            "invalid output format \"yaml\": expected \"table\" or \"json\"");
  EXPECT_EQ(usage_error({"--socket", "", "stats"}), "flag --socket needs a non-empty value");
  EXPECT_EQ(usage_error({"--socket=", "stats"}), "flag --socket needs a non-empty value");
  EXPECT_EQ(usage_error({"--sock", "/x", "stats"}), "unknown flag: --sock");  // no abbreviations
  EXPECT_EQ(usage_error({"-o", "json", "-o", "json", "stats"}),
            "flag --output given more than once");
}

// --- network ------------------------------------------------------------------

TEST(ParseNetwork, HelpAndErrors) {
  EXPECT_EQ(parse_command({"network", "--help"}).help_text, network_help());
  EXPECT_EQ(parse_command({"network", "-h"}).verb(), "help");
  EXPECT_EQ(usage_error({"network"}),
            "network: missing command (connect, create, disconnect, inspect, ls, rm; see "
            "'bpfnetctl network --help')");
  EXPECT_EQ(usage_error({"network", "frob"}),
            "network: unknown command \"frob\" (see 'bpfnetctl network --help')");
  EXPECT_EQ(usage_error({"network", "--frob"}), "network: unknown flag: --frob");
}

// --- network create -----------------------------------------------------------

TEST(ParseCreate, Minimal) {
  const Command cmd = parse_command({"network", "create", "front"});
  EXPECT_EQ(cmd.verb(), "network create");
  EXPECT_EQ(cmd.output, Output::kTable);
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"network.create","args":{"name":"front","driver":"bridge",)"
            R"("internal":false,"options":{}}})");
}

TEST(ParseCreate, AllFlags) {
  const Command cmd =
      parse_command({"network", "create", "--driver", "bridge", "--subnet", "10.1.0.0/16",
                     "--gateway", "10.1.0.254", "--ip-range", "10.1.2.0/24", "--internal", "-o",
                     "com.docker.network.bridge.name=br0", "--opt",
                     "com.docker.network.driver.mtu=9000", "--opt=a=b=c", "front"});
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"network.create","args":{"name":"front","driver":"bridge",)"
            R"("subnet":"10.1.0.0/16","gateway":"10.1.0.254","ip_range":"10.1.2.0/24",)"
            R"("internal":true,"options":{"com.docker.network.bridge.name":"br0",)"
            R"("com.docker.network.driver.mtu":"9000","a":"b=c"}}})");
}

TEST(ParseCreate, ShortDriverAndEqualsForms) {
  const Json req = only_request(
      parse_command({"network", "create", "-d", "bridge", "--subnet=10.2.0.0/24", "n"}));
  EXPECT_EQ(req["args"]["driver"], "bridge");
  EXPECT_EQ(req["args"]["subnet"], "10.2.0.0/24");
}

TEST(ParseCreate, DriverIsPassedThrough) {
  // The daemon decides which drivers exist.
  EXPECT_EQ(
      only_request(parse_command({"network", "create", "-d", "macvlan", "n"}))["args"]["driver"],
      "macvlan");
}

TEST(ParseCreate, RepeatedOptKeyLastWins) {
  const Json req =
      only_request(parse_command({"network", "create", "-o", "k=1", "-o", "k=2", "-o", "e=", "n"}));
  EXPECT_EQ(req["args"]["options"].dump(), R"({"k":"2","e":""})");
}

TEST(ParseCreate, DashOIsOptNotOutput) {
  const Command cmd = parse_command({"network", "create", "-o", "x=y", "n"});
  EXPECT_EQ(cmd.output, Output::kTable);
  EXPECT_EQ(only_request(cmd)["args"]["options"]["x"], "y");
}

TEST(ParseCreate, FormatAndOutputSelectJson) {
  EXPECT_EQ(parse_command({"network", "create", "--format", "json", "n"}).output, Output::kJson);
  EXPECT_EQ(parse_command({"network", "create", "--output", "json", "n"}).output, Output::kJson);
}

TEST(ParseCreate, HelpExplainsDashO) {
  const Command cmd = parse_command({"network", "create", "--help"});
  EXPECT_EQ(cmd.verb(), "help");
  for (const char* flag :
       {"--driver", "--subnet", "--gateway", "--ip-range", "--internal", "-o, --opt KEY=VALUE",
        "--output", "--format", "--socket", "--help", "-o is short for --opt, not for --output"}) {
    EXPECT_NE(cmd.help_text.find(flag), std::string::npos) << flag;
  }
}

TEST(ParseCreate, UsageErrors) {
  const std::string c = "network create: ";
  EXPECT_EQ(usage_error({"network", "create"}), c + "missing argument NETWORK");
  EXPECT_EQ(usage_error({"network", "create", "a", "b"}), c + "unexpected argument \"b\"");
  EXPECT_EQ(usage_error({"network", "create", ""}), c + "NETWORK must not be empty");
  EXPECT_EQ(usage_error({"network", "create", "a", "--frob"}), c + "unknown flag: --frob");
  EXPECT_EQ(usage_error({"network", "create", "a", "--ipv6"}), c + "unknown flag: --ipv6");
  EXPECT_EQ(usage_error({"network", "create", "a", "--subnet"}),
            c + "flag needs an argument: --subnet");
  EXPECT_EQ(usage_error({"network", "create", "a", "-d"}), c + "flag needs an argument: --driver");
  EXPECT_EQ(usage_error({"network", "create", "a", "-o"}), c + "flag needs an argument: --opt");
  EXPECT_EQ(usage_error({"network", "create", "a", "--subnet", "x", "--subnet", "y"}),
            c + "flag --subnet given more than once");
  EXPECT_EQ(usage_error({"network", "create", "a", "--subnet="}),
            c + "flag --subnet needs a non-empty value");
  EXPECT_EQ(usage_error({"network", "create", "a", "--gateway", ""}),
            c + "flag --gateway needs a non-empty value");
  EXPECT_EQ(usage_error({"network", "create", "a", "--ip-range", ""}),
            c + "flag --ip-range needs a non-empty value");
  EXPECT_EQ(usage_error({"network", "create", "a", "--driver", ""}),
            c + "flag --driver needs a non-empty value");
  EXPECT_EQ(usage_error({"network", "create", "a", "--internal=true"}),
            c + "flag --internal does not take a value");
  EXPECT_EQ(usage_error({"network", "create", "a", "-o", "novalue"}),
            c + "invalid --opt \"novalue\": expected KEY=VALUE");
  EXPECT_EQ(usage_error({"network", "create", "a", "-o", "json"}),
            c + "invalid --opt \"json\": expected KEY=VALUE (-o means --opt here; use --format "
                "for the output)");
  EXPECT_EQ(usage_error({"network", "create", "a", "-o", "=v"}),
            c + "invalid --opt \"=v\": empty KEY");
  EXPECT_EQ(usage_error({"network", "create", "a", "--format", "yaml"}),
            c + "invalid output format \"yaml\": expected \"table\" or \"json\"");
  EXPECT_EQ(usage_error({"network", "create", "a", "--format", "json", "--output", "table"}),
            c + "flags --output and --format disagree");
}

// --- network ls -----------------------------------------------------------------

TEST(ParseLs, Plain) {
  const Command cmd = parse_command({"network", "ls"});
  EXPECT_EQ(cmd.verb(), "network ls");
  EXPECT_FALSE(cmd.quiet);
  EXPECT_FALSE(cmd.no_trunc);
  EXPECT_EQ(only_request(cmd).dump(), R"({"op":"network.ls","args":{}})");
}

TEST(ParseLs, AliasAndFlags) {
  const Command cmd = parse_command({"network", "list", "-q", "--no-trunc", "-o", "json"});
  EXPECT_EQ(cmd.verb(), "network ls");
  EXPECT_TRUE(cmd.quiet);
  EXPECT_TRUE(cmd.no_trunc);
  EXPECT_EQ(cmd.output, Output::kJson);
  EXPECT_TRUE(parse_command({"network", "ls", "--quiet"}).quiet);
}

TEST(ParseLs, UsageErrors) {
  EXPECT_EQ(usage_error({"network", "ls", "extra"}), "network ls: unexpected argument \"extra\"");
  EXPECT_EQ(usage_error({"network", "ls", "-f", "driver=bridge"}), "network ls: unknown flag: -f");
  EXPECT_EQ(usage_error({"network", "ls", "-o"}), "network ls: flag needs an argument: --output");
  EXPECT_EQ(usage_error({"network", "ls", "-o", "wide"}),
            "network ls: invalid output format \"wide\": expected \"table\" or \"json\"");
}

TEST(ParseLs, Help) {
  const Command cmd = parse_command({"network", "ls", "-h"});
  EXPECT_EQ(cmd.verb(), "help");
  for (const char* flag : {"--quiet", "--no-trunc", "-o, --output", "--format", "--socket"}) {
    EXPECT_NE(cmd.help_text.find(flag), std::string::npos) << flag;
  }
}

// --- network inspect / rm -----------------------------------------------------

TEST(ParseInspect, OneRequestPerName) {
  const Command cmd = parse_command({"network", "inspect", "a", "b"});
  EXPECT_EQ(cmd.verb(), "network inspect");
  ASSERT_EQ(cmd.requests.size(), 2u);
  EXPECT_EQ(cmd.requests[0].to_json().dump(), R"({"op":"network.inspect","args":{"name":"a"}})");
  EXPECT_EQ(cmd.requests[1].to_json().dump(), R"({"op":"network.inspect","args":{"name":"b"}})");
  EXPECT_EQ(cmd.requests[1].target, "b");
}

TEST(ParseInspect, UsageErrors) {
  EXPECT_EQ(usage_error({"network", "inspect"}), "network inspect: missing argument NETWORK");
  EXPECT_EQ(usage_error({"network", "inspect", "a", ""}),
            "network inspect: NETWORK must not be empty");
  EXPECT_EQ(usage_error({"network", "inspect", "-v", "a"}), "network inspect: unknown flag: -v");
  EXPECT_EQ(parse_command({"network", "inspect", "--help"}).verb(), "help");
}

TEST(ParseRm, OneRequestPerName) {
  for (const char* alias : {"rm", "remove"}) {
    const Command cmd = parse_command({"network", alias, "a", "b", "c"});
    EXPECT_EQ(cmd.verb(), "network rm");
    ASSERT_EQ(cmd.requests.size(), 3u);
    EXPECT_EQ(cmd.requests[2].to_json().dump(), R"({"op":"network.rm","args":{"name":"c"}})");
    EXPECT_EQ(cmd.requests[2].target, "c");
  }
}

TEST(ParseRm, UsageErrors) {
  EXPECT_EQ(usage_error({"network", "rm"}), "network rm: missing argument NETWORK");
  EXPECT_EQ(usage_error({"network", "rm", "-f", "a"}), "network rm: unknown flag: -f");
  EXPECT_EQ(parse_command({"network", "rm", "-h"}).verb(), "help");
}

// --- network connect / disconnect ---------------------------------------------

TEST(ParseConnect, AllFlags) {
  const Command cmd = parse_command({"network", "connect", "--netns", "/run/netns/web", "--ip",
                                     "10.1.0.5", "--mac", "02:42:0a:01:00:05", "front", "web"});
  EXPECT_EQ(cmd.verb(), "network connect");
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"network.connect","args":{"network":"front","container":"web",)"
            R"("netns":"/run/netns/web","ip":"10.1.0.5","mac":"02:42:0a:01:00:05"}})");
}

TEST(ParseConnect, Minimal) {
  const Command cmd = parse_command({"network", "connect", "front", "web", "--netns=web"});
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"network.connect","args":{"network":"front","container":"web",)"
            R"("netns":"web"}})");
  EXPECT_EQ(parse_command({"network", "connect", "f", "w", "--netns", "w", "-o", "json"}).output,
            Output::kJson);
}

TEST(ParseConnect, UsageErrors) {
  const std::string c = "network connect: ";
  EXPECT_EQ(usage_error({"network", "connect", "front", "web"}),
            c + "missing required flag --netns");
  EXPECT_EQ(usage_error({"network", "connect", "front", "--netns", "x"}),
            c + "missing argument CONTAINER");
  EXPECT_EQ(usage_error({"network", "connect", "--netns", "x"}), c + "missing argument NETWORK");
  EXPECT_EQ(usage_error({"network", "connect", "f", "w", "x", "--netns", "x"}),
            c + "unexpected argument \"x\"");
  EXPECT_EQ(usage_error({"network", "connect", "f", "", "--netns", "x"}),
            c + "CONTAINER must not be empty");
  EXPECT_EQ(usage_error({"network", "connect", "f", "w", "--netns", ""}),
            c + "flag --netns needs a non-empty value");
  EXPECT_EQ(usage_error({"network", "connect", "f", "w", "--netns", "x", "--ip", ""}),
            c + "flag --ip needs a non-empty value");
  EXPECT_EQ(usage_error({"network", "connect", "f", "w", "--netns", "x", "--mac"}),
            c + "flag needs an argument: --mac");
  EXPECT_EQ(usage_error({"network", "connect", "f", "w", "--netns", "x", "--alias", "a"}),
            c + "unknown flag: --alias");
}

TEST(ParseConnect, Help) {
  const Command cmd = parse_command({"network", "connect", "--help"});
  EXPECT_EQ(cmd.verb(), "help");
  for (const char* flag : {"--netns", "--ip", "--mac", "--output"}) {
    EXPECT_NE(cmd.help_text.find(flag), std::string::npos) << flag;
  }
}

TEST(ParseDisconnect, Request) {
  const Command cmd = parse_command({"network", "disconnect", "front", "web"});
  EXPECT_EQ(cmd.verb(), "network disconnect");
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"network.disconnect","args":{"network":"front","container":"web"}})");
}

TEST(ParseDisconnect, UsageErrors) {
  EXPECT_EQ(usage_error({"network", "disconnect", "front"}),
            "network disconnect: missing argument CONTAINER");
  EXPECT_EQ(usage_error({"network", "disconnect", "a", "b", "c"}),
            "network disconnect: unexpected argument \"c\"");
  EXPECT_EQ(usage_error({"network", "disconnect", "-f", "a", "b"}),
            "network disconnect: unknown flag: -f");
}

// --- stats / version ------------------------------------------------------------

TEST(ParseStats, Request) {
  const Command cmd = parse_command({"stats", "-o", "json"});
  EXPECT_EQ(cmd.verb(), "stats");
  EXPECT_EQ(cmd.output, Output::kJson);
  EXPECT_EQ(only_request(cmd).dump(), R"({"op":"stats","args":{}})");
  EXPECT_EQ(usage_error({"stats", "web"}), "stats: unexpected argument \"web\"");
  EXPECT_EQ(usage_error({"stats", "--no-stream"}), "stats: unknown flag: --no-stream");
  EXPECT_NE(parse_command({"stats", "--help"}).help_text.find("header only"), std::string::npos);
}

TEST(ParseVersion, Request) {
  const Command cmd = parse_command({"version"});
  EXPECT_EQ(cmd.verb(), "version");
  EXPECT_EQ(only_request(cmd).dump(), R"({"op":"ping","args":{}})");
  EXPECT_EQ(usage_error({"version", "x"}), "version: unexpected argument \"x\"");
  EXPECT_EQ(parse_command({"version", "-h"}).verb(), "help");
}

// --- port-map -------------------------------------------------------------------

TEST(ParsePortMap, HelpAndErrors) {
  EXPECT_EQ(parse_command({"port-map", "--help"}).help_text, port_map_help());
  EXPECT_EQ(parse_command({"port-map", "-h"}).verb(), "help");
  EXPECT_EQ(parse_command({"help", "port-map"}).help_text, port_map_help());
  EXPECT_NE(global_help().find("port-map"), std::string::npos);
  EXPECT_EQ(usage_error({"port-map"}),
            "port-map: missing command (add, ls, rm; see 'bpfnetctl port-map --help')");
  EXPECT_EQ(usage_error({"port-map", "frob"}),
            "port-map: unknown command \"frob\" (see 'bpfnetctl port-map --help')");
  EXPECT_EQ(usage_error({"port-map", "--frob"}), "port-map: unknown flag: --frob");
}

TEST(ParsePortAdd, SpecsPassedThroughVerbatim) {
  const Command cmd = parse_command(
      {"port-map", "add", "web", "8080:80", "[::1]:5353:53/udp", "127.0.0.1::443", "80"});
  EXPECT_EQ(cmd.verb(), "port-map add");
  EXPECT_EQ(cmd.output, Output::kTable);
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"port.add","args":{"container":"web",)"
            R"("specs":["8080:80","[::1]:5353:53/udp","127.0.0.1::443","80"]}})");
  EXPECT_EQ(cmd.requests[0].target, "web");
}

TEST(ParsePortAdd, NetworkAndOutput) {
  const Command cmd = parse_command(
      {"port-map", "add", "--network", "front", "web", "nonsense:spec", "-o", "json"});
  EXPECT_EQ(cmd.output, Output::kJson);
  // Even a bad SPEC goes to the daemon, which owns the -p grammar.
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"port.add","args":{"container":"web","specs":["nonsense:spec"],)"
            R"("network":"front"}})");
  EXPECT_EQ(only_request(
                parse_command({"port-map", "add", "web", "80", "--network=n"}))["args"]["network"],
            "n");
}

TEST(ParsePortAdd, UsageErrors) {
  const std::string c = "port-map add: ";
  EXPECT_EQ(usage_error({"port-map", "add"}), c + "missing argument CONTAINER");
  EXPECT_EQ(usage_error({"port-map", "add", "web"}), c + "missing argument SPEC");
  EXPECT_EQ(usage_error({"port-map", "add", "", "80"}), c + "CONTAINER must not be empty");
  EXPECT_EQ(usage_error({"port-map", "add", "web", "80", ""}), c + "SPEC must not be empty");
  EXPECT_EQ(usage_error({"port-map", "add", "web", "80", "--network"}),
            c + "flag needs an argument: --network");
  EXPECT_EQ(usage_error({"port-map", "add", "web", "80", "--network="}),
            c + "flag --network needs a non-empty value");
  EXPECT_EQ(usage_error({"port-map", "add", "web", "-p", "80"}), c + "unknown flag: -p");
}

TEST(ParsePortAdd, Help) {
  const Command cmd = parse_command({"port-map", "add", "--help"});
  EXPECT_EQ(cmd.verb(), "help");
  for (const char* text : {"Usage:  bpfnetctl port-map add [OPTIONS] CONTAINER SPEC [SPEC...]",
                           "--network NETWORK", "[HOSTIP:][HOSTPORT:]CONTAINERPORT[/PROTO]",
                           "80/tcp -> 0.0.0.0:8080", "--output", "--socket"}) {
    EXPECT_NE(cmd.help_text.find(text), std::string::npos) << text;
  }
}

TEST(ParsePortLs, AllOrOneContainer) {
  Command cmd = parse_command({"port-map", "ls"});
  EXPECT_EQ(cmd.verb(), "port-map ls");
  EXPECT_EQ(only_request(cmd).dump(), R"({"op":"port.ls","args":{}})");
  cmd = parse_command({"port-map", "list", "web", "-o", "json"});
  EXPECT_EQ(cmd.verb(), "port-map ls");
  EXPECT_EQ(cmd.output, Output::kJson);
  EXPECT_EQ(only_request(cmd).dump(), R"({"op":"port.ls","args":{"container":"web"}})");
}

TEST(ParsePortLs, UsageErrorsAndHelp) {
  EXPECT_EQ(usage_error({"port-map", "ls", "a", "b"}), "port-map ls: unexpected argument \"b\"");
  EXPECT_EQ(usage_error({"port-map", "ls", ""}), "port-map ls: CONTAINER must not be empty");
  EXPECT_EQ(usage_error({"port-map", "ls", "-q"}), "port-map ls: unknown flag: -q");
  const Command help = parse_command({"port-map", "ls", "-h"});
  EXPECT_EQ(help.verb(), "help");
  EXPECT_NE(help.help_text.find("port-map ls [OPTIONS] [CONTAINER]"), std::string::npos);
  EXPECT_NE(help.help_text.find("indented"), std::string::npos);
}

TEST(ParsePortRm, Request) {
  for (const char* alias : {"rm", "remove"}) {
    const Command cmd = parse_command({"port-map", alias, "web", "127.0.0.1:8080/udp"});
    EXPECT_EQ(cmd.verb(), "port-map rm");
    EXPECT_EQ(only_request(cmd).dump(),
              R"({"op":"port.rm","args":{"container":"web","spec":"127.0.0.1:8080/udp"}})");
  }
}

TEST(ParsePortRm, UsageErrorsAndHelp) {
  const std::string c = "port-map rm: ";
  EXPECT_EQ(usage_error({"port-map", "rm"}), c + "missing argument CONTAINER");
  EXPECT_EQ(usage_error({"port-map", "rm", "web"}),
            c + "missing argument [HOSTIP:]HOSTPORT[/PROTO]");
  EXPECT_EQ(usage_error({"port-map", "rm", "web", "80", "81"}), c + "unexpected argument \"81\"");
  EXPECT_EQ(usage_error({"port-map", "rm", "web", ""}),
            c + "[HOSTIP:]HOSTPORT[/PROTO] must not be empty");
  EXPECT_EQ(usage_error({"port-map", "rm", "web", "80", "--network", "n"}),
            c + "unknown flag: --network");
  const Command help = parse_command({"help", "port-map", "rm"});
  EXPECT_EQ(help.verb(), "help");
  EXPECT_NE(help.help_text.find("port-map rm [OPTIONS] CONTAINER [HOSTIP:]HOSTPORT[/PROTO]"),
            std::string::npos);
}

// --- service --------------------------------------------------------------------

TEST(ParseService, HelpAndErrors) {
  EXPECT_EQ(parse_command({"service", "--help"}).help_text, service_help());
  EXPECT_EQ(parse_command({"service", "-h"}).verb(), "help");
  EXPECT_EQ(parse_command({"help", "service"}).help_text, service_help());
  for (const char* sub : {"add-backend", "create", "drain", "inspect", "ls", "rm", "rm-backend"}) {
    EXPECT_NE(service_help().find(std::string("  ") + sub + " "), std::string::npos) << sub;
  }
  EXPECT_NE(global_help().find("  service     Manage load-balanced services\n"), std::string::npos);
  EXPECT_EQ(usage_error({"service"}),
            "service: missing command (add-backend, create, drain, inspect, ls, rm, rm-backend; "
            "see 'bpfnetctl service --help')");
  EXPECT_EQ(usage_error({"service", "frob"}),
            "service: unknown command \"frob\" (see 'bpfnetctl service --help')");
  EXPECT_EQ(usage_error({"service", "--frob"}), "service: unknown flag: --frob");
}

TEST(ParseServiceCreate, Minimal) {
  const Command cmd =
      parse_command({"service", "create", "web", "--network", "front", "--port", "80/tcp"});
  EXPECT_EQ(cmd.verb(), "service create");
  EXPECT_EQ(cmd.output, Output::kTable);
  EXPECT_EQ(
      only_request(cmd).dump(),
      R"({"op":"service.create","args":{"name":"web","network":"front","ports":["80/tcp"]}})");
  EXPECT_EQ(cmd.requests[0].target, "web");
}

TEST(ParseServiceCreate, AllFlags) {
  const Command cmd = parse_command({"service",
                                     "create",
                                     "--network",
                                     "front",
                                     "--vip",
                                     "10.1.0.100",
                                     "--port",
                                     "80/tcp",
                                     "--port=53/udp",
                                     "--publish",
                                     "8080:80/tcp",
                                     "-p",
                                     "127.0.0.1:5353:53/udp",
                                     "--affinity",
                                     "client-ip:600",
                                     "--table-size",
                                     "251",
                                     "--health",
                                     "http",
                                     "--health-path",
                                     "/healthz",
                                     "--health-expect",
                                     "204",
                                     "--health-interval",
                                     "5s",
                                     "--health-timeout",
                                     "500ms",
                                     "--health-rise",
                                     "1",
                                     "--health-fall",
                                     "4",
                                     "-o",
                                     "json",
                                     "web"});
  EXPECT_EQ(cmd.verb(), "service create");
  EXPECT_EQ(cmd.output, Output::kJson);
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"service.create","args":{"name":"web","network":"front",)"
            R"("vip":"10.1.0.100","ports":["80/tcp","53/udp"],)"
            R"("publish":["8080:80/tcp","127.0.0.1:5353:53/udp"],"affinity":"client-ip:600",)"
            R"("table_size":251,"health":{"type":"http","path":"/healthz","expect":204,)"
            R"("interval_ms":5000,"timeout_ms":500,"rise":1,"fall":4}}})");
}

TEST(ParseServiceCreate, PortsAreNormalized) {
  const Json req = only_request(
      parse_command({"service", "create", "web", "--network", "n", "--port", "80", "--port",
                     "0443/tcp", "--port", "53/udp", "--port", "9/sctp", "--port", "65535"}));
  EXPECT_EQ(req["args"]["ports"].dump(), R"(["80/tcp","443/tcp","53/udp","9/sctp","65535/tcp"])");
}

TEST(ParseServiceCreate, PublishIsPassedThroughVerbatim) {
  // The daemon owns the -p grammar, as for port-map add.
  const Json req = only_request(parse_command(
      {"service", "create", "web", "--network", "n", "--port", "80", "-p", "nonsense:spec"}));
  EXPECT_EQ(req["args"]["publish"].dump(), R"(["nonsense:spec"])");
}

TEST(ParseServiceCreate, Affinity) {
  auto affinity = [](const std::string& value) {
    return only_request(parse_command({"service", "create", "web", "--network", "n", "--port", "80",
                                       "--affinity", value}))["args"];
  };
  EXPECT_EQ(affinity("client-ip")["affinity"], "client-ip");
  EXPECT_EQ(affinity("client-ip:60")["affinity"], "client-ip:60");
  EXPECT_EQ(affinity("client-ip:0060")["affinity"], "client-ip:60");
  EXPECT_FALSE(affinity("none").contains("affinity"));
}

TEST(ParseServiceCreate, HealthDefaults) {
  auto health = [](const std::string& type) {
    return only_request(parse_command({"service", "create", "web", "--network", "n", "--port", "80",
                                       "--health", type}))["args"]["health"];
  };
  EXPECT_EQ(health("tcp").dump(),
            R"({"type":"tcp","interval_ms":2000,"timeout_ms":1000,"rise":2,"fall":3})");
  EXPECT_EQ(health("http").dump(),
            R"({"type":"http","path":"/","expect":200,"interval_ms":2000,"timeout_ms":1000,)"
            R"("rise":2,"fall":3})");
}

TEST(ParseServiceCreate, Durations) {
  auto interval = [](const std::string& value) {
    return only_request(parse_command({"service", "create", "web", "--network", "n", "--port", "80",
                                       "--health", "tcp", "--health-interval",
                                       value}))["args"]["health"]["interval_ms"]
        .get<long long>();
  };
  EXPECT_EQ(interval("2s"), 2000);
  EXPECT_EQ(interval("500ms"), 500);
  EXPECT_EQ(interval("1500"), 1500);
  EXPECT_EQ(interval("1m"), 60000);
  EXPECT_EQ(interval("2147483647"), 2147483647);
  const Json req =
      only_request(parse_command({"service", "create", "web", "--network", "n", "--port", "80",
                                  "--health", "tcp", "--health-timeout", "3s"}));
  EXPECT_EQ(req["args"]["health"]["timeout_ms"], 3000);
}

TEST(ParseServiceCreate, Help) {
  const Command cmd = parse_command({"service", "create", "--help"});
  EXPECT_EQ(cmd.verb(), "help");
  EXPECT_EQ(cmd.help_text.rfind("Usage:  bpfnetctl service create [OPTIONS] SERVICE\n", 0), 0u);
  for (const char* flag :
       {"--network NETWORK", "--vip IP", "--port PORT[/PROTO]", "-p, --publish SPEC",
        "--affinity MODE", "--table-size N", "--health TYPE", "--health-path PATH",
        "--health-expect CODE", "--health-interval DURATION", "--health-timeout DURATION",
        "--health-rise N", "--health-fall N", "-o, --output", "--format", "--socket", "--help",
        "500ms"}) {
    EXPECT_NE(cmd.help_text.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(parse_command({"help", "service", "create"}).help_text, cmd.help_text);
}

TEST(ParseServiceCreate, UsageErrors) {
  const std::string c = "service create: ";
  auto create = [](std::vector<std::string> more) {
    Args args{"service", "create", "web", "--network", "n", "--port", "80"};
    args.insert(args.end(), more.begin(), more.end());
    return usage_error(args);
  };
  EXPECT_EQ(create({}), "<no error>");
  // Arguments and required flags.
  EXPECT_EQ(usage_error({"service", "create", "--network", "n", "--port", "80"}),
            c + "missing argument SERVICE");
  EXPECT_EQ(create({"extra"}), c + "unexpected argument \"extra\"");
  EXPECT_EQ(usage_error({"service", "create", "", "--network", "n", "--port", "80"}),
            c + "SERVICE must not be empty");
  EXPECT_EQ(usage_error({"service", "create", "web", "--port", "80"}),
            c + "missing required flag --network");
  EXPECT_EQ(usage_error({"service", "create", "web", "--network", "n"}),
            c + "missing required flag --port");
  EXPECT_EQ(create({"--frob"}), c + "unknown flag: --frob");
  EXPECT_EQ(create({"--net", "x"}), c + "unknown flag: --net");  // no abbreviations
  EXPECT_EQ(create({"--network", "m"}), c + "flag --network given more than once");
  EXPECT_EQ(create({"--vip"}), c + "flag needs an argument: --vip");
  EXPECT_EQ(create({"--vip", ""}), c + "flag --vip needs a non-empty value");
  EXPECT_EQ(usage_error({"service", "create", "web", "--network=", "--port", "80"}),
            c + "flag --network needs a non-empty value");
  // --port
  EXPECT_EQ(create({"--port", ""}), c + "flag --port needs a non-empty value");
  EXPECT_EQ(create({"--port", "http"}),
            c + "invalid --port \"http\": expected PORT[/PROTO] with PORT from 1 to 65535, e.g. "
                "80/tcp");
  EXPECT_EQ(create({"--port", "0"}),
            c + "invalid --port \"0\": expected PORT[/PROTO] with PORT from 1 to 65535, e.g. "
                "80/tcp");
  EXPECT_EQ(create({"--port", "65536/tcp"}),
            c + "invalid --port \"65536/tcp\": expected PORT[/PROTO] with PORT from 1 to 65535, "
                "e.g. 80/tcp");
  EXPECT_EQ(create({"--port", "80-90"}),
            c + "invalid --port \"80-90\": expected PORT[/PROTO] with PORT from 1 to 65535, e.g. "
                "80/tcp");
  EXPECT_EQ(create({"--port", "-1"}),
            c + "invalid --port \"-1\": expected PORT[/PROTO] with PORT from 1 to 65535, e.g. "
                "80/tcp");
  EXPECT_EQ(create({"--port", "53/icmp"}),
            c + "invalid --port \"53/icmp\": PROTO must be tcp, udp or sctp");
  EXPECT_EQ(create({"--port", "53/"}),
            c + "invalid --port \"53/\": PROTO must be tcp, udp or sctp");
  EXPECT_EQ(create({"--port", "80/TCP"}),
            c + "invalid --port \"80/TCP\": PROTO must be tcp, udp or sctp");
  EXPECT_EQ(create({"--port", "80/tcp"}), c + "flag --port gives 80/tcp more than once");
  // --publish
  EXPECT_EQ(create({"-p"}), c + "flag needs an argument: --publish");
  EXPECT_EQ(create({"--publish", ""}), c + "flag --publish needs a non-empty value");
  // --affinity
  for (const char* bad : {"client", "client-ip:", "client-ip:0", "client-ip:x", "client-ip:-5",
                          "client-ip:2147483648", "client-ip60"}) {
    EXPECT_EQ(create({"--affinity", bad}),
              c + "invalid --affinity \"" + bad +
                  "\": expected \"none\", \"client-ip\" or \"client-ip:SECONDS\" with SECONDS a "
                  "positive integer");
  }
  // --table-size
  for (const char* bad : {"16384", "1", "0", "x", "-7", "7.0", "2147483659"}) {
    EXPECT_EQ(create({"--table-size", bad}),
              c + "invalid --table-size \"" + bad + "\": expected a prime number, e.g. 16381");
  }
  EXPECT_EQ(create({"--table-size", "2"}), "<no error>");
  // --health and the --health-* flags
  EXPECT_EQ(create({"--health", "udp"}),
            c + "invalid --health \"udp\": expected \"tcp\" or \"http\"");
  EXPECT_EQ(create({"--health", ""}), c + "flag --health needs a non-empty value");
  for (const char* flag : {"--health-path", "--health-expect", "--health-interval",
                           "--health-timeout", "--health-rise", "--health-fall"}) {
    EXPECT_EQ(create({flag, "1"}), c + "flag " + flag + " needs --health");
    EXPECT_EQ(create({"--health", "http", flag}), c + "flag needs an argument: " + flag);
  }
  EXPECT_EQ(create({"--health", "tcp", "--health-path", "/"}),
            c + "flag --health-path needs --health http");
  EXPECT_EQ(create({"--health", "tcp", "--health-expect", "200"}),
            c + "flag --health-expect needs --health http");
  EXPECT_EQ(create({"--health", "http", "--health-path", "healthz"}),
            c + "invalid --health-path \"healthz\": expected a path starting with \"/\"");
  for (const char* bad : {"99", "600", "ok", "", "2OO"}) {
    EXPECT_EQ(create({"--health", "http", "--health-expect", bad}),
              std::string(bad).empty() ? c + "flag --health-expect needs a non-empty value"
                                       : c + "invalid --health-expect \"" + bad +
                                             "\": expected an HTTP status code from 100 to 599");
  }
  for (const char* flag : {"health-interval", "health-timeout"}) {
    for (const char* bad :
         {"0", "0s", "2h", "1.5s", "s", "ms", "+2s", "-2s", " 2s", "2 s", "2S", "0x10"}) {
      EXPECT_EQ(create({"--health", "tcp", std::string("--") + flag, bad}),
                c + "invalid --" + flag + " \"" + bad +
                    "\": expected a positive duration such as \"2s\", \"500ms\" or a number of "
                    "milliseconds");
    }
    EXPECT_EQ(create({"--health", "tcp", std::string("--") + flag, "2147484s"}),
              c + "invalid --" + flag + " \"2147484s\": at most 2147483647ms");
  }
  for (const char* flag : {"health-rise", "health-fall"}) {
    for (const char* bad : {"0", "x", "2.5", "2147483648"}) {
      EXPECT_EQ(create({"--health", "tcp", std::string("--") + flag, bad}),
                c + "invalid --" + flag + " \"" + bad + "\": expected a positive integer");
    }
  }
  // Output
  EXPECT_EQ(create({"-o", "yaml"}),
            c + "invalid output format \"yaml\": expected \"table\" or \"json\"");
}

TEST(ParseServiceBackend, AddBackend) {
  Command cmd = parse_command({"service", "add-backend", "web", "c1"});
  EXPECT_EQ(cmd.verb(), "service add-backend");
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"service.add-backend","args":{"name":"web","container":"c1"}})");
  cmd = parse_command({"service", "add-backend", "--weight", "3", "web", "c1", "-o", "json"});
  EXPECT_EQ(cmd.output, Output::kJson);
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"service.add-backend","args":{"name":"web","container":"c1","weight":3}})");
  EXPECT_EQ(only_request(parse_command(
                {"service", "add-backend", "web", "c1", "--weight=07"}))["args"]["weight"],
            7);
}

TEST(ParseServiceBackend, RmBackendAndDrain) {
  Command cmd = parse_command({"service", "rm-backend", "web", "c1"});
  EXPECT_EQ(cmd.verb(), "service rm-backend");
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"service.rm-backend","args":{"name":"web","container":"c1"}})");
  cmd = parse_command({"service", "drain", "web", "c1"});
  EXPECT_EQ(cmd.verb(), "service drain");
  EXPECT_EQ(only_request(cmd).dump(),
            R"({"op":"service.drain","args":{"name":"web","container":"c1"}})");
}

TEST(ParseServiceBackend, UsageErrorsAndHelp) {
  for (const char* verb : {"add-backend", "rm-backend", "drain"}) {
    const std::string c = std::string("service ") + verb + ": ";
    EXPECT_EQ(usage_error({"service", verb}), c + "missing argument SERVICE");
    EXPECT_EQ(usage_error({"service", verb, "web"}), c + "missing argument CONTAINER");
    EXPECT_EQ(usage_error({"service", verb, "web", "c1", "c2"}), c + "unexpected argument \"c2\"");
    EXPECT_EQ(usage_error({"service", verb, "web", ""}), c + "CONTAINER must not be empty");
    EXPECT_EQ(usage_error({"service", verb, "", "c1"}), c + "SERVICE must not be empty");
    EXPECT_EQ(usage_error({"service", verb, "web", "c1", "-f"}), c + "unknown flag: -f");
    const Command help = parse_command({"service", verb, "--help"});
    EXPECT_EQ(help.verb(), "help");
    EXPECT_EQ(
        help.help_text.rfind(
            std::string("Usage:  bpfnetctl service ") + verb + " [OPTIONS] SERVICE CONTAINER\n", 0),
        0u);
    EXPECT_EQ(help.help_text.find("--weight") != std::string::npos,
              std::string(verb) == "add-backend");
  }
  EXPECT_EQ(usage_error({"service", "rm-backend", "web", "c1", "--weight", "2"}),
            "service rm-backend: unknown flag: --weight");
  EXPECT_EQ(usage_error({"service", "drain", "web", "c1", "--weight", "2"}),
            "service drain: unknown flag: --weight");
  const std::string c = "service add-backend: ";
  for (const char* bad : {"0", "-1", "x", "1.5", "2147483648"}) {
    EXPECT_EQ(usage_error({"service", "add-backend", "web", "c1", "--weight", bad}),
              c + "invalid --weight \"" + bad + "\": expected a positive integer");
  }
  EXPECT_EQ(usage_error({"service", "add-backend", "web", "c1", "--weight="}),
            c + "flag --weight needs a non-empty value");
  EXPECT_EQ(usage_error({"service", "add-backend", "web", "c1", "--weight", "1", "--weight", "2"}),
            c + "flag --weight given more than once");
}

TEST(ParseServiceLs, Request) {
  for (const char* alias : {"ls", "list"}) {
    const Command cmd = parse_command({"service", alias});
    EXPECT_EQ(cmd.verb(), "service ls");
    EXPECT_EQ(only_request(cmd).dump(), R"({"op":"service.ls","args":{}})");
  }
  EXPECT_EQ(parse_command({"service", "ls", "-o", "json"}).output, Output::kJson);
  EXPECT_EQ(parse_command({"-o", "json", "service", "ls"}).output, Output::kJson);
  EXPECT_EQ(usage_error({"service", "ls", "web"}), "service ls: unexpected argument \"web\"");
  EXPECT_EQ(usage_error({"service", "ls", "-q"}), "service ls: unknown flag: -q");
  const Command help = parse_command({"service", "ls", "-h"});
  EXPECT_EQ(help.verb(), "help");
  EXPECT_NE(help.help_text.find("0.0.0.0:8080->80/tcp"), std::string::npos);
}

TEST(ParseServiceInspectRm, OneRequestPerName) {
  Command cmd = parse_command({"service", "inspect", "a", "b"});
  EXPECT_EQ(cmd.verb(), "service inspect");
  ASSERT_EQ(cmd.requests.size(), 2u);
  EXPECT_EQ(cmd.requests[0].to_json().dump(), R"({"op":"service.inspect","args":{"name":"a"}})");
  EXPECT_EQ(cmd.requests[1].target, "b");
  for (const char* alias : {"rm", "remove"}) {
    cmd = parse_command({"service", alias, "a", "b", "c"});
    EXPECT_EQ(cmd.verb(), "service rm");
    ASSERT_EQ(cmd.requests.size(), 3u);
    EXPECT_EQ(cmd.requests[2].to_json().dump(), R"({"op":"service.rm","args":{"name":"c"}})");
    EXPECT_EQ(cmd.requests[2].target, "c");
  }
}

TEST(ParseServiceInspectRm, UsageErrorsAndHelp) {
  EXPECT_EQ(usage_error({"service", "inspect"}), "service inspect: missing argument SERVICE");
  EXPECT_EQ(usage_error({"service", "inspect", "a", ""}),
            "service inspect: SERVICE must not be empty");
  EXPECT_EQ(usage_error({"service", "rm"}), "service rm: missing argument SERVICE");
  EXPECT_EQ(usage_error({"service", "rm", "-f", "a"}), "service rm: unknown flag: -f");
  EXPECT_NE(parse_command({"service", "inspect", "-h"})
                .help_text.find("service inspect [OPTIONS] SERVICE [SERVICE...]"),
            std::string::npos);
  EXPECT_NE(parse_command({"service", "rm", "-h"})
                .help_text.find("service rm [OPTIONS] SERVICE [SERVICE...]"),
            std::string::npos);
}

TEST(ParseVerbs, EndOfFlagsAllowsDashNames) {
  const Command cmd = parse_command({"network", "create", "--", "-weird"});
  EXPECT_EQ(only_request(cmd)["args"]["name"], "-weird");
}

}  // namespace
}  // namespace bpfnet::ctl
