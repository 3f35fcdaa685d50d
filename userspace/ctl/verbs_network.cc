// `bpfnetctl network ...`: Docker's `docker network` verbs.
#include <fmt/format.h>

#include "ctl/flags.h"
#include "ctl/render.h"
#include "ctl/tabwriter.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

// -o KEY=VALUE, repeatable -> the "options" object (a repeated KEY: the last one wins).
Json driver_options(const VerbArgs& given) {
  Json options = Json::object();
  for (const std::string& kv : given.list("opt")) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      // `-o json` is the likely mistake: point at the right flag.
      const std::string_view hint = (kv == "json" || kv == "table")
                                        ? " (-o means --opt here; use --format for the output)"
                                        : "";
      throw given.error(fmt::format("invalid --opt \"{}\": expected KEY=VALUE{}", kv, hint));
    }
    if (eq == 0) throw given.error(fmt::format("invalid --opt \"{}\": empty KEY", kv));
    options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return options;
}

void build_create(const VerbArgs& given, Command& cmd) {
  Json options = driver_options(given);
  Request req = given.request(given.arg(0));
  req.args["name"] = given.arg(0);
  req.args["driver"] = given.string("driver").value_or("bridge");
  if (auto v = given.string("subnet")) req.args["subnet"] = *v;
  if (auto v = given.string("gateway")) req.args["gateway"] = *v;
  if (auto v = given.string("ip-range")) req.args["ip_range"] = *v;
  req.args["internal"] = given.on("internal");
  req.args["options"] = std::move(options);
  cmd.requests.push_back(std::move(req));
}

void build_ls(const VerbArgs& given, Command& cmd) {
  cmd.quiet = given.on("quiet");
  cmd.no_trunc = given.on("no-trunc");
  build_request_without_args(given, cmd);
}

// NETWORK CONTAINER: the request of disconnect, and the start of connect's.
Request endpoint_request(const VerbArgs& given) {
  Request req = given.request(given.arg(1));
  req.args["network"] = given.arg(0);
  req.args["container"] = given.arg(1);
  return req;
}

void build_connect(const VerbArgs& given, Command& cmd) {
  const std::string netns = given.required("netns");
  Request req = endpoint_request(given);
  req.args["netns"] = netns;
  if (auto v = given.string("ip")) req.args["ip"] = *v;
  if (auto v = given.string("mac")) req.args["mac"] = *v;
  cmd.requests.push_back(std::move(req));
}

void build_disconnect(const VerbArgs& given, Command& cmd) {
  cmd.requests.push_back(endpoint_request(given));
}

std::string network_driver(const Json& network) {
  std::string driver = cell(network, "Driver");
  // Docker shows the builtin none network with the "null" driver.
  if (cell(network, "Name") == "none" && (driver.empty() || driver == "none")) return "null";
  return driver;
}

std::string render_ls(const Command& cmd, const Json& result) {
  expect_array(result, "networks");
  if (cmd.output == Output::kJson) return pretty_json(result);
  const std::vector<const Json*> networks = sorted_by(result, "Name");
  auto id_of = [&](const Json& n) {
    const std::string id = cell(n, "Id");
    return cmd.no_trunc ? id : truncate_id(id);
  };
  if (cmd.quiet) {
    std::string out;
    for (const Json* n : networks) out += id_of(*n) + "\n";
    return out;
  }
  std::vector<std::vector<std::string>> rows{{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}};
  for (const Json* n : networks) {
    rows.push_back({id_of(*n), cell(*n, "Name"), network_driver(*n), cell(*n, "Scope")});
  }
  return docker_table(rows);
}

}  // namespace

std::vector<VerbRow> network_verbs() {
  return {
      VerbRow{.name = "network", .help = {"Manage networks", "Manage networks"}},
      VerbRow{
          .name = "network create",
          .help = {"Create a network", "Create a network and print its full ID.",
                   "Note: here, as in `docker network create`, -o is short for --opt, not for "
                   "--output.\n"
                   "For JSON output use --format json (or --output json), or give -o json before "
                   "the\n"
                   "command: bpfnetctl -o json network create NETWORK\n"},
          .args = {{"NETWORK"}},
          .flags = {{"-d, --driver string",
                     "Driver to manage the network (default \"bridge\", the only one)"},
                    {"--gateway IP",
                     "IPv4 gateway of the subnet (default: first address of the subnet)"},
                    {"--internal", "Restrict external access to the network"},
                    {"--ip-range CIDR", "Allocate container IPs from this sub-range of the subnet"},
                    {"-o, --opt KEY=VALUE",
                     "Set a driver option (repeatable), e.g.\n"
                     "-o com.docker.network.bridge.name=br0",
                     FlagSpec::kRepeatable},
                    {"--subnet CIDR",
                     "Subnet in CIDR format (default: the next free default pool)"},
                    {"--output FORMAT",
                     "Output format: \"table\" (default: print the ID) or \"json\"\n"
                     "(print the network as `network inspect` does)"},
                    kFormatFlag},
          .standard_output_flags = false,
          .call = {"network.create", build_create, render_created_id},
      },
      VerbRow{
          .name = "network ls",
          .alias = "list",
          .help = {"List networks", "List networks, sorted by name.",
                   "With -o json, prints the networks as `network inspect` does.\n"},
          .flags = {{"-q, --quiet", "Only display network IDs"},
                    {"--no-trunc", "Do not truncate the network IDs"}},
          .call = {"network.ls", build_ls, render_ls},
      },
      inspect_verb("network", "NETWORK",
                   "NETWORK is a name, a full ID or a unique ID prefix. The output is JSON "
                   "whatever\nthe output format.\n"),
      rm_verb("network", "NETWORK",
              "With -o json, prints [{\"name\": NETWORK, \"id\": FULL_ID}, ...] for the removed "
              "networks.\n"),
      VerbRow{
          .name = "network connect",
          .help = {"Connect a container to a network",
                   "Connect a container (a network namespace) to a network.",
                   "Prints nothing on success; with -o json, prints the new endpoint.\n"},
          .args = {{"NETWORK", "CONTAINER"}},
          .flags = {{"--netns PATH|NAME",
                     "The container's network namespace: a path, or a name\n"
                     "under /var/run/netns (required)"},
                    {"--ip IP", "IPv4 address (default: the next free address)"},
                    {"--mac MAC", "MAC address (default: a random locally administered one)"}},
          .call = {"network.connect", build_connect, render_nothing_or_json},
      },
      VerbRow{
          .name = "network disconnect",
          .help = {"Disconnect a container from a network",
                   "Disconnect a container from a network.", "Prints nothing on success.\n"},
          .args = {{"NETWORK", "CONTAINER"}},
          .call = {"network.disconnect", build_disconnect, render_nothing_or_json},
      },
  };
}

}  // namespace bpfnet::ctl
