// What a captured frame (Ethernet, first bytes only) says, in tcpdump's
// words: "IP 10.0.0.5.1234 > 10.0.1.7.80: tcp [S]", "ARP, Request who-has
// 10.0.0.1 tell 10.0.0.5". Reads kernel-captured bytes (monitor events):
// any input, however short or odd, gives a summary and reads nothing past
// its end.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/ip.h"

namespace bpfnet::core {

struct PacketSummary {
  std::optional<Ipv4> src;  // IPv4 (or ARP sender/target) addresses, when captured
  std::optional<Ipv4> dst;
  std::string text;  // the tcpdump-style line, without a trailing newline
};

PacketSummary summarize_packet(std::span<const uint8_t> frame);

}  // namespace bpfnet::core
