// `bpfnetctl uplink ls`: the host interfaces facing clients, the hook each
// one got (native XDP or tc) and why.
#include "ctl/render.h"
#include "ctl/tabwriter.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

std::string render_ls(const Command& cmd, const Json& result) {
  expect_array(result, "uplinks");
  if (cmd.output == Output::kJson) return pretty_json(result);
  std::vector<std::vector<std::string>> rows{{"NAME", "MODE", "DRIVER", "ADDRESS", "REASON"}};
  for (const Json* u : sorted_by(result, "name"))
    rows.push_back({cell(*u, "name"), cell(*u, "mode"), cell(*u, "driver"), cell(*u, "address"),
                    cell(*u, "reason")});
  return docker_table(rows);
}

constexpr const char* kLsNotes =
    "MODE is xdp (native XDP in front of tc) or tc (tc only), as bpfnetd chose it\n"
    "for the interface's driver (--uplink NAME:auto, the default), or as forced by\n"
    "--uplink NAME:xdp|tc or --no-xdp; none while the interface or its address is\n"
    "missing. With -o json, prints the daemon's result.\n";

}  // namespace

std::vector<VerbRow> uplink_verbs() {
  return {
      VerbRow{.name = "uplink",
              .help = {"Show the uplinks", "Show the host interfaces facing clients (uplinks)"}},
      VerbRow{
          .name = "uplink ls",
          .alias = "list",
          .help = {"List uplinks and their hooks",
                   "List the uplinks, the hook each one got and why.", kLsNotes},
          .call = {"uplink.ls", build_request_without_args, render_ls},
      },
  };
}

}  // namespace bpfnet::ctl
