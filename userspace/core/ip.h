// IPv4 addresses, CIDR blocks and MAC addresses: strict parsing and arithmetic.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bpfnet::core {

// An IPv4 address in host byte order, so that arithmetic (next address,
// masks) is plain integer arithmetic.
struct Ipv4 {
  uint32_t value = 0;

  static constexpr Ipv4 from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4{(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d}};
  }
  // Exactly four decimal octets 0..255 without leading zeros (as Go's netip:
  // "010" could be read as octal by other tools). nullopt on any junk.
  static std::optional<Ipv4> try_parse(std::string_view text);
  // As try_parse; throws UserError `invalid IPv4 address "TEXT"`.
  static Ipv4 parse(std::string_view text);

  std::string to_string() const;
  std::array<uint8_t, 4> octets() const;

  auto operator<=>(const Ipv4&) const = default;
};

// An address block "a.b.c.d/n". The address may carry host bits (a host route
// or an interface address does); Docker subnets must not, see Cidr::parse.
struct Cidr {
  Ipv4 addr;
  uint8_t prefix_len = 0;

  // Syntax only: an Ipv4, '/', and a decimal 0..32 without leading zeros.
  static std::optional<Cidr> try_parse(std::string_view text);
  // Syntax plus Docker's rule that the address is the network address.
  // Throws UserError `invalid CIDR "TEXT"` or
  // `invalid subnet 172.20.5.1/16 : it should be 172.20.0.0/16`.
  static Cidr parse(std::string_view text);

  Ipv4 mask() const;
  Ipv4 network() const;
  Ipv4 broadcast() const;
  // Number of addresses in the block, 2^(32-prefix_len).
  uint64_t size() const;
  bool is_network_address() const { return addr == network(); }

  bool contains(Ipv4 ip) const;
  bool contains(const Cidr& other) const;
  bool overlaps(const Cidr& other) const;

  std::string to_string() const;

  auto operator<=>(const Cidr&) const = default;
};

// An Ethernet address, bytes in wire order.
struct Mac {
  std::array<uint8_t, 6> bytes{};

  // Six colon-separated two-digit hex bytes; either case is accepted.
  static std::optional<Mac> try_parse(std::string_view text);
  // Throws UserError `invalid MAC address "TEXT"`.
  static Mac parse(std::string_view text);
  // As parse, and also refuses addresses an endpoint cannot own: multicast
  // (and so broadcast) addresses and 00:00:00:00:00:00.
  static Mac parse_unicast(std::string_view text);

  bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
  bool is_zero() const;
  // Lowercase, as Docker prints it.
  std::string to_string() const;

  auto operator<=>(const Mac&) const = default;
};

// Classic Docker: 02:42 followed by the four address bytes. Locally
// administered and unicast, and unique as long as the IPs are.
Mac mac_for_ip(Ipv4 ip);

}  // namespace bpfnet::core
