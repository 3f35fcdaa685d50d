// `bpfnetctl flows`: the conntrack's flows joined with the desired state
// into rows in Docker's words (containers, networks, published ports,
// services). Pure: the conntrack comes in as plain FlowHalf values (the
// datapath layer reads the map, datapath/conntrack.h), the time as a number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.h"
#include "core/state.h"

namespace bpfnet::core {

// A conntrack tuple, host order.
struct FlowTuple {
  uint32_t saddr = 0, daddr = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  bool operator==(const FlowTuple&) const = default;
};

// One conntrack entry: one direction of a flow (struct bpfnet_ct_value).
struct FlowHalf {
  FlowTuple key;                            // the packets as they arrive
  FlowTuple peer;                           // the other direction's key
  FlowTuple rewrite;                        // what they are rewritten to
  uint8_t state = 0;                        // enum bpfnet_ct_state
  uint8_t flags = 0;                        // BPFNET_CT_F_*
  uint64_t expires_ns = 0, created_ns = 0;  // CLOCK_MONOTONIC
  uint64_t packets = 0, bytes = 0;          // forwarded this way
};

// What `flows` shows: everything, or the flows of one container (serving
// it or opening it), of the containers of one network, or of one service,
// of one protocol or all. Names are resolved to IDs by
// flow_filter(), which refuses unknown ones.
struct FlowQuery {
  std::string container, network, service;
  std::string proto;  // "", "tcp" or "udp"
};
struct FlowFilter {
  std::string container;   // a container name, or any
  std::string network_id;  // or any
  std::string service_id;  // or any
  uint8_t proto = 0;       // IPPROTO_*, or any
};
// Throws UserError: `No such container: X`, `network X not found`, `service
// X not found`, `invalid protocol "X" (tcp or udp)`, or for more than one of
// container, network and service.
FlowFilter flow_filter(const State& state, const FlowQuery& query);

// One flow, both directions. "client" is who sent its first packet. The
// names are views into the State given to join_flows() (or the names a
// decoded result carries, core/flows_wire.h): a row lives no longer than they.
struct FlowRow {
  uint8_t proto = 0;
  Ipv4 client_ip;
  uint16_t client_port = 0;  // ICMP echo: the identifier
  // The address the client used: a published port (host address, or 0.0.0.0
  // when it came in on an uplink to any), a service VIP, or a container's
  // own address; for a container's masqueraded flow, the outside address.
  Ipv4 address_ip;
  uint16_t address_port = 0;
  std::string_view address_kind;  // "published", "service", "container", "outside"
  std::string_view service;       // the service's name, when a service balanced it
  // The container on bpfnet's side of the flow and its network: the one
  // serving it, or for an outbound (masqueraded) flow the one that opened it.
  // Empty when no container has the address any more.
  std::string_view container, network;
  Ipv4 server_ip;  // where the client's packets are delivered
  uint16_t server_port = 0;
  std::string_view nat;  // "DNAT", "DNAT+SNAT", "masquerade" or "none" (static text)
  Ipv4 snat_ip;          // the source the server sees, for SNAT and masquerade
  uint16_t snat_port = 0;
  uint8_t client_state = 0, server_state = 0;  // enum bpfnet_ct_state
  uint64_t age_ns = 0, idle_ns = 0;
  uint64_t client_packets = 0, client_bytes = 0;  // what the client sent
  uint64_t server_packets = 0, server_bytes = 0;  // what came back
};

// The flows of `halves` (a conntrack read: two entries per flow; an entry
// whose other half is missing or belongs to another flow counts on its
// own) that pass `filter`, at `now_ns`, sorted by container, network,
// client. `state` names the addresses; the rows' names point into it.
std::vector<FlowRow> join_flows(const std::vector<FlowHalf>& halves, const State& state,
                                const FlowFilter& filter, uint64_t now_ns);

std::string_view flow_state_name(uint8_t state);  // "NEW", "ESTABLISHED", "CLOSING", "UNKNOWN"
std::string_view flow_proto_name(uint8_t proto);  // "tcp", "udp", "icmp" or the number

}  // namespace bpfnet::core
