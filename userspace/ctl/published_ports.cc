#include "ctl/published_ports.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

#include "ctl/render.h"

namespace bpfnet::ctl {
namespace {

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

}  // namespace

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

}  // namespace bpfnet::ctl
