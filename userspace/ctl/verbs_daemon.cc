// The verbs about the daemon itself, outside any group: stats and version.
#include <fmt/format.h>

#include <algorithm>

#include "ctl/flags.h"
#include "ctl/render.h"
#include "ctl/tabwriter.h"
#include "ctl/verb_table.h"

#ifndef BPFNET_VERSION
#define BPFNET_VERSION "unknown"
#endif

namespace bpfnet::ctl {
namespace {

// The endpoints' table: by container, then network.
std::string endpoints_table(const Json& endpoints) {
  std::vector<const Json*> eps;
  for (const Json& e : endpoints) eps.push_back(&e);
  std::stable_sort(eps.begin(), eps.end(), [](const Json* a, const Json* b) {
    const std::string ca = cell(*a, "container");
    const std::string cb = cell(*b, "container");
    if (ca != cb) return natural_less(ca, cb);
    return natural_less(cell(*a, "network"), cell(*b, "network"));
  });
  std::vector<std::vector<std::string>> rows{{"CONTAINER", "NETWORK", "INTERFACE", "IP",
                                              "RX PACKETS", "RX BYTES", "TX PACKETS", "TX BYTES",
                                              "DROPS"}};
  for (const Json* e : eps) {
    rows.push_back({cell(*e, "container"), cell(*e, "network"), cell(*e, "ifname"), cell(*e, "ip"),
                    cell(*e, "rx_packets"), cell(*e, "rx_bytes"), cell(*e, "tx_packets"),
                    cell(*e, "tx_bytes"), cell(*e, "drops")});
  }
  return docker_table(rows);
}

// The drop reasons seen so far, most packets first.
std::string drops_table(const Json& drops) {
  auto count = [](const Json& d, const char* key) -> unsigned long long {
    const auto it = d.find(key);
    if (it == d.end() || !it->is_number_unsigned()) return 0;
    return it->get<unsigned long long>();
  };
  std::vector<const Json*> seen;
  for (const Json& d : drops) {
    if (count(d, "packets") != 0 || count(d, "bytes") != 0) seen.push_back(&d);
  }
  std::stable_sort(seen.begin(), seen.end(), [&](const Json* a, const Json* b) {
    if (count(*a, "packets") != count(*b, "packets")) {
      return count(*a, "packets") > count(*b, "packets");
    }
    return cell(*a, "reason") < cell(*b, "reason");
  });
  std::vector<std::vector<std::string>> rows{{"DROP REASON", "PACKETS", "BYTES"}};
  for (const Json* d : seen)
    rows.push_back({cell(*d, "reason"), cell(*d, "packets"), cell(*d, "bytes")});
  return docker_table(rows);
}

std::string render_stats(const Command& cmd, const Json& result) {
  if (!result.is_object()) throw BadResult("expected a stats object, got: " + result.dump());
  if (cmd.output == Output::kJson) return pretty_json(result);
  const Json empty = Json::array();
  const Json& endpoints =
      expect_array(result.contains("endpoints") ? result["endpoints"] : empty, "endpoints");
  const Json& drops = expect_array(result.contains("drops") ? result["drops"] : empty, "drops");
  std::string out = endpoints_table(endpoints) + "\n" + drops_table(drops);
  if (result.contains("masquerade") && result["masquerade"].is_object()) {
    const Json& m = result["masquerade"];
    out += fmt::format(
        "\nMasquerade ports: {}-{} ({} ports), new flows refused for want of one: {}\n",
        cell(m, "port_min"), cell(m, "port_max"), cell(m, "ports"), cell(m, "no_port_drops"));
  }
  if (result.contains("conntrack") && result["conntrack"].is_object()) {
    const Json& c = result["conntrack"];
    const Json& p = c.contains("pressure") ? c["pressure"] : empty;
    out += fmt::format("Conntrack: {} of {} entries ({:.1f}% full), new flows refused: {}\n",
                       cell(c, "entries"), cell(c, "capacity"),
                       p.is_number() ? 100 * p.get<double>() : 0.0, cell(c, "full_drops"));
  }
  return out;
}

std::string render_version(const Command& cmd, const Json& result) {
  if (!result.is_object()) throw BadResult("expected a ping object, got: " + result.dump());
  if (cmd.output == Output::kJson) {
    Json j = Json::object();
    j["Client"] = Json::object();
    j["Client"]["Version"] = client_version();
    j["Server"] = Json::object();
    j["Server"]["Version"] = cell(result, "version");
    return pretty_json(j);
  }
  return render_client_version() +
         fmt::format("\nServer:\n Version:  {}\n", cell(result, "version"));
}

// Like `docker version`, show what is known about the client anyway.
std::string render_version_without_daemon(const Command& cmd) {
  return cmd.output == Output::kTable ? render_client_version() : "";
}

std::string render_doctor(const Command& cmd, const Json& result) {
  if (!result.is_object() || !result.contains("problems"))
    throw BadResult("expected a doctor object, got: " + result.dump());
  if (cmd.output == Output::kJson) return pretty_json(result);
  const Json& problems = result["problems"];
  if (!problems.is_array())
    throw BadResult("expected an array of problems, got: " + problems.dump());
  if (problems.empty()) return "OK: the state, the interfaces and the maps agree\n";
  std::string out;
  for (const Json& p : problems)
    out += "DRIFT: " + (p.is_string() ? p.get<std::string>() : p.dump()) + "\n";
  return out;
}

int doctor_status(const Json& result) { return result.value("ok", false) ? 0 : 1; }

constexpr const char* kDoctorNotes =
    "Checks, changing nothing: the state file's rules (every address given once, names\n"
    "unique, limits), that every network and container has its interface with the\n"
    "programs attached, that no interface bpfnet made is left over, and that every map\n"
    "entry and Maglev table is what the state asks for. Prints OK, or one DRIFT line per\n"
    "problem and exits 1. With -o json, prints {\"ok\", \"problems\"}.\n";

}  // namespace

std::string_view client_version() { return BPFNET_VERSION; }

std::string render_client_version() {
  return fmt::format("Client:\n Version:  {}\n", client_version());
}

std::vector<VerbRow> daemon_verbs() {
  return {
      VerbRow{
          .name = "version",
          .help = {"Show the client and daemon versions", "Show the client and daemon versions."},
          .call = {"ping", build_request_without_args, render_version},
          .without_daemon = render_version_without_daemon,
      },
      VerbRow{
          .name = "doctor",
          .help = {"Check that the state, interfaces and maps agree",
                   "Check that the state, the interfaces and the maps agree.", kDoctorNotes},
          .call = {"doctor", build_request_without_args, render_doctor, doctor_status},
      },
      VerbRow{
          .name = "stats",
          .help =
              {"Show traffic and drop counters",
               "Show traffic counters per endpoint and drop counters per reason.",
               "RX is what the container received, TX what it sent; INTERFACE is the "
               "container's\n"
               "interface (-o json also shows the host-side veth). The second table lists only\n"
               "the drop reasons seen so far, most packets first; it is empty (header only)\n"
               "when nothing was dropped. With -o json, prints the daemon's counters as they "
               "are.\n"},
          .call = {"stats", build_request_without_args, render_stats},
      },
  };
}

}  // namespace bpfnet::ctl
