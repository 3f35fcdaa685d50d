#include "core/packet_summary.h"

#include <fmt/format.h>

#include <string_view>

namespace bpfnet::core {
namespace {

constexpr size_t kEth = 14;
constexpr uint16_t kEthIp = 0x0800, kEthArp = 0x0806, kEthIp6 = 0x86dd;

uint16_t be16(std::span<const uint8_t> b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }

Ipv4 ipv4_at(std::span<const uint8_t> b, size_t at) {
  return Ipv4::from_octets(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

std::string mac_at(std::span<const uint8_t> b, size_t at) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[at], b[at + 1], b[at + 2],
                     b[at + 3], b[at + 4], b[at + 5]);
}

std::string tcp_flags(uint8_t flags) {
  // tcpdump's letters, in its order.
  constexpr std::pair<uint8_t, char> kFlags[] = {{0x02, 'S'}, {0x01, 'F'}, {0x04, 'R'}, {0x08, 'P'},
                                                 {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}};
  std::string s;
  for (auto [bit, letter] : kFlags)
    if (flags & bit) s += letter;
  if (flags & 0x10) s += '.';
  return s.empty() ? "none" : s;
}

std::string_view icmp_name(uint8_t type) {
  switch (type) {
    case 0:
      return "echo reply";
    case 3:
      return "unreachable";
    case 8:
      return "echo request";
    case 11:
      return "time exceeded";
    default:
      return "";
  }
}

std::string ipv4_summary(std::span<const uint8_t> f, PacketSummary& s) {
  const auto ip = f.subspan(kEth);
  if (ip.size() < 20 || (ip[0] >> 4) != 4) return "IP [|ip]";
  const size_t ihl = size_t(ip[0] & 0x0f) * 4;
  s.src = ipv4_at(ip, 12);
  s.dst = ipv4_at(ip, 16);
  const std::string a = s.src->to_string(), b = s.dst->to_string();
  const uint8_t proto = ip[9];
  const uint16_t total = be16(ip, 2);
  const bool later_fragment = (be16(ip, 6) & 0x1fff) != 0;
  if (ihl < 20) return fmt::format("IP {} > {}: bad header length {}", a, b, ihl);
  if (later_fragment) return fmt::format("IP {} > {}: ip-proto-{} fragment", a, b, proto);
  const auto l4 = ip.size() > ihl ? ip.subspan(ihl) : std::span<const uint8_t>{};
  const size_t l4_len = total > ihl ? total - ihl : 0;
  switch (proto) {
    case 6:
      if (l4.size() < 14) return fmt::format("IP {} > {}: tcp [|tcp]", a, b);
      return fmt::format("IP {}.{} > {}.{}: tcp [{}]", a, be16(l4, 0), b, be16(l4, 2),
                         tcp_flags(l4[13]));
    case 17:
      if (l4.size() < 4) return fmt::format("IP {} > {}: udp [|udp]", a, b);
      return fmt::format("IP {}.{} > {}.{}: udp, length {}", a, be16(l4, 0), b, be16(l4, 2),
                         l4_len >= 8 ? l4_len - 8 : 0);
    case 1: {
      if (l4.empty()) return fmt::format("IP {} > {}: icmp [|icmp]", a, b);
      const std::string_view name = icmp_name(l4[0]);
      if (name.empty()) return fmt::format("IP {} > {}: icmp type {}", a, b, l4[0]);
      if ((l4[0] == 0 || l4[0] == 8) && l4.size() >= 8)
        return fmt::format("IP {} > {}: icmp {}, id {}, seq {}", a, b, name, be16(l4, 4),
                           be16(l4, 6));
      return fmt::format("IP {} > {}: icmp {}", a, b, name);
    }
    default:
      return fmt::format("IP {} > {}: ip-proto-{}", a, b, proto);
  }
}

std::string arp_summary(std::span<const uint8_t> f, PacketSummary& s) {
  const auto arp = f.subspan(kEth);
  // Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
  if (arp.size() < 28 || be16(arp, 0) != 1 || be16(arp, 2) != kEthIp || arp[4] != 6 || arp[5] != 4)
    return "ARP [|arp]";
  s.src = ipv4_at(arp, 14);
  s.dst = ipv4_at(arp, 24);
  switch (be16(arp, 6)) {
    case 1:
      return fmt::format("ARP, Request who-has {} tell {}", s.dst->to_string(), s.src->to_string());
    case 2:
      return fmt::format("ARP, Reply {} is-at {}", s.src->to_string(), mac_at(arp, 8));
    default:
      return fmt::format("ARP, op {}", be16(arp, 6));
  }
}

}  // namespace

PacketSummary summarize_packet(std::span<const uint8_t> frame) {
  PacketSummary s;
  if (frame.size() < kEth) {
    s.text = "[|ether]";
    return s;
  }
  switch (const uint16_t type = be16(frame, 12)) {
    case kEthIp:
      s.text = ipv4_summary(frame, s);
      break;
    case kEthArp:
      s.text = arp_summary(frame, s);
      break;
    case kEthIp6:
      s.text = "IP6";
      break;
    default:
      s.text = fmt::format("ethertype 0x{:04x}", type);
  }
  return s;
}

}  // namespace bpfnet::core
