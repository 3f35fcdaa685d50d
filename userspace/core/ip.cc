#include "core/ip.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/numbers.h"

namespace bpfnet::core {
namespace {

std::optional<uint8_t> parse_hex_byte(std::string_view text) {
  if (text.size() != 2) return std::nullopt;
  uint8_t value = 0;
  for (char c : text) {
    uint8_t nibble = 0;
    if (c >= '0' && c <= '9') {
      nibble = static_cast<uint8_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      nibble = static_cast<uint8_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      nibble = static_cast<uint8_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = static_cast<uint8_t>((value << 4) | nibble);
  }
  return value;
}

}  // namespace

std::optional<Ipv4> Ipv4::try_parse(std::string_view text) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = text.find('.');
    bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    std::string_view field = last ? text : text.substr(0, dot);
    auto octet = parse_decimal(field, 255, LeadingZero::kRefused);
    if (!octet) return std::nullopt;
    value = (value << 8) | static_cast<uint32_t>(*octet);
    if (!last) text.remove_prefix(dot + 1);
  }
  return Ipv4{value};
}

Ipv4 Ipv4::parse(std::string_view text) {
  auto ip = try_parse(text);
  if (!ip) throw UserError(fmt::format("invalid IPv4 address \"{}\"", text));
  return *ip;
}

std::array<uint8_t, 4> Ipv4::octets() const {
  return {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

std::string Ipv4::to_string() const {
  auto o = octets();
  return fmt::format("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
}

std::optional<Cidr> Cidr::try_parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = Ipv4::try_parse(text.substr(0, slash));
  auto len = parse_decimal(text.substr(slash + 1), 32, LeadingZero::kRefused);
  if (!ip || !len) return std::nullopt;
  return Cidr{*ip, static_cast<uint8_t>(*len)};
}

Cidr Cidr::parse(std::string_view text) {
  auto cidr = try_parse(text);
  if (!cidr) throw UserError(fmt::format("invalid CIDR \"{}\"", text));
  if (!cidr->is_network_address()) {
    throw UserError(fmt::format("invalid subnet {} : it should be {}", cidr->to_string(),
                                Cidr{cidr->network(), cidr->prefix_len}.to_string()));
  }
  return *cidr;
}

Ipv4 Cidr::mask() const {
  // Shifting a 32-bit value by 32 is undefined, hence the special case.
  return Ipv4{prefix_len == 0 ? 0u : ~uint32_t{0} << (32 - prefix_len)};
}

Ipv4 Cidr::network() const { return Ipv4{addr.value & mask().value}; }

Ipv4 Cidr::broadcast() const { return Ipv4{addr.value | ~mask().value}; }

uint64_t Cidr::size() const { return uint64_t{1} << (32 - prefix_len); }

bool Cidr::contains(Ipv4 ip) const { return (ip.value & mask().value) == network().value; }

bool Cidr::contains(const Cidr& other) const {
  return other.prefix_len >= prefix_len && contains(other.addr);
}

bool Cidr::overlaps(const Cidr& other) const { return contains(other) || other.contains(*this); }

std::string Cidr::to_string() const { return fmt::format("{}/{}", addr.to_string(), prefix_len); }

std::optional<Mac> Mac::try_parse(std::string_view text) {
  Mac mac;
  for (size_t i = 0; i < mac.bytes.size(); ++i) {
    // "xx:" for the first five bytes, "xx" for the last one.
    size_t field_len = i + 1 < mac.bytes.size() ? 3 : 2;
    if (text.size() < field_len) return std::nullopt;
    if (field_len == 3 && text[2] != ':') return std::nullopt;
    auto byte = parse_hex_byte(text.substr(0, 2));
    if (!byte) return std::nullopt;
    mac.bytes[i] = *byte;
    text.remove_prefix(field_len);
  }
  if (!text.empty()) return std::nullopt;
  return mac;
}

Mac Mac::parse(std::string_view text) {
  auto mac = try_parse(text);
  if (!mac) throw UserError(fmt::format("invalid MAC address \"{}\"", text));
  return *mac;
}

Mac Mac::parse_unicast(std::string_view text) {
  Mac mac = parse(text);
  if (mac.is_multicast()) {
    throw UserError(fmt::format(
        "invalid MAC address \"{}\": a multicast address cannot be assigned to an endpoint", text));
  }
  if (mac.is_zero()) {
    throw UserError(fmt::format(
        "invalid MAC address \"{}\": the zero address cannot be assigned to an endpoint", text));
  }
  return mac;
}

bool Mac::is_zero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::string Mac::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

Mac mac_for_ip(Ipv4 ip) {
  auto o = ip.octets();
  return Mac{{0x02, 0x42, o[0], o[1], o[2], o[3]}};
}

}  // namespace bpfnet::core
