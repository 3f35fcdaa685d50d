// Addresses and address blocks as users write them (core/ip.h): --subnet,
// --ip, --mac, -p's host IP, the config and state files.
//
// Invariants, whatever the text:
// - try_parse and parse agree (nullopt exactly when parse throws UserError);
// - what parses is canonical: printing it gives the text back (lowercased
//   for a MAC), so no two spellings name one address;
// - a Cidr that Cidr::parse takes is syntactically valid and a network
//   address; its arithmetic holds (contains its network and broadcast,
//   size 2^(32-len));
// - Mac::parse_unicast takes only non-multicast, non-zero addresses.
#include <algorithm>
#include <cctype>
#include <string>

#include "core/error.h"
#include "core/ip.h"
#include "fuzz_check.h"

namespace {

using namespace bpfnet;

template <typename T, typename Parse>
std::optional<T> throwing_parse(Parse parse, std::string_view text) {
  try {
    return parse(text);
  } catch (const core::UserError&) {
    return std::nullopt;
  }
}

void check_ipv4(std::string_view text) {
  auto ip = core::Ipv4::try_parse(text);
  auto thrown = throwing_parse<core::Ipv4>(core::Ipv4::parse, text);
  FUZZ_CHECK(ip == thrown, "Ipv4 try_parse and parse disagree on \"{}\"", text);
  if (ip) FUZZ_CHECK(ip->to_string() == text, "Ipv4 \"{}\" prints as {}", text, ip->to_string());
}

void check_cidr(std::string_view text) {
  auto syntax = core::Cidr::try_parse(text);
  if (syntax) {
    FUZZ_CHECK(syntax->to_string() == text, "Cidr \"{}\" prints as {}", text, syntax->to_string());
    FUZZ_CHECK(syntax->prefix_len <= 32, "Cidr \"{}\" has prefix {}", text, syntax->prefix_len);
  }
  auto subnet = throwing_parse<core::Cidr>(core::Cidr::parse, text);
  if (!subnet) return;
  FUZZ_CHECK(syntax == subnet, "Cidr::parse takes \"{}\", try_parse does not", text);
  FUZZ_CHECK(subnet->is_network_address(), "Cidr::parse takes host bits in \"{}\"", text);
  FUZZ_CHECK(subnet->contains(subnet->network()) && subnet->contains(subnet->broadcast()),
             "Cidr \"{}\" does not contain its ends", text);
  FUZZ_CHECK(subnet->size() == (uint64_t{1} << (32 - subnet->prefix_len)), "Cidr \"{}\" size {}",
             text, subnet->size());
  FUZZ_CHECK(subnet->contains(*subnet) && subnet->overlaps(*subnet), "Cidr \"{}\" vs itself", text);
}

void check_mac(std::string_view text) {
  auto mac = core::Mac::try_parse(text);
  auto thrown = throwing_parse<core::Mac>(core::Mac::parse, text);
  FUZZ_CHECK(mac == thrown, "Mac try_parse and parse disagree on \"{}\"", text);
  if (!mac) return;
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  FUZZ_CHECK(mac->to_string() == lower, "Mac \"{}\" prints as {}", text, mac->to_string());
  auto unicast = throwing_parse<core::Mac>(core::Mac::parse_unicast, text);
  FUZZ_CHECK(unicast.has_value() == (!mac->is_multicast() && !mac->is_zero()),
             "Mac::parse_unicast on \"{}\"", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = bpfnet::fuzz::as_text(data, size);
  check_ipv4(text);
  check_cidr(text);
  check_mac(text);
  return 0;
}
