// The template frame pktgen sends: Ethernet + IPv4 (no options) + UDP or
// TCP SYN, zero payload, all checksums filled in.
#pragma once

#include <cstdint>
#include <vector>

#include "tool_util.h"

namespace bpfnet::bench {

struct FrameSpec {
  Mac dst_mac{}, src_mac{};
  uint32_t saddr = 0, daddr = 0;  // network order
  uint16_t sport = 0, dport = 0;  // host order
  bool tcp = false;               // TCP SYN instead of UDP
  uint32_t size = 60;             // Ethernet frame without FCS
};

std::vector<uint8_t> build_frame(const FrameSpec& s);

}  // namespace bpfnet::bench
