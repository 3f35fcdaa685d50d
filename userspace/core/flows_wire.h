// The `flows` op's result as text, written by bpfnetd and read by bpfnetctl
// (userspace/README.md), in two formats:
//  - objects, the default: a JSON array of one object per flow, every field
//    named (what `bpfnetctl flows -o json` prints, one object per line);
//  - rows (`"format": "rows"`, what bpfnetctl asks for): the same flows as
//    a table of numbers, each name once:
//      {"names":["DNAT","web",…],"rows":[[6,3325256711,40000,…],…]}
//    a row's columns are BPFNET_FLOW_COLUMNS in order; a name column is an
//    index into "names", an address an IPv4 as a number (host order).
// At 262,144 flows objects are ~98 MB and rows ~28 MB: the daemon's copies,
// the socket and bpfnetctl's scan all scale with the bytes, and `flows` of
// that many must list in under a second (issue 14, bench/RESULTS.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/flows.h"

namespace bpfnet::core {

// The rows format's columns: FlowRow's fields, each with how it is written:
// `number` (an unsigned integer; state: enum bpfnet_ct_state, proto:
// IPPROTO_*), `ip` (an Ipv4 as a number) or `name` (an index into names).
// Times are in milliseconds.
#define BPFNET_FLOW_COLUMNS(X) \
  X(proto, number)             \
  X(client_ip, ip)             \
  X(client_port, number)       \
  X(address_ip, ip)            \
  X(address_port, number)      \
  X(address_kind, name)        \
  X(service, name)             \
  X(container, name)           \
  X(network, name)             \
  X(server_ip, ip)             \
  X(server_port, number)       \
  X(nat, name)                 \
  X(snat_ip, ip)               \
  X(snat_port, number)         \
  X(client_state, number)      \
  X(server_state, number)      \
  X(age_ns, ms)                \
  X(idle_ns, ms)               \
  X(client_packets, number)    \
  X(client_bytes, number)      \
  X(server_packets, number)    \
  X(server_bytes, number)

// Objects: "[{…},{…}]", or with kLinePerFlow "[\n{…},\n{…}\n]\n" ("[]\n"
// when there are none), as `bpfnetctl flows -o json` prints it.
enum class FlowsLayout { kArray, kLinePerFlow };
std::string flows_json_text(const std::vector<FlowRow>& rows,
                            FlowsLayout layout = FlowsLayout::kArray);

std::string flows_rows_text(const std::vector<FlowRow>& rows);

// A rows result read back: the rows' names point into `names` (a moved
// DecodedFlows keeps them valid: the strings are not moved).
struct DecodedFlows {
  std::vector<std::string> names;
  std::vector<FlowRow> rows;
};
// Throws UserError naming what is wrong and at which byte: not that shape,
// a number out of its column's range, a name index past the names.
DecodedFlows decode_flows_rows(std::string_view text);

// "A.B.C.D:PORT" written at `at`, which has room for kEndpointTextMax bytes;
// returns its end. Without a format string: the writers of 262,144 rows
// spend most of their time on these.
inline constexpr size_t kEndpointTextMax = 21;
char* write_endpoint(char* at, Ipv4 ip, uint16_t port);

}  // namespace bpfnet::core
