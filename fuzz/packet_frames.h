// Reading and making frames for the packet fuzzer: an independent view of
// an IPv4 frame (what the invariants judge by), checksum verification from
// scratch, and the frames a peer would answer with (built with the BPF
// tests' own builders, tests/bpf/packet.h).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "packet_world.h"

namespace bpfnet::fuzz {

struct Ipv4View {
  size_t ihl = 0;    // header bytes
  size_t total = 0;  // the header's total length
  uint8_t proto = 0;
  uint32_t saddr = 0, daddr = 0;  // host byte order
  bool fragment = false;          // MF set or an offset
  bool complete = false;          // the frame holds `total` bytes of IP
  bool icmp_error = false;        // ICMP 3, 4, 5, 11 or 12 quoting an IPv4 header
  // TCP, UDP and SCTP source and destination port (a first fragment's).
  std::optional<std::pair<uint16_t, uint16_t>> ports;
  // An ICMP error's quoted source and destination.
  std::optional<std::pair<uint32_t, uint32_t>> quoted;
};

// nullopt unless an Ethernet frame of type IPv4 holding a whole IPv4 header.
std::optional<Ipv4View> ipv4_view(const Bytes& frame);

bool header_checksum_ok(const Bytes& frame, const Ipv4View& ip);
void set_header_checksum(Bytes& frame, const Ipv4View& ip);
// nullopt where nothing can be checked: a fragment, a truncated packet, a
// UDP datagram without checksum, a protocol without one we know.
std::optional<bool> l4_checksum_ok(const Bytes& frame, const Ipv4View& ip);

// An ARP frame's sender MAC and IPv4 address (host order).
std::optional<std::pair<MacBytes, uint32_t>> arp_sender(const Bytes& frame);

// What the destination of `frame` (an IPv4 TCP, UDP or ICMP echo packet)
// answers: addresses and ports swapped, valid checksums, from `src` to
// `dst` MACs. `variant` picks the TCP flags (SYN-ACK, ACK, FIN-ACK, RST).
std::optional<Bytes> reply_to(const Bytes& frame, const MacBytes& src, const MacBytes& dst,
                              uint8_t variant);

// An ICMP error about `frame` from `saddr` back to its source. `variant`
// picks the type: port unreachable, fragmentation needed, time exceeded.
std::optional<Bytes> icmp_error_about(const Bytes& frame, const MacBytes& src, const MacBytes& dst,
                                      uint32_t saddr, uint8_t variant);

}  // namespace bpfnet::fuzz
