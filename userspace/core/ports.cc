#include "core/ports.h"

#include <arpa/inet.h>  // inet_pton: pure parsing, no system call
#include <fmt/format.h>

#include <utility>

#include "core/error.h"
#include "core/numbers.h"

namespace bpfnet::core {
namespace {

constexpr uint32_t kMaxPort = 65535;

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};

// How an empty part is shown, as Docker's "No port specified: 80:<empty>".
std::string shown(std::string_view text) {
  return text.empty() ? std::string("<empty>") : std::string(text);
}

// Decimal digits only (leading zeros allowed, as Go's ParseUint), 0..65535.
std::optional<uint16_t> parse_port_number(std::string_view text) {
  std::optional<uint64_t> value = parse_decimal(text, kMaxPort);
  if (!value) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

// "P" or "FIRST-LAST" with FIRST <= LAST. Port 0 is left to the caller.
std::optional<PortRange> parse_port_range(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto port = parse_port_number(text);
    if (!port) return std::nullopt;
    return PortRange{*port, *port};
  }
  auto first = parse_port_number(text.substr(0, dash));
  auto last = parse_port_number(text.substr(dash + 1));  // a second '-' fails here
  if (!first || !last || *first > *last) return std::nullopt;
  return PortRange{*first, *last};
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(separator, start);
    if (at == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

bool is_ipv6(std::string_view text) {
  std::string copy(text);
  unsigned char buffer[16];
  return inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

// A host IP given in a spec. IPv6 addresses (bracketed, or bare as Docker
// also accepts them) are recognised so that the refusal says why.
Ipv4 parse_host_ip(std::string_view text, std::string_view spec) {
  if (text.empty()) throw UserError(fmt::format("Invalid ip address: <empty> in {}", spec));
  std::string_view address = text;
  bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  if (bracketed) address = text.substr(1, text.size() - 2);
  if (is_ipv6(address)) {
    throw UserError(
        fmt::format("IPv6 host address {} is not supported yet: bpfnet is IPv4-only", address));
  }
  auto ip = bracketed ? std::nullopt : Ipv4::try_parse(text);
  if (!ip) throw UserError(fmt::format("Invalid ip address: {}", text));
  return *ip;
}

// Splits "PORT[/PROTO]" and parses the protocol (case-insensitive).
std::pair<std::string_view, Proto> split_proto(std::string_view text, std::string_view spec) {
  size_t slash = text.find('/');
  std::string_view port = text.substr(0, slash);
  if (port.empty()) throw UserError(fmt::format("No port specified: {}<empty>", spec));
  if (slash == std::string_view::npos) return {port, Proto::kTcp};
  std::string proto(text.substr(slash + 1));
  for (char& c : proto) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (proto.empty()) throw UserError("Invalid proto: <empty>");
  return {port, parse_proto(proto)};
}

// Docker's splitParts: the last part is the container port, the one before
// the host port, and everything before that (colons included, for bare IPv6
// addresses) the host IP.
std::string join(const std::vector<std::string_view>& parts, size_t count) {
  std::string result;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) result += ':';
    result += parts[i];
  }
  return result;
}

}  // namespace

std::string_view to_string(Proto proto) {
  switch (proto) {
    case Proto::kTcp:
      return "tcp";
    case Proto::kUdp:
      return "udp";
    case Proto::kSctp:
      return "sctp";
  }
  return "?";
}

Proto parse_proto(std::string_view text) {
  if (text == "tcp") return Proto::kTcp;
  if (text == "udp") return Proto::kUdp;
  if (text == "sctp") return Proto::kSctp;
  throw UserError(fmt::format("Invalid proto: {}", shown(text)));
}

uint8_t ip_protocol_number(Proto proto) {
  switch (proto) {
    case Proto::kTcp:
      return 6;
    case Proto::kUdp:
      return 17;
    case Proto::kSctp:
      return 132;
  }
  return 0;
}

std::string to_string(const PortBinding& binding) {
  return fmt::format("{}:{}->{}/{}", binding.host_ip.to_string(), binding.host_port,
                     binding.container_port, to_string(binding.proto));
}

std::vector<PortRequest> parse_port_spec(std::string_view spec) {
  std::vector<std::string_view> parts = split(spec, ':');
  size_t n = parts.size();
  auto [container_text, proto] = split_proto(parts.back(), spec);

  std::optional<Ipv4> host_ip;
  if (n >= 3) host_ip = parse_host_ip(join(parts, n - 2), spec);

  auto container = parse_port_range(container_text);
  if (!container || container->first == 0) {
    throw UserError(fmt::format("Invalid containerPort: {}", container_text));
  }

  PortRange host;  // 0-0: ephemeral
  if (n >= 2) {
    std::string_view host_text = parts[n - 2];
    if (host_text.empty() && n == 2) {
      throw UserError(fmt::format(
          "Invalid hostPort: <empty> in {} (leave out the colon for an ephemeral host port)",
          spec));
    }
    if (!host_text.empty()) {
      auto parsed = parse_port_range(host_text);
      if (!parsed || (parsed->first == 0 && parsed->last != 0)) {
        throw UserError(fmt::format("Invalid hostPort: {}", host_text));
      }
      host = *parsed;
      uint32_t container_span = container->last - container->first;
      uint32_t host_span = host.last - host.first;
      // A host range with a single container port is the range to pick from.
      if (host.first != 0 && container_span != 0 && container_span != host_span) {
        throw UserError(
            fmt::format("Invalid ranges specified for container and host Ports: {} and {}",
                        container_text, host_text));
      }
    }
  }

  std::vector<PortRequest> requests;
  uint32_t count = uint32_t{container->last} - container->first + 1;
  requests.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    PortRequest request;
    request.proto = proto;
    request.container_port = static_cast<uint16_t>(container->first + i);
    request.host_ip = host_ip;
    if (host.first != 0 && count == 1) {
      request.host_port_first = host.first;
      request.host_port_last = host.last;
    } else if (host.first != 0) {
      request.host_port_first = request.host_port_last = static_cast<uint16_t>(host.first + i);
    }
    requests.push_back(request);
  }
  return requests;
}

bool PortSelector::matches(const PortBinding& binding) const {
  return binding.proto == proto && binding.host_port == host_port &&
         (!host_ip || binding.host_ip == *host_ip);
}

std::string to_string(const PortSelector& selector) {
  if (selector.host_ip) {
    return fmt::format("{}:{}/{}", selector.host_ip->to_string(), selector.host_port,
                       to_string(selector.proto));
  }
  return fmt::format("{}/{}", selector.host_port, to_string(selector.proto));
}

PortSelector parse_port_selector(std::string_view spec) {
  std::vector<std::string_view> parts = split(spec, ':');
  size_t n = parts.size();
  auto [port_text, proto] = split_proto(parts.back(), spec);
  PortSelector selector;
  selector.proto = proto;
  if (n >= 2) selector.host_ip = parse_host_ip(join(parts, n - 1), spec);
  auto port = parse_port_number(port_text);
  if (!port || *port == 0) throw UserError(fmt::format("Invalid hostPort: {}", port_text));
  selector.host_port = *port;
  return selector;
}

}  // namespace bpfnet::core
