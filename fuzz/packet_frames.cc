#include "packet_frames.h"

#include "bpf/packet.h"

namespace bpfnet::fuzz {
namespace {

constexpr size_t kEth = 14;
constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kSctp = 132;

uint16_t get16(const Bytes& b, size_t off) { return uint16_t(b[off] << 8 | b[off + 1]); }
uint32_t get32(const Bytes& b, size_t off) {
  return uint32_t{get16(b, off)} << 16 | get16(b, off + 2);
}

// A ones' complement sum verifies when it folds to 0xffff (both zeros).
bool verifies(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

test::Mac test_mac(const MacBytes& mac) { return test::Mac(mac); }

}  // namespace

std::optional<Ipv4View> ipv4_view(const Bytes& f) {
  if (f.size() < kEth + 20 || get16(f, 12) != 0x0800 || (f[kEth] >> 4) != 4) return std::nullopt;
  Ipv4View ip;
  ip.ihl = size_t(f[kEth] & 0xf) * 4;
  if (ip.ihl < 20 || kEth + ip.ihl > f.size()) return std::nullopt;
  ip.total = get16(f, kEth + 2);
  ip.proto = f[kEth + 9];
  ip.saddr = get32(f, kEth + 12);
  ip.daddr = get32(f, kEth + 16);
  const uint16_t frag = get16(f, kEth + 6);
  ip.fragment = (frag & 0x2000) || (frag & 0x1fff);
  ip.complete = ip.total >= ip.ihl && kEth + ip.total <= f.size();
  const size_t l4 = kEth + ip.ihl;
  const bool first = (frag & 0x1fff) == 0;
  if (first && (ip.proto == kTcp || ip.proto == kUdp || ip.proto == kSctp) && l4 + 4 <= f.size())
    ip.ports = std::pair{get16(f, l4), get16(f, l4 + 2)};
  if (!ip.fragment && ip.proto == kIcmp && l4 + 8 + 20 <= f.size()) {
    const uint8_t type = f[l4];
    ip.icmp_error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    if (ip.icmp_error) ip.quoted = std::pair{get32(f, l4 + 8 + 12), get32(f, l4 + 8 + 16)};
  }
  return ip;
}

bool header_checksum_ok(const Bytes& f, const Ipv4View& ip) {
  return verifies(test::csum_add(&f[kEth], ip.ihl));
}

void set_header_checksum(Bytes& f, const Ipv4View& ip) {
  f[kEth + 10] = f[kEth + 11] = 0;
  uint32_t sum = test::csum_add(&f[kEth], ip.ihl);
  test::put16(f, kEth + 10, test::csum_fold(sum));
}

std::optional<bool> l4_checksum_ok(const Bytes& f, const Ipv4View& ip) {
  if (ip.fragment || !ip.complete) return std::nullopt;
  const size_t l4 = kEth + ip.ihl;
  const size_t len = ip.total - ip.ihl;
  uint32_t pseudo = test::csum_add(&f[kEth + 12], 8) + ip.proto + uint32_t(len);
  switch (ip.proto) {
    case kTcp:
      if (len < 20) return std::nullopt;
      return verifies(test::csum_add(&f[l4], len, pseudo));
    case kUdp:
      if (len < 8 || get16(f, l4 + 6) == 0) return std::nullopt;
      return verifies(test::csum_add(&f[l4], len, pseudo));
    case kIcmp:
      if (len < 4) return std::nullopt;
      return verifies(test::csum_add(&f[l4], len));
    default:
      return std::nullopt;
  }
}

std::optional<std::pair<MacBytes, uint32_t>> arp_sender(const Bytes& f) {
  if (f.size() < kEth + 28 || get16(f, 12) != 0x0806) return std::nullopt;
  MacBytes sha;
  std::copy(f.begin() + 22, f.begin() + 28, sha.begin());
  return std::pair{sha, get32(f, 28)};
}

std::optional<Bytes> reply_to(const Bytes& frame, const MacBytes& src, const MacBytes& dst,
                              uint8_t variant) {
  auto ip = ipv4_view(frame);
  if (!ip || ip->fragment) return std::nullopt;
  test::Ipv4Spec spec;
  spec.saddr = ip->daddr;
  spec.daddr = ip->saddr;
  spec.proto = ip->proto;
  spec.payload = "reply";
  const size_t l4 = kEth + ip->ihl;
  if (ip->proto == kTcp || ip->proto == kUdp) {
    if (!ip->ports) return std::nullopt;
    spec.sport = ip->ports->second;
    spec.dport = ip->ports->first;
    static constexpr uint8_t kFlags[] = {0x12, 0x10, 0x11, 0x04};  // SYN-ACK, ACK, FIN-ACK, RST
    spec.tcp_flags = kFlags[variant % 4];
  } else if (ip->proto == kIcmp && l4 + 8 <= frame.size() && frame[l4] == 8) {
    spec.icmp_type = 0;                 // echo reply
    spec.dport = get16(frame, l4 + 4);  // its identifier
  } else {
    return std::nullopt;
  }
  return test::ipv4_frame(test_mac(dst), test_mac(src), spec);
}

std::optional<Bytes> icmp_error_about(const Bytes& frame, const MacBytes& src, const MacBytes& dst,
                                      uint32_t saddr, uint8_t variant) {
  auto ip = ipv4_view(frame);
  if (!ip || frame.size() < kEth + 28) return std::nullopt;
  static constexpr uint8_t kTypes[][2] = {{3, 3}, {3, 4}, {11, 0}};
  const auto& [type, code] = kTypes[variant % 3];
  return test::icmp_error_frame(test_mac(dst), test_mac(src), saddr, ip->saddr, type, code, frame);
}

}  // namespace bpfnet::fuzz
