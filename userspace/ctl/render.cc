#include "ctl/render.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "ctl/tabwriter.h"

#ifndef BPFNET_VERSION
#define BPFNET_VERSION "unknown"
#endif

namespace bpfnet::ctl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A cell of a table: strings as they are, numbers in decimal, null/missing empty.
std::string cell(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

const Json& expect_array(const Json& result, std::string_view what) {
  if (!result.is_array()) {
    throw BadResult(fmt::format("expected an array of {}, got: {}", what, result.dump()));
  }
  for (const Json& item : result) {
    if (!item.is_object()) {
      throw BadResult(
          fmt::format("expected an array of {}, got an element: {}", what, item.dump()));
    }
  }
  return result;
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
  std::vector<const Json*> networks;
  for (const Json& n : result) networks.push_back(&n);
  std::stable_sort(networks.begin(), networks.end(), [](const Json* a, const Json* b) {
    return natural_less(cell(*a, "Name"), cell(*b, "Name"));
  });
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
    std::string scope = cell(*n, "Scope");
    rows.push_back({id_of(*n), cell(*n, "Name"), network_driver(*n), scope});
  }
  return docker_table(rows);
}

std::string render_stats(const Command& cmd, const Json& result) {
  if (!result.is_object()) throw BadResult("expected a stats object, got: " + result.dump());
  if (cmd.output == Output::kJson) return pretty_json(result);
  const Json empty = Json::array();
  const Json& endpoints =
      expect_array(result.contains("endpoints") ? result["endpoints"] : empty, "endpoints");
  const Json& drops = expect_array(result.contains("drops") ? result["drops"] : empty, "drops");

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
  std::vector<std::vector<std::string>> drop_rows{{"DROP REASON", "PACKETS", "BYTES"}};
  for (const Json* d : seen) {
    drop_rows.push_back({cell(*d, "reason"), cell(*d, "packets"), cell(*d, "bytes")});
  }
  return docker_table(rows) + "\n" + docker_table(drop_rows);
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

// Go's net.JoinHostPort: an IPv6 address (it has a ':') goes in brackets.
std::string join_host_port(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

// A binding field that must be a string / a port number, or BadResult.
std::string binding_string(const Json& binding, const char* key) {
  const auto it = binding.find(key);
  if (it == binding.end() || !it->is_string()) {
    throw BadResult(
        fmt::format("expected a binding with a string \"{}\", got: {}", key, binding.dump()));
  }
  return it->get<std::string>();
}

std::string binding_port(const Json& binding, const char* key) {
  const auto it = binding.find(key);
  // Parsed JSON holds non-negative numbers as unsigned, built JSON as signed.
  if (it == binding.end() || !it->is_number_integer() || it->get<long long>() < 0 ||
      it->get<long long>() > 65535) {
    throw BadResult(
        fmt::format("expected a binding with a port number \"{}\", got: {}", key, binding.dump()));
  }
  return it->dump();
}

// The `docker port` lines of a bindings array ("80/tcp -> 0.0.0.0:8080"),
// sorted as docker sorts them: the whole lines, with sortorder.NaturalLess,
// so by container port, protocol, host address and host port.
std::vector<std::string> binding_lines(const Json& bindings) {
  expect_array(bindings, "bindings");
  std::vector<std::string> lines;
  for (const Json& b : bindings) {
    lines.push_back(
        fmt::format("{}/{} -> {}", binding_port(b, "container_port"), binding_string(b, "proto"),
                    join_host_port(binding_string(b, "host_ip"), binding_port(b, "host_port"))));
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const std::string& a, const std::string& b) { return natural_less(a, b); });
  return lines;
}

// The "bindings" array of a {"container", "bindings"} object, or BadResult.
const Json& bindings_of(const Json& item) {
  if (!item.is_object() || !item.contains("bindings")) {
    throw BadResult("expected {\"container\", \"bindings\"}, got: " + item.dump());
  }
  return item["bindings"];
}

std::string render_port_add(const Command& cmd, const Json& result) {
  if (cmd.output == Output::kJson) return pretty_json(result);
  std::string out;
  for (const std::string& line : binding_lines(bindings_of(result))) out += line + "\n";
  return out;
}

std::string render_port_ls(const Command& cmd, const Json& result) {
  expect_array(result, "containers with their bindings");
  if (cmd.output == Output::kJson) return pretty_json(result);
  const bool one_container = !cmd.requests.empty() && cmd.requests[0].args.contains("container");
  if (one_container) {
    // `docker port CONTAINER`: just the lines.
    std::string out;
    for (const Json& item : result) {
      for (const std::string& line : binding_lines(bindings_of(item))) out += line + "\n";
    }
    return out;
  }
  std::vector<const Json*> items;
  for (const Json& item : result) {
    if (!item.contains("container") || !item["container"].is_string()) {
      throw BadResult("expected {\"container\", \"bindings\"}, got: " + item.dump());
    }
    items.push_back(&item);
  }
  std::stable_sort(items.begin(), items.end(), [](const Json* a, const Json* b) {
    return natural_less(cell(*a, "container"), cell(*b, "container"));
  });
  std::string out;
  for (const Json* item : items) {
    const std::vector<std::string> lines = binding_lines(bindings_of(*item));
    if (lines.empty()) continue;  // only containers that have bindings
    if (!out.empty()) out += "\n";
    out += cell(*item, "container") + "\n";
    for (const std::string& line : lines) out += "  " + line + "\n";
  }
  return out;
}

// --- service ------------------------------------------------------------------

// netip.Addr's order, which docker ps sorts host addresses with: IPv4 before
// IPv6, then by value. (Text that is no address sorts first, by text.)
bool address_less(const std::string& a, const std::string& b) {
  auto key = [](const std::string& text) {
    std::array<unsigned char, 16> bytes{};
    if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) return std::pair(4, bytes);
    if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) return std::pair(6, bytes);
    return std::pair(0, bytes);
  };
  const auto ka = key(a);
  const auto kb = key(b);
  if (ka != kb) return ka < kb;
  return a < b;
}

// The PUBLISHED column: docker ps's PORTS (formatter.DisplayablePorts) for
// bindings, which always have a host address: "0.0.0.0:8080->80/tcp", and runs
// of consecutive ports published on the same port grouped, "0.0.0.0:80-81->80-81/tcp".
std::string displayable_ports(const Json& bindings) {
  struct Port {
    std::string ip;
    long long private_port;
    long long public_port;
    std::string type;
  };
  expect_array(bindings, "bindings");
  std::vector<Port> ports;
  for (const Json& b : bindings) {
    ports.push_back({binding_string(b, "host_ip"), std::stoll(binding_port(b, "container_port")),
                     std::stoll(binding_port(b, "host_port")), binding_string(b, "proto")});
  }
  std::stable_sort(ports.begin(), ports.end(), [](const Port& i, const Port& j) {
    if (i.private_port != j.private_port) return i.private_port < j.private_port;
    if (i.ip != j.ip) return address_less(i.ip, j.ip);
    if (i.public_port != j.public_port) return i.public_port < j.public_port;
    return i.type < j.type;
  });
  struct Group {
    std::string ip;
    std::string type;
    long long first;
    long long last;
  };
  auto form = [](const Group& g) {
    std::string range = std::to_string(g.first);
    if (g.first != g.last) range += fmt::format("-{}", g.last);
    return fmt::format("{}->{}/{}", join_host_port(g.ip, range), range, g.type);
  };
  std::map<std::string, Group> groups;  // by "ip/type"
  std::vector<std::string> keys;        // in the order the groups were created
  std::vector<std::string> result;
  std::vector<std::string> host_mappings;
  for (const Port& port : ports) {
    if (port.public_port != port.private_port) {
      host_mappings.push_back(fmt::format("{}->{}/{}",
                                          join_host_port(port.ip, std::to_string(port.public_port)),
                                          port.private_port, port.type));
      continue;
    }
    const std::string key = port.ip + "/" + port.type;
    const auto it = groups.find(key);
    if (it == groups.end()) {
      groups.emplace(key, Group{port.ip, port.type, port.private_port, port.private_port});
      keys.push_back(key);
      continue;
    }
    if (port.private_port == it->second.last + 1) {
      it->second.last = port.private_port;
      continue;
    }
    result.push_back(form(it->second));
    it->second.first = it->second.last = port.private_port;
  }
  for (const std::string& key : keys) result.push_back(form(groups.at(key)));
  result.insert(result.end(), host_mappings.begin(), host_mappings.end());
  std::string out;
  for (const std::string& r : result) out += (out.empty() ? "" : ", ") + r;
  return out;
}

// The PORTS column: the service's ports as they are, comma-separated.
std::string service_ports(const Json& service) {
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

// The BACKENDS column: "3 (2 healthy)".
std::string service_backends(const Json& service) {
  const auto it = service.find("Backends");
  if (it == service.end() || it->is_null()) return "0 (0 healthy)";
  expect_array(*it, "backends");
  const auto healthy = std::count_if(it->begin(), it->end(),
                                     [](const Json& b) { return cell(b, "State") == "healthy"; });
  return fmt::format("{} ({} healthy)", it->size(), healthy);
}

std::string render_service_ls(const Command& cmd, const Json& result) {
  expect_array(result, "services");
  if (cmd.output == Output::kJson) return pretty_json(result);
  std::vector<const Json*> services;
  for (const Json& s : result) services.push_back(&s);
  std::stable_sort(services.begin(), services.end(), [](const Json* a, const Json* b) {
    return natural_less(cell(*a, "Name"), cell(*b, "Name"));
  });
  std::vector<std::vector<std::string>> rows{
      {"NAME", "NETWORK", "VIP", "PORTS", "PUBLISHED", "BACKENDS"}};
  for (const Json* s : services) {
    const auto published = s->find("Published");
    rows.push_back(
        {cell(*s, "Name"), cell(*s, "Network"), cell(*s, "VIP"), service_ports(*s),
         published == s->end() || published->is_null() ? "" : displayable_ports(*published),
         service_backends(*s)});
  }
  return docker_table(rows);
}

}  // namespace

std::string_view client_version() { return BPFNET_VERSION; }

bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const char ca = a[i];
    const char cb = b[j];
    const bool da = is_digit(ca);
    const bool db = is_digit(cb);
    if (da != db) return da;  // digits sort before other characters
    if (!da) {
      if (ca != cb) return static_cast<unsigned char>(ca) < static_cast<unsigned char>(cb);
      ++i;
      ++j;
      continue;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    const size_t nz_a = i;
    const size_t nz_b = j;
    while (i < a.size() && is_digit(a[i])) ++i;
    while (j < b.size() && is_digit(b[j])) ++j;
    if (i - nz_a != j - nz_b) return i - nz_a < j - nz_b;
    const std::string_view na = a.substr(nz_a, i - nz_a);
    const std::string_view nb = b.substr(nz_b, j - nz_b);
    if (na != nb) return na < nb;
    if (nz_a != nz_b) return nz_a < nz_b;  // fewer leading zeros first
  }
  return a.size() < b.size();
}

std::string truncate_id(std::string_view id) {
  if (const size_t colon = id.find(':'); colon != std::string_view::npos) {
    id = id.substr(colon + 1);
  }
  return std::string(id.substr(0, 12));
}

std::string pretty_json(const Json& value) {
  return value.dump(4, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string render_client_version() {
  return fmt::format("Client:\n Version:  {}\n", client_version());
}

std::string render(const Command& cmd, const Json& result) {
  switch (cmd.verb) {
    case Verb::kHelp:
      return cmd.help_text;
    case Verb::kNetworkCreate:
      if (cmd.output == Output::kJson) return pretty_json(result);
      if (!result.is_object() || !result.contains("Id") || !result["Id"].is_string()) {
        throw BadResult("expected a network with an \"Id\", got: " + result.dump());
      }
      return result["Id"].get<std::string>() + "\n";
    case Verb::kNetworkLs:
      return render_ls(cmd, result);
    case Verb::kNetworkInspect:
      expect_array(result, "networks");
      return pretty_json(result);
    case Verb::kServiceInspect:
      expect_array(result, "services");
      return pretty_json(result);
    case Verb::kNetworkRm:
    case Verb::kServiceRm: {
      expect_array(result, cmd.verb == Verb::kNetworkRm ? "removed networks" : "removed services");
      if (cmd.output == Output::kJson) return pretty_json(result);
      std::string out;
      for (const Json& removed : result) out += cell(removed, "name") + "\n";
      return out;
    }
    case Verb::kNetworkConnect:
    case Verb::kNetworkDisconnect:
      return cmd.output == Output::kJson ? pretty_json(result) : "";
    case Verb::kStats:
      return render_stats(cmd, result);
    case Verb::kVersion:
      return render_version(cmd, result);
    case Verb::kPortAdd:
      return render_port_add(cmd, result);
    case Verb::kPortLs:
      return render_port_ls(cmd, result);
    case Verb::kPortRm:
      return cmd.output == Output::kJson ? pretty_json(result) : "";
    case Verb::kServiceCreate:
      if (cmd.output == Output::kJson) return pretty_json(result);
      if (!result.is_object() || !result.contains("Id") || !result["Id"].is_string()) {
        throw BadResult("expected a service with an \"Id\", got: " + result.dump());
      }
      return result["Id"].get<std::string>() + "\n";
    case Verb::kServiceAddBackend:
    case Verb::kServiceRmBackend:
    case Verb::kServiceDrain:
      return cmd.output == Output::kJson ? pretty_json(result) : "";
    case Verb::kServiceLs:
      return render_service_ls(cmd, result);
  }
  return "";
}

}  // namespace bpfnet::ctl
