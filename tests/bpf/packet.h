// Frame builders and independent checksum code for BPF program tests. The
// checksums here are computed from scratch (RFC 1071), never incrementally,
// so they check the datapath's incremental updates rather than repeat them.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bpfnet::test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline uint32_t ip4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return ntohl(a.s_addr);
}

inline uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline uint32_t csum_add(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}

inline void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = v >> 8;
  b[off + 1] = v & 0xff;
}
inline void put32(Bytes& b, size_t off, uint32_t v) {
  put16(b, off, v >> 16);
  put16(b, off + 2, v & 0xffff);
}
inline uint16_t get16(const Bytes& b, size_t off) { return uint16_t(b[off] << 8 | b[off + 1]); }
inline uint32_t get32(const Bytes& b, size_t off) {
  return uint32_t{get16(b, off)} << 16 | get16(b, off + 2);
}

constexpr size_t kEth = 14;

inline Bytes eth(const Mac& dst, const Mac& src, uint16_t proto) {
  Bytes b(kEth);
  std::memcpy(&b[0], dst.data(), 6);
  std::memcpy(&b[6], src.data(), 6);
  put16(b, 12, proto);
  return b;
}

// ARP over Ethernet for IPv4.
inline Bytes arp_frame(const Mac& eth_dst, const Mac& eth_src, uint16_t op, const Mac& sha,
                       uint32_t sip, const Mac& tha, uint32_t tip) {
  Bytes b = eth(eth_dst, eth_src, 0x0806);
  b.resize(kEth + 28);
  put16(b, 14, 1);
  put16(b, 16, 0x0800);
  b[18] = 6;
  b[19] = 4;
  put16(b, 20, op);
  std::memcpy(&b[22], sha.data(), 6);
  put32(b, 28, sip);
  std::memcpy(&b[32], tha.data(), 6);
  put32(b, 38, tip);
  return b;
}

inline uint16_t ipv4_header_checksum(const Bytes& b, size_t ip_off = kEth) {
  size_t ihl = (b[ip_off] & 0xf) * 4;
  Bytes copy(b.begin() + ip_off, b.begin() + ip_off + ihl);
  copy[10] = copy[11] = 0;
  return csum_fold(csum_add(copy.data(), copy.size()));
}

// L4 checksum over the pseudo-header, with the checksum field taken as zero.
inline uint16_t l4_checksum(const Bytes& b, size_t ip_off = kEth) {
  size_t ihl = (b[ip_off] & 0xf) * 4;
  uint8_t proto = b[ip_off + 9];
  size_t l4 = ip_off + ihl;
  size_t len = get16(b, ip_off + 2) - ihl;
  Bytes seg(b.begin() + l4, b.begin() + l4 + len);
  size_t field = proto == 6 ? 16 : proto == 17 ? 6 : 2;
  seg[field] = seg[field + 1] = 0;
  uint32_t sum = csum_add(&b[ip_off + 12], 8);  // saddr, daddr
  sum += proto;
  sum += static_cast<uint32_t>(len);
  if (proto == 1) sum = 0;  // ICMP has no pseudo-header
  return csum_fold(csum_add(seg.data(), seg.size(), sum));
}

struct Ipv4Spec {
  uint32_t saddr = 0, daddr = 0;
  uint8_t proto = 6;
  uint8_t ttl = 64;
  uint16_t sport = 40000, dport = 80;
  std::string payload = "hello";
  bool udp_zero_csum = false;
  uint8_t tcp_flags = 0x02;  // SYN
  uint8_t icmp_type = 8;     // echo request (ICMP only)
  uint32_t tcp_seq = 1000, tcp_ack = 0;
  uint16_t tcp_window = 65535;
  Bytes tcp_options;  // a multiple of 4 bytes
};

// Ethernet + IPv4 + TCP (SYN) / UDP / ICMP echo with valid checksums.
inline Bytes ipv4_frame(const Mac& dst, const Mac& src, const Ipv4Spec& s) {
  Bytes b = eth(dst, src, 0x0800);
  size_t l4len = s.proto == 6 ? 20 + s.tcp_options.size() : 8;
  size_t total = 20 + l4len + s.payload.size();
  b.resize(kEth + total);
  b[14] = 0x45;
  put16(b, 16, static_cast<uint16_t>(total));
  put16(b, 18, 0x1234);  // id
  put16(b, 20, 0x4000);  // DF
  b[22] = s.ttl;
  b[23] = s.proto;
  put32(b, 26, s.saddr);
  put32(b, 30, s.daddr);
  size_t l4 = kEth + 20;
  if (s.proto == 6) {
    put16(b, l4, s.sport);
    put16(b, l4 + 2, s.dport);
    put32(b, l4 + 4, s.tcp_seq);
    put32(b, l4 + 8, s.tcp_ack);
    b[l4 + 12] = static_cast<uint8_t>(l4len / 4) << 4;
    b[l4 + 13] = s.tcp_flags;
    put16(b, l4 + 14, s.tcp_window);
    std::copy(s.tcp_options.begin(), s.tcp_options.end(), b.begin() + l4 + 20);
  } else if (s.proto == 17) {
    put16(b, l4, s.sport);
    put16(b, l4 + 2, s.dport);
    put16(b, l4 + 4, static_cast<uint16_t>(8 + s.payload.size()));
  } else {
    b[l4] = s.icmp_type;
    put16(b, l4 + 4, s.icmp_type == 0 ? s.dport : s.sport);  // identifier
    put16(b, l4 + 6, 1);
  }
  std::memcpy(&b[l4 + l4len], s.payload.data(), s.payload.size());
  put16(b, 24, ipv4_header_checksum(b));
  size_t field = s.proto == 6 ? 16 : s.proto == 17 ? 6 : 2;
  if (!(s.proto == 17 && s.udp_zero_csum)) put16(b, l4 + field, l4_checksum(b));
  return b;
}

// VXLAN (UDP 4789) from one host's underlay to another's, carrying `inner`.
const Mac kUnderlayMac{0x52, 0x54, 0x00, 0x00, 0x00, 0x01};  // this host's
const Mac kPeerHostMac{0x52, 0x54, 0x00, 0x00, 0x00, 0x02};  // the sending host's
constexpr size_t kVxlanHeaders = 50;  // outer IPv4 + UDP + VXLAN + inner Ethernet
inline Bytes vxlan_packet(const Bytes& inner, uint32_t outer_src, uint32_t outer_dst, uint32_t vni,
                          uint16_t udp_check = 0) {
  Bytes b = eth(kUnderlayMac, kPeerHostMac, 0x0800);
  const size_t ip_len = 20 + 8 + 8 + inner.size();
  b.resize(kEth + 36);
  b[kEth] = 0x45;
  put16(b, kEth + 2, static_cast<uint16_t>(ip_len));
  put16(b, kEth + 4, 0x77);
  b[kEth + 8] = 64;
  b[kEth + 9] = 17;
  put32(b, kEth + 12, outer_src);
  put32(b, kEth + 16, outer_dst);
  put16(b, kEth + 10, ipv4_header_checksum(b));
  put16(b, kEth + 20, 50123);
  put16(b, kEth + 22, 4789);
  put16(b, kEth + 24, static_cast<uint16_t>(ip_len - 20));
  put16(b, kEth + 26, udp_check);
  put32(b, kEth + 28, 0x08000000);
  put32(b, kEth + 32, vni << 8);
  b.insert(b.end(), inner.begin(), inner.end());
  return b;
}

// The frame after one routed hop (uplink <-> container, out of the host):
// TTL - 1, the IP checksum computed afresh. Bridging leaves frames as they are.
inline Bytes routed(Bytes f) {
  f[kEth + 8]--;
  put16(f, kEth + 10, ipv4_header_checksum(f));
  return f;
}

// ICMP error (type/code) from `saddr` to `daddr` quoting the IP header and
// first 8 bytes of `quoted` (a full frame as built above); "fragmentation
// needed" (3/4) carries `mtu` as the next hop's.
inline Bytes icmp_error_frame(const Mac& dst, const Mac& src, uint32_t saddr, uint32_t daddr,
                              uint8_t type, uint8_t code, const Bytes& quoted,
                              uint16_t mtu = 1400) {
  Bytes b = eth(dst, src, 0x0800);
  size_t quote_len = 20 + 8;
  size_t total = 20 + 8 + quote_len;
  b.resize(kEth + total);
  b[14] = 0x45;
  put16(b, 16, static_cast<uint16_t>(total));
  b[22] = 64;
  b[23] = 1;
  put32(b, 26, saddr);
  put32(b, 30, daddr);
  size_t l4 = kEth + 20;
  b[l4] = type;
  b[l4 + 1] = code;
  if (type == 3 && code == 4) put16(b, l4 + 6, mtu);  // next-hop MTU
  std::memcpy(&b[l4 + 8], &quoted[kEth], quote_len);
  put16(b, 24, ipv4_header_checksum(b));
  put16(b, l4 + 2, l4_checksum(b));
  return b;
}

}  // namespace bpfnet::test
