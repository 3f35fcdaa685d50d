#include "frame.h"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

namespace bpfnet::bench {
namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

std::vector<uint8_t> build_frame(const FrameSpec& s) {
  const uint32_t l4_hdr = s.tcp ? 20 : 8;
  if (s.size < 14 + 20 + l4_hdr) throw std::runtime_error("frame too small");
  std::vector<uint8_t> f(s.size, 0);
  uint8_t* eth = f.data();
  std::memcpy(eth, s.dst_mac.data(), 6);
  std::memcpy(eth + 6, s.src_mac.data(), 6);
  put16(eth + 12, 0x0800);

  uint8_t* ip = eth + 14;
  const uint16_t ip_len = static_cast<uint16_t>(s.size - 14);
  ip[0] = 0x45;
  put16(ip + 2, ip_len);
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = s.tcp ? 6 : 17;
  std::memcpy(ip + 12, &s.saddr, 4);
  std::memcpy(ip + 16, &s.daddr, 4);
  uint16_t c = inet_csum(ip, 20);
  std::memcpy(ip + 10, &c, 2);

  uint8_t* l4 = ip + 20;
  const uint16_t l4_len = static_cast<uint16_t>(ip_len - 20);
  put16(l4, s.sport);
  put16(l4 + 2, s.dport);
  if (s.tcp) {
    put16(l4 + 4, 0x0001);  // seq 1
    l4[12] = 5 << 4;        // data offset
    l4[13] = 0x02;          // SYN
    put16(l4 + 14, 64240);  // window
  } else {
    put16(l4 + 4, l4_len);
  }
  // Pseudo header: saddr, daddr, zero, proto, L4 length.
  uint8_t ph[12];
  std::memcpy(ph, ip + 12, 8);
  ph[8] = 0;
  ph[9] = ip[9];
  put16(ph + 10, l4_len);
  uint16_t lc = inet_csum(l4, l4_len, csum_partial(ph, sizeof ph, 0));
  if (!s.tcp && lc == 0) lc = 0xffff;
  std::memcpy(l4 + (s.tcp ? 16 : 6), &lc, 2);
  return f;
}

}  // namespace bpfnet::bench
