#include "ctl/command.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>

#include "core/numbers.h"

namespace bpfnet::ctl {
namespace {

namespace po = boost::program_options;
using core::is_prime;
using core::parse_decimal;

// Docker's flags are never abbreviated, so neither are ours.
constexpr int kStyle =
    po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

// The (registered but undocumented) option that collects positional arguments.
constexpr const char* kPositional = "@positional";

constexpr std::string_view kCommonOptionsHelp =
    "      --socket PATH      Daemon socket (default \"/run/bpfnet/bpfnetd.sock\")\n"
    "  -h, --help             Print this help\n";

constexpr std::string_view kOutputOptionsHelp =
    "  -o, --output FORMAT    Output format: \"table\" (default) or \"json\"\n"
    "      --format FORMAT    Same as --output\n";

struct VerbSpec {
  std::string_view name;     // "network create": prefix of every error message
  std::string_view usage;    // after "bpfnetctl "
  std::string_view summary;  // one sentence
  std::string_view options;  // verb-specific option lines
  std::string_view notes;    // optional trailing paragraph
};

constexpr VerbSpec kCreate{
    "network create", "network create [OPTIONS] NETWORK", "Create a network and print its full ID.",
    "  -d, --driver string    Driver to manage the network (default \"bridge\", the only one)\n"
    "      --gateway IP       IPv4 gateway of the subnet (default: first address of the subnet)\n"
    "      --internal         Restrict external access to the network\n"
    "      --ip-range CIDR    Allocate container IPs from this sub-range of the subnet\n"
    "  -o, --opt KEY=VALUE    Set a driver option (repeatable), e.g.\n"
    "                         -o com.docker.network.bridge.name=br0\n"
    "      --subnet CIDR      Subnet in CIDR format (default: the next free default pool)\n"
    "      --output FORMAT    Output format: \"table\" (default: print the ID) or \"json\"\n"
    "                         (print the network as `network inspect` does)\n"
    "      --format FORMAT    Same as --output\n",
    "Note: here, as in `docker network create`, -o is short for --opt, not for --output.\n"
    "For JSON output use --format json (or --output json), or give -o json before the\n"
    "command: bpfnetctl -o json network create NETWORK\n"};

constexpr VerbSpec kLs{"network ls", "network ls [OPTIONS]", "List networks, sorted by name.",
                       "  -q, --quiet            Only display network IDs\n"
                       "      --no-trunc         Do not truncate the network IDs\n",
                       "With -o json, prints the networks as `network inspect` does.\n"};

constexpr VerbSpec kInspect{
    "network inspect", "network inspect [OPTIONS] NETWORK [NETWORK...]",
    "Display detailed information on one or more networks, as a JSON array.", "",
    "NETWORK is a name, a full ID or a unique ID prefix. The output is JSON whatever\n"
    "the output format.\n"};

constexpr VerbSpec kRm{
    "network rm", "network rm [OPTIONS] NETWORK [NETWORK...]",
    "Remove one or more networks, printing each name as it is removed.", "",
    "With -o json, prints [{\"name\": NETWORK, \"id\": FULL_ID}, ...] for the removed networks.\n"};

constexpr VerbSpec kConnect{
    "network connect", "network connect [OPTIONS] NETWORK CONTAINER",
    "Connect a container (a network namespace) to a network.",
    "      --netns PATH|NAME  The container's network namespace: a path, or a name\n"
    "                         under /var/run/netns (required)\n"
    "      --ip IP            IPv4 address (default: the next free address)\n"
    "      --mac MAC          MAC address (default: a random locally administered one)\n",
    "Prints nothing on success; with -o json, prints the new endpoint.\n"};

constexpr VerbSpec kDisconnect{
    "network disconnect", "network disconnect [OPTIONS] NETWORK CONTAINER",
    "Disconnect a container from a network.", "", "Prints nothing on success.\n"};

constexpr VerbSpec kStats{
    "stats", "stats [OPTIONS]", "Show traffic counters per endpoint and drop counters per reason.",
    "",
    "RX is what the container received, TX what it sent; INTERFACE is the container's\n"
    "interface (-o json also shows the host-side veth). The second table lists only\n"
    "the drop reasons seen so far, most packets first; it is empty (header only)\n"
    "when nothing was dropped. With -o json, prints the daemon's counters as they are.\n"};

constexpr VerbSpec kVersion{"version", "version [OPTIONS]", "Show the client and daemon versions.",
                            "", ""};

constexpr VerbSpec kPortAdd{
    "port-map add", "port-map add [OPTIONS] CONTAINER SPEC [SPEC...]",
    "Publish ports of a container and print the bindings added.",
    "      --network NETWORK  Forward to the container's address on this network (name\n"
    "                         or ID; default: the container's first network)\n",
    "SPEC is Docker's -p syntax, [HOSTIP:][HOSTPORT:]CONTAINERPORT[/PROTO], e.g. 8080:80,\n"
    "127.0.0.1:8443:443, 5353:53/udp, 8000-8010:80-90, or 80 for a host port chosen\n"
    "by the daemon. PROTO is tcp (default), udp or sctp. The daemon checks the SPECs.\n"
    "The bindings added are printed as `docker port` prints them:\n"
    "  80/tcp -> 0.0.0.0:8080\n"
    "With -o json, prints the daemon's result.\n"};

constexpr VerbSpec kPortLs{
    "port-map ls", "port-map ls [OPTIONS] [CONTAINER]",
    "List the published ports of a container, or of every container.", "",
    "With CONTAINER, prints one line per binding, as `docker port CONTAINER` does:\n"
    "  80/tcp -> 0.0.0.0:8080\n"
    "Without, prints one block per container that has bindings, sorted by name: the\n"
    "container's name on a line of its own, then its bindings indented by two spaces;\n"
    "blocks are separated by an empty line. With -o json, prints the daemon's result.\n"};

constexpr VerbSpec kPortRm{
    "port-map rm", "port-map rm [OPTIONS] CONTAINER [HOSTIP:]HOSTPORT[/PROTO]",
    "Remove a published port of a container.", "",
    "PROTO is tcp (default), udp or sctp. Prints nothing on success; with -o json,\n"
    "prints the daemon's result (the removed bindings).\n"};

constexpr VerbSpec kServiceCreate{
    "service create", "service create [OPTIONS] SERVICE",
    "Create a load-balanced service and print its ID.",
    "      --network NETWORK  Network of the virtual IP and of the backends (required)\n"
    "      --vip IP           Virtual IP (default: the next free address of the network)\n"
    "      --port PORT[/PROTO]\n"
    "                         Port of the service, e.g. 80/tcp (required, repeatable);\n"
    "                         PROTO is tcp (default), udp or sctp\n"
    "  -p, --publish SPEC     Publish a port of the service on the host (repeatable), in\n"
    "                         Docker's -p syntax: [HOSTIP:]HOSTPORT:PORT[/PROTO], e.g.\n"
    "                         8080:80/tcp\n"
    "      --affinity MODE    \"client-ip\" sends a client to the same backend for 10800\n"
    "                         seconds, \"client-ip:SECONDS\" for SECONDS; \"none\" (default)\n"
    "      --table-size N     Size of the Maglev lookup table, a prime (default 16381)\n"
    "      --health TYPE      Check the backends: \"tcp\" (connect) or \"http\" (GET)\n"
    "      --health-path PATH\n"
    "                         HTTP path to get (default \"/\"; with --health http)\n"
    "      --health-expect CODE\n"
    "                         HTTP status expected (default 200; with --health http)\n"
    "      --health-interval DURATION\n"
    "                         Time between two checks of a backend (default 2s)\n"
    "      --health-timeout DURATION\n"
    "                         Time a check may take (default 1s)\n"
    "      --health-rise N    Successes in a row that make a backend healthy (default 2)\n"
    "      --health-fall N    Failures in a row that make a backend unhealthy (default 3)\n",
    "DURATION is a number of milliseconds, or a number followed by ms, s or m: 500ms,\n"
    "2s, 1m. The --health-* flags need --health. With -o json, prints the service as\n"
    "`service inspect` does.\n"};

constexpr VerbSpec kServiceAddBackend{
    "service add-backend", "service add-backend [OPTIONS] SERVICE CONTAINER",
    "Add a container as a backend of a service.",
    "      --weight N         Share of the new flows, relative to the other backends\n"
    "                         (default 1)\n",
    "Prints nothing on success; with -o json, prints the service as `service inspect`\n"
    "does.\n"};

constexpr VerbSpec kServiceRmBackend{
    "service rm-backend", "service rm-backend [OPTIONS] SERVICE CONTAINER",
    "Remove a backend from a service.", "",
    "Prints nothing on success; with -o json, prints the service as `service inspect`\n"
    "does.\n"};

constexpr VerbSpec kServiceDrain{
    "service drain", "service drain [OPTIONS] SERVICE CONTAINER",
    "Send no new flows to a backend; the flows it has go on.", "",
    "Prints nothing on success; with -o json, prints the service as `service inspect`\n"
    "does.\n"};

constexpr VerbSpec kServiceLs{
    "service ls", "service ls [OPTIONS]", "List services, sorted by name.", "",
    "BACKENDS is the number of backends, then the number of healthy ones in\n"
    "parentheses. PUBLISHED shows the published ports as `docker ps` does, e.g.\n"
    "0.0.0.0:8080->80/tcp. With -o json, prints the services as `service inspect` does.\n"};

constexpr VerbSpec kServiceInspect{
    "service inspect", "service inspect [OPTIONS] SERVICE [SERVICE...]",
    "Display detailed information on one or more services, as a JSON array.", "",
    "The output is JSON whatever the output format.\n"};

constexpr VerbSpec kServiceRm{
    "service rm", "service rm [OPTIONS] SERVICE [SERVICE...]",
    "Remove one or more services, printing each name as it is removed.", "",
    "With -o json, prints [{\"name\": SERVICE, \"id\": ID}, ...] for the removed services.\n"};

// The names of port-map rm's positional arguments (also used in its errors).
const std::vector<std::string> kPortRmArgs{"CONTAINER", "[HOSTIP:]HOSTPORT[/PROTO]"};

std::string verb_help(const VerbSpec& spec, bool output_flags) {
  std::string text =
      fmt::format("Usage:  bpfnetctl {}\n\n{}\n\nOptions:\n", spec.usage, spec.summary);
  text += spec.options;
  if (output_flags) text += kOutputOptionsHelp;
  text += kCommonOptionsHelp;
  if (!spec.notes.empty()) {
    text += "\n";
    text += spec.notes;
  }
  return text;
}

std::string with_context(std::string_view context, std::string_view message) {
  if (context.empty()) return std::string(message);
  return fmt::format("{}: {}", context, message);
}

UsageError usage_from(const po::error& e, std::string_view context) {
  if (const auto* u = dynamic_cast<const po::unknown_option*>(&e)) {
    return UsageError(with_context(context, "unknown flag: " + u->get_option_name()));
  }
  if (const auto* s = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
    switch (s->kind()) {
      case po::invalid_syntax::missing_parameter:
        return UsageError(with_context(context, "flag needs an argument: " + s->get_option_name()));
      case po::invalid_syntax::empty_adjacent_parameter:
        return UsageError(
            with_context(context, "flag " + s->get_option_name() + " needs a non-empty value"));
      case po::invalid_syntax::extra_parameter:
        return UsageError(
            with_context(context, "flag " + s->get_option_name() + " does not take a value"));
      default:
        break;
    }
  }
  if (const auto* m = dynamic_cast<const po::multiple_occurrences*>(&e)) {
    return UsageError(
        with_context(context, "flag " + m->get_option_name() + " given more than once"));
  }
  return UsageError(with_context(context, e.what()));
}

struct Parsed {
  po::variables_map vm;
  std::vector<std::string> positional;
};

Parsed parse_args(const std::vector<std::string>& args, const po::options_description& visible,
                  std::string_view context) {
  po::options_description all;
  all.add(visible);
  all.add_options()(kPositional, po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add(kPositional, -1);
  Parsed parsed;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).style(kStyle).run(),
              parsed.vm);
    po::notify(parsed.vm);
  } catch (const po::error& e) {
    throw usage_from(e, context);
  }
  if (parsed.vm.count(kPositional) != 0) {
    parsed.positional = parsed.vm[kPositional].as<std::vector<std::string>>();
  }
  return parsed;
}

// --socket and --help, accepted by every verb.
void add_common(po::options_description& d) {
  d.add_options()("socket", po::value<std::string>())("help,h", po::bool_switch());
}

// -o/--output and --format; network create has no -o (it means --opt there).
void add_output(po::options_description& d, bool short_o) {
  d.add_options()(short_o ? "output,o" : "output", po::value<std::string>())(
      "format", po::value<std::string>());
}

std::optional<std::string> string_flag(const po::variables_map& vm, const std::string& key,
                                       std::string_view context) {
  if (vm.count(key) == 0) return std::nullopt;
  std::string value = vm[key].as<std::string>();
  if (value.empty()) {
    throw UsageError(with_context(context, fmt::format("flag --{} needs a non-empty value", key)));
  }
  return value;
}

Output parse_output(const std::string& value, std::string_view context) {
  if (value == "table") return Output::kTable;
  if (value == "json") return Output::kJson;
  throw UsageError(with_context(
      context, fmt::format("invalid output format \"{}\": expected \"table\" or \"json\"", value)));
}

// Applies --socket, -o/--output and --format found in vm to cmd.
void apply_common(const po::variables_map& vm, Command& cmd, std::string_view context) {
  if (auto socket = string_flag(vm, "socket", context)) cmd.socket_path = *socket;
  std::optional<Output> output;
  std::optional<Output> format;
  if (vm.count("output") != 0) output = parse_output(vm["output"].as<std::string>(), context);
  if (vm.count("format") != 0) format = parse_output(vm["format"].as<std::string>(), context);
  if (output && format && *output != *format) {
    throw UsageError(with_context(context, "flags --output and --format disagree"));
  }
  if (output) cmd.output = *output;
  if (format) cmd.output = *format;
}

bool wants_help(const po::variables_map& vm) {
  return vm.count("help") != 0 && vm["help"].as<bool>();
}

Command help_command(std::string text) {
  Command cmd;
  cmd.verb = Verb::kHelp;
  cmd.help_text = std::move(text);
  return cmd;
}

// Checks the positional arguments against their names: exactly names.size(),
// or at least that many when `variadic` (the last name repeats).
void check_positional(const std::vector<std::string>& got, const std::vector<std::string>& names,
                      bool variadic, std::string_view context) {
  if (got.size() < names.size()) {
    throw UsageError(with_context(context, "missing argument " + names[got.size()]));
  }
  if (!variadic && got.size() > names.size()) {
    throw UsageError(
        with_context(context, fmt::format("unexpected argument \"{}\"", got[names.size()])));
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].empty()) {
      const std::string& name = names[std::min(i, names.size() - 1)];
      throw UsageError(with_context(context, name + " must not be empty"));
    }
  }
}

Command parse_network_create(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kCreate;
  po::options_description d;
  d.add_options()("driver,d", po::value<std::string>())("subnet", po::value<std::string>())(
      "gateway", po::value<std::string>())("ip-range", po::value<std::string>())(
      "internal", po::bool_switch())("opt,o", po::value<std::vector<std::string>>());
  add_output(d, /*short_o=*/false);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, false));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {"NETWORK"}, false, spec.name);

  Json options = Json::object();
  if (p.vm.count("opt") != 0) {
    for (const std::string& kv : p.vm["opt"].as<std::vector<std::string>>()) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        // `-o json` is the likely mistake: point at the right flag.
        const std::string_view hint = (kv == "json" || kv == "table")
                                          ? " (-o means --opt here; use --format for the output)"
                                          : "";
        throw UsageError(
            fmt::format("{}: invalid --opt \"{}\": expected KEY=VALUE{}", spec.name, kv, hint));
      }
      if (eq == 0) {
        throw UsageError(fmt::format("{}: invalid --opt \"{}\": empty KEY", spec.name, kv));
      }
      options[kv.substr(0, eq)] = kv.substr(eq + 1);  // a repeated KEY: the last one wins
    }
  }

  Request req{"network.create", Json::object(), p.positional[0]};
  req.args["name"] = p.positional[0];
  req.args["driver"] = string_flag(p.vm, "driver", spec.name).value_or("bridge");
  if (auto v = string_flag(p.vm, "subnet", spec.name)) req.args["subnet"] = *v;
  if (auto v = string_flag(p.vm, "gateway", spec.name)) req.args["gateway"] = *v;
  if (auto v = string_flag(p.vm, "ip-range", spec.name)) req.args["ip_range"] = *v;
  req.args["internal"] = p.vm["internal"].as<bool>();
  req.args["options"] = std::move(options);
  cmd.verb = Verb::kNetworkCreate;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

Command parse_network_ls(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kLs;
  po::options_description d;
  d.add_options()("quiet,q", po::bool_switch())("no-trunc", po::bool_switch());
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {}, false, spec.name);
  cmd.verb = Verb::kNetworkLs;
  cmd.quiet = p.vm["quiet"].as<bool>();
  cmd.no_trunc = p.vm["no-trunc"].as<bool>();
  cmd.requests.push_back(Request{"network.ls", Json::object(), ""});
  return cmd;
}

// inspect and rm: one request per `arg` (NETWORK, SERVICE) argument.
Command parse_each(const std::vector<std::string>& args, Command cmd, const VerbSpec& spec,
                   Verb verb, std::string_view op, const std::string& arg) {
  po::options_description d;
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {arg}, true, spec.name);
  cmd.verb = verb;
  for (const std::string& name : p.positional) {
    Request req{std::string(op), Json::object(), name};
    req.args["name"] = name;
    cmd.requests.push_back(std::move(req));
  }
  return cmd;
}

Command parse_network_connect(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kConnect;
  po::options_description d;
  d.add_options()("netns", po::value<std::string>())("ip", po::value<std::string>())(
      "mac", po::value<std::string>());
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {"NETWORK", "CONTAINER"}, false, spec.name);
  auto netns = string_flag(p.vm, "netns", spec.name);
  if (!netns) throw UsageError(with_context(spec.name, "missing required flag --netns"));

  Request req{"network.connect", Json::object(), p.positional[1]};
  req.args["network"] = p.positional[0];
  req.args["container"] = p.positional[1];
  req.args["netns"] = *netns;
  if (auto v = string_flag(p.vm, "ip", spec.name)) req.args["ip"] = *v;
  if (auto v = string_flag(p.vm, "mac", spec.name)) req.args["mac"] = *v;
  cmd.verb = Verb::kNetworkConnect;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

Command parse_network_disconnect(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kDisconnect;
  po::options_description d;
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {"NETWORK", "CONTAINER"}, false, spec.name);
  Request req{"network.disconnect", Json::object(), p.positional[1]};
  req.args["network"] = p.positional[0];
  req.args["container"] = p.positional[1];
  cmd.verb = Verb::kNetworkDisconnect;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

// stats and version: no arguments, one request.
Command parse_simple(const std::vector<std::string>& args, Command cmd, const VerbSpec& spec,
                     Verb verb, std::string_view op) {
  po::options_description d;
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {}, false, spec.name);
  cmd.verb = verb;
  cmd.requests.push_back(Request{std::string(op), Json::object(), ""});
  return cmd;
}

Command parse_port_add(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kPortAdd;
  po::options_description d;
  d.add_options()("network", po::value<std::string>());
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {"CONTAINER", "SPEC"}, true, spec.name);

  Request req{"port.add", Json::object(), p.positional[0]};
  req.args["container"] = p.positional[0];
  req.args["specs"] = Json(std::vector<std::string>(p.positional.begin() + 1, p.positional.end()));
  if (auto v = string_flag(p.vm, "network", spec.name)) req.args["network"] = *v;
  cmd.verb = Verb::kPortAdd;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

Command parse_port_ls(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kPortLs;
  po::options_description d;
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  // CONTAINER is optional: check it only when given.
  check_positional(
      p.positional,
      p.positional.empty() ? std::vector<std::string>{} : std::vector<std::string>{"CONTAINER"},
      false, spec.name);
  Request req{"port.ls", Json::object(), ""};
  if (!p.positional.empty()) {
    req.target = p.positional[0];
    req.args["container"] = p.positional[0];
  }
  cmd.verb = Verb::kPortLs;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

Command parse_port_rm(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kPortRm;
  po::options_description d;
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, kPortRmArgs, false, spec.name);
  Request req{"port.rm", Json::object(), p.positional[0]};
  req.args["container"] = p.positional[0];
  req.args["spec"] = p.positional[1];
  cmd.verb = Verb::kPortRm;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

Command parse_port_map(const std::vector<std::string>& args, Command cmd) {
  if (args.empty()) {
    throw UsageError("port-map: missing command (add, ls, rm; see 'bpfnetctl port-map --help')");
  }
  const std::string& sub = args[0];
  if (sub == "-h" || sub == "--help") return help_command(port_map_help());
  if (sub.size() > 1 && sub[0] == '-') throw UsageError("port-map: unknown flag: " + sub);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "add") return parse_port_add(rest, std::move(cmd));
  if (sub == "ls" || sub == "list") return parse_port_ls(rest, std::move(cmd));
  if (sub == "rm" || sub == "remove") return parse_port_rm(rest, std::move(cmd));
  throw UsageError(
      fmt::format("port-map: unknown command \"{}\" (see 'bpfnetctl port-map --help')", sub));
}

Command parse_network(const std::vector<std::string>& args, Command cmd) {
  if (args.empty()) {
    throw UsageError(
        "network: missing command (connect, create, disconnect, inspect, ls, rm; "
        "see 'bpfnetctl network --help')");
  }
  const std::string& sub = args[0];
  if (sub == "-h" || sub == "--help") return help_command(network_help());
  if (sub.size() > 1 && sub[0] == '-') throw UsageError("network: unknown flag: " + sub);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "create") return parse_network_create(rest, std::move(cmd));
  if (sub == "ls" || sub == "list") return parse_network_ls(rest, std::move(cmd));
  if (sub == "inspect") {
    return parse_each(rest, std::move(cmd), kInspect, Verb::kNetworkInspect, "network.inspect",
                      "NETWORK");
  }
  if (sub == "rm" || sub == "remove") {
    return parse_each(rest, std::move(cmd), kRm, Verb::kNetworkRm, "network.rm", "NETWORK");
  }
  if (sub == "connect") return parse_network_connect(rest, std::move(cmd));
  if (sub == "disconnect") return parse_network_disconnect(rest, std::move(cmd));
  throw UsageError(
      fmt::format("network: unknown command \"{}\" (see 'bpfnetctl network --help')", sub));
}

// --- service ------------------------------------------------------------------

// Limit of the numbers the service flags take (counts, seconds, milliseconds).
constexpr uint64_t kMaxNumber = INT32_MAX;

UsageError invalid_value(std::string_view context, std::string_view flag, std::string_view value,
                         std::string_view expected) {
  return UsageError(
      with_context(context, fmt::format("invalid --{} \"{}\": {}", flag, value, expected)));
}

// The values of a repeatable flag, none of them empty.
std::vector<std::string> list_flag(const po::variables_map& vm, const std::string& key,
                                   std::string_view context) {
  if (vm.count(key) == 0) return {};
  std::vector<std::string> values = vm[key].as<std::vector<std::string>>();
  for (const std::string& v : values) {
    if (v.empty()) {
      throw UsageError(
          with_context(context, fmt::format("flag --{} needs a non-empty value", key)));
    }
  }
  return values;
}

// A flag whose value is a positive integer.
std::optional<uint64_t> count_flag(const po::variables_map& vm, const std::string& key,
                                   std::string_view context) {
  const auto value = string_flag(vm, key, context);
  if (!value) return std::nullopt;
  const auto n = parse_decimal(*value, kMaxNumber);
  if (!n || *n == 0) throw invalid_value(context, key, *value, "expected a positive integer");
  return n;
}

// A flag whose value is a DURATION: milliseconds, or a number followed by
// ms, s or m. Returns milliseconds.
std::optional<uint64_t> duration_flag(const po::variables_map& vm, const std::string& key,
                                      std::string_view context) {
  const auto value = string_flag(vm, key, context);
  if (!value) return std::nullopt;
  std::string_view number = *value;
  uint64_t unit_ms = 1;
  if (number.ends_with("ms")) {
    number.remove_suffix(2);
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
    unit_ms = 1000;
  } else if (number.ends_with("m")) {
    number.remove_suffix(1);
    unit_ms = 60'000;
  }
  const auto n = parse_decimal(number, kMaxNumber);
  if (!n || *n == 0) {
    throw invalid_value(
        context, key, *value,
        "expected a positive duration such as \"2s\", \"500ms\" or a number of milliseconds");
  }
  if (*n * unit_ms > kMaxNumber) {
    throw invalid_value(context, key, *value, fmt::format("at most {}ms", kMaxNumber));
  }
  return *n * unit_ms;
}

// --port PORT[/PROTO] -> "PORT/PROTO".
std::string service_port(const std::string& spec, std::string_view context) {
  const std::string_view text = spec;
  const size_t slash = text.find('/');
  const std::string_view proto = slash == std::string_view::npos ? "tcp" : text.substr(slash + 1);
  const auto port = parse_decimal(text.substr(0, slash), 65535);
  if (!port || *port == 0) {
    throw invalid_value(context, "port", spec,
                        "expected PORT[/PROTO] with PORT from 1 to 65535, e.g. 80/tcp");
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") {
    throw invalid_value(context, "port", spec, "PROTO must be tcp, udp or sctp");
  }
  return fmt::format("{}/{}", *port, proto);
}

// --affinity: "client-ip" or "client-ip:SECONDS"; nullopt for none.
std::optional<std::string> affinity_flag(const po::variables_map& vm, std::string_view context) {
  const auto value = string_flag(vm, "affinity", context);
  if (!value || *value == "none") return std::nullopt;
  constexpr std::string_view kClientIp = "client-ip";
  if (*value == kClientIp) return *value;
  if (value->starts_with("client-ip:")) {
    const auto seconds =
        parse_decimal(std::string_view(*value).substr(kClientIp.size() + 1), kMaxNumber);
    if (seconds && *seconds > 0) return fmt::format("{}:{}", kClientIp, *seconds);
  }
  throw invalid_value(context, "affinity", *value,
                      "expected \"none\", \"client-ip\" or \"client-ip:SECONDS\" with SECONDS a "
                      "positive integer");
}

// --health and the --health-* flags -> the "health" object, every field set
// (the defaults are the ones of the protocol).
std::optional<Json> health_flags(const po::variables_map& vm, std::string_view context) {
  static const std::vector<std::string> kHttpOnly{"health-path", "health-expect"};
  static const std::vector<std::string> kAny{"health-interval", "health-timeout", "health-rise",
                                             "health-fall"};
  const auto type = string_flag(vm, "health", context);
  if (!type) {
    for (const auto* keys : {&kHttpOnly, &kAny}) {
      for (const std::string& key : *keys) {
        if (vm.count(key) != 0) {
          throw UsageError(with_context(context, fmt::format("flag --{} needs --health", key)));
        }
      }
    }
    return std::nullopt;
  }
  if (*type != "tcp" && *type != "http") {
    throw invalid_value(context, "health", *type, "expected \"tcp\" or \"http\"");
  }
  Json health = Json::object();
  health["type"] = *type;
  if (*type == "http") {
    const std::string path = string_flag(vm, "health-path", context).value_or("/");
    if (path[0] != '/') {
      throw invalid_value(context, "health-path", path, "expected a path starting with \"/\"");
    }
    health["path"] = path;
    uint64_t expect = 200;
    if (const auto value = string_flag(vm, "health-expect", context)) {
      const auto code = parse_decimal(*value, 599);
      if (!code || *code < 100) {
        throw invalid_value(context, "health-expect", *value,
                            "expected an HTTP status code from 100 to 599");
      }
      expect = *code;
    }
    health["expect"] = expect;
  } else {
    for (const std::string& key : kHttpOnly) {
      if (vm.count(key) != 0) {
        throw UsageError(with_context(context, fmt::format("flag --{} needs --health http", key)));
      }
    }
  }
  health["interval_ms"] = duration_flag(vm, "health-interval", context).value_or(2000);
  health["timeout_ms"] = duration_flag(vm, "health-timeout", context).value_or(1000);
  health["rise"] = count_flag(vm, "health-rise", context).value_or(2);
  health["fall"] = count_flag(vm, "health-fall", context).value_or(3);
  return health;
}

Command parse_service_create(const std::vector<std::string>& args, Command cmd) {
  const VerbSpec& spec = kServiceCreate;
  po::options_description d;
  d.add_options()("network", po::value<std::string>())("vip", po::value<std::string>())(
      "port", po::value<std::vector<std::string>>())(
      "publish,p", po::value<std::vector<std::string>>())("affinity", po::value<std::string>())(
      "table-size", po::value<std::string>())("health", po::value<std::string>())(
      "health-path", po::value<std::string>())("health-expect", po::value<std::string>())(
      "health-interval", po::value<std::string>())("health-timeout", po::value<std::string>())(
      "health-rise", po::value<std::string>())("health-fall", po::value<std::string>());
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {"SERVICE"}, false, spec.name);
  const auto network = string_flag(p.vm, "network", spec.name);
  if (!network) throw UsageError(with_context(spec.name, "missing required flag --network"));
  const std::vector<std::string> port_flags = list_flag(p.vm, "port", spec.name);
  if (port_flags.empty()) throw UsageError(with_context(spec.name, "missing required flag --port"));

  std::vector<std::string> ports;
  for (const std::string& flag : port_flags) {
    std::string port = service_port(flag, spec.name);
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
      throw UsageError(
          with_context(spec.name, fmt::format("flag --port gives {} more than once", port)));
    }
    ports.push_back(std::move(port));
  }
  // The -p grammar is the daemon's (as for port-map add).
  const std::vector<std::string> publish = list_flag(p.vm, "publish", spec.name);
  std::optional<uint64_t> table_size;
  if (const auto value = string_flag(p.vm, "table-size", spec.name)) {
    table_size = parse_decimal(*value, kMaxNumber);
    if (!table_size || !is_prime(*table_size)) {
      throw invalid_value(spec.name, "table-size", *value, "expected a prime number, e.g. 16381");
    }
  }
  const auto affinity = affinity_flag(p.vm, spec.name);
  const auto health = health_flags(p.vm, spec.name);

  Request req{"service.create", Json::object(), p.positional[0]};
  req.args["name"] = p.positional[0];
  req.args["network"] = *network;
  if (auto v = string_flag(p.vm, "vip", spec.name)) req.args["vip"] = *v;
  req.args["ports"] = Json(ports);
  if (!publish.empty()) req.args["publish"] = Json(publish);
  if (affinity) req.args["affinity"] = *affinity;
  if (table_size) req.args["table_size"] = *table_size;
  if (health) req.args["health"] = *health;
  cmd.verb = Verb::kServiceCreate;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

// add-backend, rm-backend and drain: SERVICE CONTAINER, one request.
Command parse_service_backend(const std::vector<std::string>& args, Command cmd,
                              const VerbSpec& spec, Verb verb, std::string_view op) {
  const bool weighted = verb == Verb::kServiceAddBackend;
  po::options_description d;
  if (weighted) d.add_options()("weight", po::value<std::string>());
  add_output(d, true);
  add_common(d);
  Parsed p = parse_args(args, d, spec.name);
  if (wants_help(p.vm)) return help_command(verb_help(spec, true));
  apply_common(p.vm, cmd, spec.name);
  check_positional(p.positional, {"SERVICE", "CONTAINER"}, false, spec.name);
  Request req{std::string(op), Json::object(), p.positional[0]};
  req.args["name"] = p.positional[0];
  req.args["container"] = p.positional[1];
  if (weighted) {
    if (auto weight = count_flag(p.vm, "weight", spec.name)) req.args["weight"] = *weight;
  }
  cmd.verb = verb;
  cmd.requests.push_back(std::move(req));
  return cmd;
}

Command parse_service(const std::vector<std::string>& args, Command cmd) {
  if (args.empty()) {
    throw UsageError(
        "service: missing command (add-backend, create, drain, inspect, ls, rm, rm-backend; "
        "see 'bpfnetctl service --help')");
  }
  const std::string& sub = args[0];
  if (sub == "-h" || sub == "--help") return help_command(service_help());
  if (sub.size() > 1 && sub[0] == '-') throw UsageError("service: unknown flag: " + sub);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "create") return parse_service_create(rest, std::move(cmd));
  if (sub == "add-backend") {
    return parse_service_backend(rest, std::move(cmd), kServiceAddBackend, Verb::kServiceAddBackend,
                                 "service.add-backend");
  }
  if (sub == "rm-backend") {
    return parse_service_backend(rest, std::move(cmd), kServiceRmBackend, Verb::kServiceRmBackend,
                                 "service.rm-backend");
  }
  if (sub == "drain") {
    return parse_service_backend(rest, std::move(cmd), kServiceDrain, Verb::kServiceDrain,
                                 "service.drain");
  }
  if (sub == "ls" || sub == "list") {
    return parse_simple(rest, std::move(cmd), kServiceLs, Verb::kServiceLs, "service.ls");
  }
  if (sub == "inspect") {
    return parse_each(rest, std::move(cmd), kServiceInspect, Verb::kServiceInspect,
                      "service.inspect", "SERVICE");
  }
  if (sub == "rm" || sub == "remove") {
    return parse_each(rest, std::move(cmd), kServiceRm, Verb::kServiceRm, "service.rm", "SERVICE");
  }
  throw UsageError(
      fmt::format("service: unknown command \"{}\" (see 'bpfnetctl service --help')", sub));
}

}  // namespace

Json Request::to_json() const {
  Json j = Json::object();
  j["op"] = op;
  j["args"] = args;
  return j;
}

std::string global_help() {
  return std::string(
      "Usage:  bpfnetctl [OPTIONS] COMMAND\n"
      "\n"
      "Control bpfnetd, the eBPF datapath for Docker-style bridge networks.\n"
      "\n"
      "Options:\n"
      "      --socket PATH      Daemon socket (default \"/run/bpfnet/bpfnetd.sock\")\n"
      "  -o, --output FORMAT    Output format: \"table\" (default) or \"json\"\n"
      "  -h, --help             Print this help\n"
      "\n"
      "Commands:\n"
      "  network     Manage networks\n"
      "  port-map    Manage the published ports of containers\n"
      "  service     Manage load-balanced services\n"
      "  stats       Show traffic and drop counters\n"
      "  version     Show the client and daemon versions\n"
      "  help        Show the help of a command\n"
      "\n"
      "Run 'bpfnetctl COMMAND --help' for more information on a command.\n");
}

std::string network_help() {
  return std::string(
      "Usage:  bpfnetctl network COMMAND\n"
      "\n"
      "Manage networks\n"
      "\n"
      "Commands:\n"
      "  connect     Connect a container to a network\n"
      "  create      Create a network\n"
      "  disconnect  Disconnect a container from a network\n"
      "  inspect     Display detailed information on one or more networks\n"
      "  ls          List networks\n"
      "  rm          Remove one or more networks\n"
      "\n"
      "Run 'bpfnetctl network COMMAND --help' for more information on a command.\n");
}

std::string port_map_help() {
  return std::string(
      "Usage:  bpfnetctl port-map COMMAND\n"
      "\n"
      "Manage the published ports of containers (Docker's -p)\n"
      "\n"
      "Commands:\n"
      "  add         Publish ports of a container\n"
      "  ls          List published ports\n"
      "  rm          Remove a published port\n"
      "\n"
      "Run 'bpfnetctl port-map COMMAND --help' for more information on a command.\n");
}

std::string service_help() {
  return std::string(
      "Usage:  bpfnetctl service COMMAND\n"
      "\n"
      "Manage load-balanced services: a virtual IP and ports on a network, spread over\n"
      "backend containers by Maglev hashing\n"
      "\n"
      "Commands:\n"
      "  add-backend Add a container as a backend of a service\n"
      "  create      Create a service\n"
      "  drain       Send no new flows to a backend\n"
      "  inspect     Display detailed information on one or more services\n"
      "  ls          List services\n"
      "  rm          Remove one or more services\n"
      "  rm-backend  Remove a backend from a service\n"
      "\n"
      "Run 'bpfnetctl service COMMAND --help' for more information on a command.\n");
}

Command parse_command(const std::vector<std::string>& args) {
  // Global flags come before the verb; find where the verb starts.
  size_t verb_at = 0;
  while (verb_at < args.size()) {
    const std::string& a = args[verb_at];
    if (a.size() < 2 || a[0] != '-') break;
    const bool takes_value = a == "--socket" || a == "-o" || a == "--output";
    verb_at += takes_value ? 2 : 1;
  }
  verb_at = std::min(verb_at, args.size());

  po::options_description global;
  global.add_options()("socket", po::value<std::string>())("output,o", po::value<std::string>())(
      "help,h", po::bool_switch());
  po::variables_map vm;
  try {
    const std::vector<std::string> prefix(args.begin(), args.begin() + verb_at);
    po::store(po::command_line_parser(prefix).options(global).style(kStyle).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw usage_from(e, "");
  }
  Command cmd;
  apply_common(vm, cmd, "");
  if (wants_help(vm)) return help_command(global_help());
  if (verb_at == args.size()) throw UsageError("missing command (see 'bpfnetctl --help')");

  const std::string& verb = args[verb_at];
  const std::vector<std::string> rest(args.begin() + verb_at + 1, args.end());
  if (verb == "network") return parse_network(rest, std::move(cmd));
  if (verb == "port-map") return parse_port_map(rest, std::move(cmd));
  if (verb == "service") return parse_service(rest, std::move(cmd));
  if (verb == "stats") return parse_simple(rest, std::move(cmd), kStats, Verb::kStats, "stats");
  if (verb == "version") {
    return parse_simple(rest, std::move(cmd), kVersion, Verb::kVersion, "ping");
  }
  if (verb == "help") {
    if (rest.empty()) return help_command(global_help());
    std::vector<std::string> again = rest;
    again.emplace_back("--help");
    return parse_command(again);
  }
  throw UsageError(fmt::format("unknown command \"{}\" (see 'bpfnetctl --help')", verb));
}

}  // namespace bpfnet::ctl
