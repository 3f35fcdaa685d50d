// What must hold for any frame run through a BPF program, whatever its
// bytes: the policy of bpfnet's datapath, written from the promises of the
// README and issue 12 rather than from the programs' code. Each invariant
// has a name (reported with the frame that broke it):
//
//   verdict            tc programs answer TC_ACT_OK, _SHOT or _REDIRECT, XDP
//                      XDP_DROP, _PASS, _TX or _REDIRECT: never an internal
//                      code, never an unknown one.
//   length             a frame that goes on is at most kMaxGrowth bytes
//                      longer than it came (bpfnet encapsulates nothing;
//                      an ICMP error it may answer with adds at most
//                      Ethernet + IPv4 + ICMP headers).
//   anti-spoofing      a container's frame goes on only with its own source
//                      MAC, and its own source IP (IPv4) or its own MAC and
//                      IP (or 0.0.0.0, a probe) as ARP sender.
//   isolation          what a container sends reaches (is redirected to, or
//                      routed by the host to) a container of another network
//                      only through a published port of a non-loopback host
//                      address, or as part of a flow conntrack already
//                      joins the two addresses in.
//   vip-scope          the same, for frames sent to another network's
//                      service VIP (issue 12 item 2: a VIP belongs to its
//                      network).
//   icmp-error-scope   the same, for ICMP errors (issue 12 item 3).
//   icc                on a network without ICC, a container's frame reaches
//                      no other container of that network outside a flow
//                      conntrack already has.
//   internal           a container of an internal network reaches nothing
//                      outside its subnet outside such a flow.
//   loopback-publish   a port published on 127.0.0.1 is reached from no
//                      interface (issue 12 item 1).
//   martian            a frame to 127.0.0.0/8 arriving on an interface is
//                      dropped (issue 12 item 1).
//   direct-access      a frame from the uplink reaches a container address
//                      (redirected, or passed to the host, which routes it
//                      there) only through a published port or a flow
//                      conntrack already has.
//   checksums          a frame that goes on changed has a valid IPv4 header
//                      checksum and L4 checksum when it came with valid ones
//                      (and a UDP checksum is never rewritten to 0, "none").
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "packet_world.h"

namespace bpfnet::fuzz {

inline constexpr size_t kMaxGrowth = 14 + 20 + 8;

enum class Program { kFromContainer, kToContainer, kTcUplink, kXdpUplink };

// One frame through one program.
struct Run {
  Program program = Program::kFromContainer;
  const EndpointFacts* endpoint = nullptr;  // the container veth it ran on, if any
  Bytes in;
  Bytes out;
  uint32_t verdict = 0;
  std::set<AddressPair> flows_before;  // conntrack's address pairs before the run
};

struct Violation {
  std::string invariant;
  std::string detail;
};

// Every invariant above that `run` breaks.
std::vector<Violation> check_run(const PacketWorld& world, const Run& run);

// What a program does with a frame, by verdict.
bool dropped(const Run& run);

}  // namespace bpfnet::fuzz
