// `bpfnetctl service ...`: load-balanced services (a virtual IP and ports on
// a network, spread over backend containers by Maglev hashing).
#include <fmt/format.h>

#include <algorithm>

#include "ctl/flags.h"
#include "ctl/published_ports.h"
#include "ctl/render.h"
#include "ctl/service_flags.h"
#include "ctl/tabwriter.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

void build_create(const VerbArgs& given, Command& cmd) {
  // Checked in this order, so the first mistake is the one reported.
  const std::string network = given.required("network");
  const std::vector<std::string> ports = service_ports_flag(given);
  // The -p grammar is the daemon's (as for port-map add).
  const std::vector<std::string> publish = given.list("publish");
  const auto table_size = table_size_flag(given);
  const auto affinity = affinity_flag(given);
  const auto health = health_flags(given);

  Request req = given.request(given.arg(0));
  req.args["name"] = given.arg(0);
  req.args["network"] = network;
  if (auto v = given.string("vip")) req.args["vip"] = *v;
  req.args["ports"] = Json(ports);
  if (!publish.empty()) req.args["publish"] = Json(publish);
  if (affinity) req.args["affinity"] = *affinity;
  if (table_size) req.args["table_size"] = *table_size;
  if (health) req.args["health"] = *health;
  cmd.requests.push_back(std::move(req));
}

// add-backend, rm-backend, drain: SERVICE CONTAINER [--weight N].
void build_backend(const VerbArgs& given, Command& cmd) {
  Request req = given.request(given.arg(0));
  req.args["name"] = given.arg(0);
  req.args["container"] = given.arg(1);
  if (auto weight = count_flag(given, "weight")) req.args["weight"] = *weight;
  cmd.requests.push_back(std::move(req));
}

VerbRow backend_verb(std::string_view word, VerbHelp help, std::vector<FlagSpec> flags) {
  help.notes =
      "Prints nothing on success; with -o json, prints the service as `service inspect`\n"
      "does.\n";
  return VerbRow{.name = fmt::format("service {}", word),
                 .help = std::move(help),
                 .args = {{"SERVICE", "CONTAINER"}},
                 .flags = std::move(flags),
                 .call = {fmt::format("service.{}", word), build_backend, render_nothing_or_json}};
}

// The PORTS column: the service's ports as they are, comma-separated.
std::string ports_column(const Json& service) {
  const auto it = service.find("Ports");
  if (it == service.end() || it->is_null()) return "";
  if (!it->is_array() ||
      !std::all_of(it->begin(), it->end(), [](const Json& p) { return p.is_string(); })) {
    throw BadResult("expected a service with an array of strings \"Ports\", got: " +
                    service.dump());
  }
  std::string out;
  for (const Json& port : *it) out += (out.empty() ? "" : ", ") + port.get<std::string>();
  return out;
}

// The PUBLISHED column, as docker ps prints ports.
std::string published_column(const Json& service) {
  const auto it = service.find("Published");
  return it == service.end() || it->is_null() ? "" : displayable_ports(*it);
}

// The BACKENDS column: "3 (2 healthy)".
std::string backends_column(const Json& service) {
  const auto it = service.find("Backends");
  if (it == service.end() || it->is_null()) return "0 (0 healthy)";
  expect_array(*it, "backends");
  const auto healthy = std::count_if(it->begin(), it->end(),
                                     [](const Json& b) { return cell(b, "State") == "healthy"; });
  return fmt::format("{} ({} healthy)", it->size(), healthy);
}

std::string render_ls(const Command& cmd, const Json& result) {
  expect_array(result, "services");
  if (cmd.output == Output::kJson) return pretty_json(result);
  std::vector<std::vector<std::string>> rows{
      {"NAME", "NETWORK", "VIP", "PORTS", "PUBLISHED", "BACKENDS"}};
  for (const Json* s : sorted_by(result, "Name")) {
    rows.push_back({cell(*s, "Name"), cell(*s, "Network"), cell(*s, "VIP"), ports_column(*s),
                    published_column(*s), backends_column(*s)});
  }
  return docker_table(rows);
}

}  // namespace

std::vector<VerbRow> service_verbs() {
  return {
      VerbRow{
          .name = "service",
          .help =
              {"Manage load-balanced services",
               "Manage load-balanced services: a virtual IP and ports on a network, spread over\n"
               "backend containers by Maglev hashing"}},
      VerbRow{
          .name = "service create",
          .help = {"Create a service", "Create a load-balanced service and print its ID.",
                   "DURATION is a number of milliseconds, or a number followed by ms, s or m: "
                   "500ms,\n"
                   "2s, 1m. The --health-* flags need --health. With -o json, prints the service "
                   "as\n"
                   "`service inspect` does.\n"},
          .args = {{"SERVICE"}},
          .flags =
              {{"--network NETWORK", "Network of the virtual IP and of the backends (required)"},
               {"--vip IP", "Virtual IP (default: the next free address of the network)"},
               {"--port PORT[/PROTO]",
                "Port of the service, e.g. 80/tcp (required, repeatable);\n"
                "PROTO is tcp (default), udp or sctp",
                FlagSpec::kRepeatable},
               {"-p, --publish SPEC",
                "Publish a port of the service on the host (repeatable), in\n"
                "Docker's -p syntax: [HOSTIP:]HOSTPORT:PORT[/PROTO], e.g.\n"
                "8080:80/tcp",
                FlagSpec::kRepeatable},
               {"--affinity MODE",
                "\"client-ip\" sends a client to the same backend for 10800\n"
                "seconds, \"client-ip:SECONDS\" for SECONDS; \"none\" (default)"},
               {"--table-size N", "Size of the Maglev lookup table, a prime (default 16381)"},
               {"--health TYPE", "Check the backends: \"tcp\" (connect) or \"http\" (GET)"},
               {"--health-path PATH", "HTTP path to get (default \"/\"; with --health http)"},
               {"--health-expect CODE", "HTTP status expected (default 200; with --health http)"},
               {"--health-interval DURATION", "Time between two checks of a backend (default 2s)"},
               {"--health-timeout DURATION", "Time a check may take (default 1s)"},
               {"--health-rise N", "Successes in a row that make a backend healthy (default 2)"},
               {"--health-fall N", "Failures in a row that make a backend unhealthy (default 3)"}},
          .call = {"service.create", build_create, render_created_id},
      },
      backend_verb(
          "add-backend",
          {"Add a container as a backend of a service",
           "Add a container as a backend of a service. On an overlay network,\n"
           "CONTAINER@HOST names a container on another host of the cluster."},
          {{"--weight N", "Share of the new flows, relative to the other backends\n(default 1)"}}),
      backend_verb("rm-backend",
                   {"Remove a backend from a service", "Remove a backend from a service."}, {}),
      backend_verb("drain",
                   {"Send no new flows to a backend",
                    "Send no new flows to a backend; the flows it has go on."},
                   {}),
      VerbRow{
          .name = "service ls",
          .alias = "list",
          .help = {"List services", "List services, sorted by name.",
                   "BACKENDS is the number of backends, then the number of healthy ones in\n"
                   "parentheses. PUBLISHED shows the published ports as `docker ps` does, e.g.\n"
                   "0.0.0.0:8080->80/tcp. With -o json, prints the services as `service inspect` "
                   "does.\n"},
          .call = {"service.ls", build_request_without_args, render_ls},
      },
      inspect_verb("service", "SERVICE", "The output is JSON whatever the output format.\n"),
      rm_verb("service", "SERVICE",
              "With -o json, prints [{\"name\": SERVICE, \"id\": ID}, ...] for the removed "
              "services.\n"),
  };
}

}  // namespace bpfnet::ctl
