// Published ports (Docker's `-p`): protocols, bindings, and the grammar of
// the `-p` and `port rm` arguments. Parsing only; allocating host ports
// against the State is core/portmap.h.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.h"

namespace bpfnet::core {

enum class Proto : uint8_t { kTcp, kUdp, kSctp };

// "tcp", "udp", "sctp".
std::string_view to_string(Proto proto);
// Exactly "tcp", "udp" or "sctp" (the `-p` parser lowercases first, as
// Docker does). Throws UserError `Invalid proto: TEXT`.
Proto parse_proto(std::string_view text);
// The IP protocol number the datapath matches: 6, 17, 132.
uint8_t ip_protocol_number(Proto proto);

// One published port: host_ip:host_port/proto is forwarded to the
// container's address on the endpoint's network, port container_port.
struct PortBinding {
  Proto proto = Proto::kTcp;
  uint16_t container_port = 0;  // 1..65535
  Ipv4 host_ip;                 // 0.0.0.0: every host address
  uint16_t host_port = 0;       // 1..65535

  auto operator<=>(const PortBinding&) const = default;
};

// As `docker ps` shows it: "0.0.0.0:8080->80/tcp".
std::string to_string(const PortBinding& binding);

// One container port of a `-p` argument, before a host port is chosen.
struct PortRequest {
  Proto proto = Proto::kTcp;
  uint16_t container_port = 0;  // 1..65535
  std::optional<Ipv4> host_ip;  // nullopt: the network's host_binding_ipv4
  // 0-0: an ephemeral host port; first == last: exactly that port;
  // first < last: the lowest free port of the range.
  uint16_t host_port_first = 0;
  uint16_t host_port_last = 0;

  bool ephemeral() const { return host_port_first == 0; }
  bool fixed() const { return host_port_first != 0 && host_port_first == host_port_last; }

  bool operator==(const PortRequest&) const = default;
};

// Docker's `-p` grammar `[HOSTIP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/PROTO]`
// (tcp by default, the protocol case-insensitive), one request per container
// port:
//   80                 ephemeral host port, host IP from the network
//   8080:80            host port 8080
//   0:80, 1.2.3.4::80  ephemeral host port
//   8000-8010:80       the lowest free host port of 8000..8010
//   8000-8010:80-90    paired one to one (lengths must match)
//   80-90              an ephemeral host port for each
// Throws UserError in Docker's wording, naming the bad part:
// `No port specified: 80:<empty>`, `Invalid containerPort: 0`,
// `Invalid hostPort: 70000`, `Invalid proto: icmp`, `Invalid ip address: 1.2.3`,
// `Invalid ranges specified for container and host Ports: 80-90 and 8000-8005`,
// and `IPv6 host address ::1 is not supported yet: bpfnet is IPv4-only` for
// `[::1]:8080:80`. Stricter than Docker: empty parts whose separator is
// present (`:80`, `::80`, `80/`) are refused.
std::vector<PortRequest> parse_port_spec(std::string_view spec);

// The argument of `port rm`: `[HOSTIP:]HOSTPORT[/PROTO]`.
struct PortSelector {
  Proto proto = Proto::kTcp;
  uint16_t host_port = 0;       // 1..65535
  std::optional<Ipv4> host_ip;  // nullopt: any host IP

  bool matches(const PortBinding& binding) const;
  bool operator==(const PortSelector&) const = default;
};

// "8080/tcp", or "127.0.0.1:8080/tcp" with a host IP.
std::string to_string(const PortSelector& selector);

// Throws UserError as parse_port_spec (`Invalid hostPort: 0`, ...).
PortSelector parse_port_selector(std::string_view spec);

}  // namespace bpfnet::core
