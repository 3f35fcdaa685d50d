// `bpfnetctl flows`: the conntrack's flows in Docker's words, once or every
// second (--watch).
#include <fmt/format.h>

#include "ctl/flags.h"
#include "ctl/flows_table.h"
#include "ctl/render.h"
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
  req.args["format"] = "rows";  // the compact one (core/flows_wire.h)
  cmd.watch = given.on("watch");
  cmd.requests.push_back(std::move(req));
}

// The socket transport hands the result over as its JSON text (a binary
// value, ctl/client.h Client::call_text): 262,144 flows are ~28 MB, too
// many to decode into a document and print in time. Any other transport
// (tests) gives a document, printed the same way.
std::string render_flows(const Command& cmd, const Json& result) {
  std::string dumped;
  std::string_view text;
  if (result.is_binary()) {
    const auto& bytes = result.get_binary();
    text = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else {
    dumped = result.dump(-1, ' ', false, Json::error_handler_t::replace);
    text = dumped;
  }
  const core::DecodedFlows flows = decode_flows(text);
  return cmd.output == Output::kJson ? flows_json_lines(flows.rows) : flows_table(flows.rows);
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
    "until Ctrl-C. With -o json, prints the daemon's result (userspace/README.md), one\n"
    "flow per line.\n";

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
