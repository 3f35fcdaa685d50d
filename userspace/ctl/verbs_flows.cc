// `bpfnetctl flows`: the conntrack's flows in Docker's words, once or every
// second (--watch).
#include <fmt/format.h>

#include "ctl/flags.h"
#include "ctl/render.h"
#include "ctl/tabwriter.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

void build_flows(const VerbArgs& given, Command& cmd) {
  Request req = given.request("");
  if (!given.positional().empty()) {
    req.target = given.arg(0);
    req.args["container"] = given.arg(0);
  }
  if (auto v = given.string("network")) req.args["network"] = *v;
  if (auto v = given.string("service")) req.args["service"] = *v;
  if (auto v = given.string("proto")) {
    if (*v != "tcp" && *v != "udp") throw given.invalid("proto", *v, "tcp or udp");
    req.args["proto"] = *v;
  }
  if (int(!given.positional().empty()) + int(given.given("network")) + int(given.given("service")) >
      1)
    throw given.error("give at most one of CONTAINER, --network and --service");
  cmd.watch = given.on("watch");
  cmd.requests.push_back(std::move(req));
}

// "4s", "3m12s", "2h05m": how long, as short as `docker ps` would say it.
std::string duration_cell(const Json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || !it->is_number_unsigned()) return "";
  const uint64_t s = it->get<uint64_t>() / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
}

std::string nat_cell(const Json& row) {
  std::string nat = cell(row, "nat");
  const auto it = row.find("snat");
  if (it != row.end() && it->is_string()) nat += " " + it->get<std::string>();
  return nat;
}

std::string render_flows(const Command& cmd, const Json& result) {
  expect_array(result, "flows");
  if (cmd.output == Output::kJson) return pretty_json(result);
  std::vector<std::vector<std::string>> rows{{"PROTO", "CLIENT", "ADDRESS", "CONTAINER", "NETWORK",
                                              "SERVER", "NAT", "STATE", "AGE", "IDLE",
                                              "PACKETS IN/OUT", "BYTES IN/OUT"}};
  for (const Json& f : result) {
    std::string address = cell(f, "address");
    const std::string service = cell(f, "service");
    if (!service.empty()) address += " (" + service + ")";
    rows.push_back({cell(f, "proto"), cell(f, "client"), address, cell(f, "container"),
                    cell(f, "network"), cell(f, "server"), nat_cell(f),
                    cell(f, "client_state") + "/" + cell(f, "server_state"),
                    duration_cell(f, "age_ms"), duration_cell(f, "idle_ms"),
                    cell(f, "client_packets") + "/" + cell(f, "server_packets"),
                    cell(f, "client_bytes") + "/" + cell(f, "server_bytes")});
  }
  return docker_table(rows);
}

constexpr const char* kFlowsNotes =
    "One row per flow that bpfnet translates (published ports, services, masquerade):\n"
    "CLIENT sent its first packet to ADDRESS (a published host port, a service VIP\n"
    "with the service's name, or for a container's masqueraded flow the outside\n"
    "address); CONTAINER and NETWORK are the container on bpfnet's side, SERVER where\n"
    "the client's packets are delivered; NAT is DNAT, DNAT+SNAT, masquerade (with the\n"
    "source address and port it took) or none. STATE, PACKETS and BYTES are per\n"
    "direction: the client's (IN), then the answers' (OUT); bytes are IP lengths. IDLE\n"
    "is within a second. CONTAINER, --network and --service select the flows that\n"
    "involve that container (serving or opening them), a container of that network,\n"
    "or that service; an unknown name is an error. --watch reprints every second\n"
    "until Ctrl-C. With -o json, prints the daemon's result (userspace/README.md).\n";

}  // namespace

std::vector<VerbRow> flows_verbs() {
  return {
      VerbRow{
          .name = "flows",
          .help = {"Show the flows bpfnet tracks",
                   "Show the connections through published ports, services and masquerade, "
                   "with\ntheir containers, translations, states and counters.",
                   kFlowsNotes},
          .args = {{"CONTAINER"}, Arity::kOptional},
          .flags = {{"--network NETWORK", "Only flows of this network's containers"},
                    {"--service SERVICE", "Only flows this service balanced"},
                    {"--proto PROTO", "Only tcp or udp flows"},
                    {"--watch", "Reprint every second until Ctrl-C"}},
          .call = {"flows", build_flows, render_flows},
      },
  };
}

}  // namespace bpfnet::ctl
