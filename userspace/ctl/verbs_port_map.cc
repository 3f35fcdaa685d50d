// `bpfnetctl port-map ...`: Docker's -p, added to and removed from running
// containers, printed as `docker port` prints them.
#include "ctl/flags.h"
#include "ctl/published_ports.h"
#include "ctl/render.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

void build_add(const VerbArgs& given, Command& cmd) {
  const std::vector<std::string>& args = given.positional();
  Request req = given.request(args[0]);
  req.args["container"] = args[0];
  req.args["specs"] = Json(std::vector<std::string>(args.begin() + 1, args.end()));
  if (auto v = given.string("network")) req.args["network"] = *v;
  cmd.requests.push_back(std::move(req));
}

void build_ls(const VerbArgs& given, Command& cmd) {
  Request req = given.request("");
  if (!given.positional().empty()) {
    req.target = given.arg(0);
    req.args["container"] = given.arg(0);
  }
  cmd.requests.push_back(std::move(req));
}

void build_rm(const VerbArgs& given, Command& cmd) {
  Request req = given.request(given.arg(0));
  req.args["container"] = given.arg(0);
  req.args["spec"] = given.arg(1);
  cmd.requests.push_back(std::move(req));
}

// The "bindings" array of a {"container", "bindings"} object, or BadResult.
const Json& bindings_of(const Json& item) {
  if (!item.is_object() || !item.contains("bindings")) {
    throw BadResult("expected {\"container\", \"bindings\"}, got: " + item.dump());
  }
  return item["bindings"];
}

// "80/tcp -> 0.0.0.0:8080\n" lines, each after `indent`.
std::string lines_of(const Json& item, std::string_view indent) {
  std::string out;
  for (const std::string& line : binding_lines(bindings_of(item))) {
    out += std::string(indent) + line + "\n";
  }
  return out;
}

std::string render_add(const Command& cmd, const Json& result) {
  if (cmd.output == Output::kJson) return pretty_json(result);
  return lines_of(result, "");
}

std::string render_ls(const Command& cmd, const Json& result) {
  expect_array(result, "containers with their bindings");
  if (cmd.output == Output::kJson) return pretty_json(result);
  const bool one_container = !cmd.requests.empty() && cmd.requests[0].args.contains("container");
  if (one_container) {
    // `docker port CONTAINER`: just the lines.
    std::string out;
    for (const Json& item : result) out += lines_of(item, "");
    return out;
  }
  for (const Json& item : result) {
    if (!item.contains("container") || !item["container"].is_string()) {
      throw BadResult("expected {\"container\", \"bindings\"}, got: " + item.dump());
    }
  }
  std::string out;
  for (const Json* item : sorted_by(result, "container")) {
    const std::string lines = lines_of(*item, "  ");
    if (lines.empty()) continue;  // only containers that have bindings
    if (!out.empty()) out += "\n";
    out += cell(*item, "container") + "\n" + lines;
  }
  return out;
}

}  // namespace

std::vector<VerbRow> port_map_verbs() {
  return {
      VerbRow{.name = "port-map",
              .help = {"Manage the published ports of containers",
                       "Manage the published ports of containers (Docker's -p)"}},
      VerbRow{
          .name = "port-map add",
          .help =
              {"Publish ports of a container",
               "Publish ports of a container and print the bindings added.",
               "SPEC is Docker's -p syntax, [HOSTIP:][HOSTPORT:]CONTAINERPORT[/PROTO], e.g. "
               "8080:80,\n"
               "127.0.0.1:8443:443, 5353:53/udp, 8000-8010:80-90, or 80 for a host port chosen\n"
               "by the daemon. PROTO is tcp (default) or udp (sctp is refused: bpfnet does not "
               "translate it). The daemon checks the "
               "SPECs.\n"
               "The bindings added are printed as `docker port` prints them:\n"
               "  80/tcp -> 0.0.0.0:8080\n"
               "With -o json, prints the daemon's result.\n"},
          .args = {{"CONTAINER", "SPEC"}, Arity::kVariadic},
          .flags = {{"--network NETWORK",
                     "Forward to the container's address on this network (name\n"
                     "or ID; default: the container's first network)"}},
          .call = {"port.add", build_add, render_add},
      },
      VerbRow{
          .name = "port-map ls",
          .alias = "list",
          .help =
              {"List published ports",
               "List the published ports of a container, or of every container.",
               "With CONTAINER, prints one line per binding, as `docker port CONTAINER` does:\n"
               "  80/tcp -> 0.0.0.0:8080\n"
               "Without, prints one block per container that has bindings, sorted by name: the\n"
               "container's name on a line of its own, then its bindings indented by two "
               "spaces;\n"
               "blocks are separated by an empty line. With -o json, prints the daemon's "
               "result.\n"},
          .args = {{"CONTAINER"}, Arity::kOptional},
          .call = {"port.ls", build_ls, render_ls},
      },
      VerbRow{
          .name = "port-map rm",
          .alias = "remove",
          .help = {"Remove a published port", "Remove a published port of a container.",
                   "PROTO is tcp (default), udp or sctp. Prints nothing on success; with -o json,\n"
                   "prints the daemon's result (the removed bindings).\n"},
          .args = {{"CONTAINER", "[HOSTIP:]HOSTPORT[/PROTO]"}},
          .call = {"port.rm", build_rm, render_nothing_or_json},
      },
  };
}

}  // namespace bpfnet::ctl
