#include "core/uplinks.h"

#include <fmt/format.h>

#include <array>

#include "core/error.h"
#include "core/names.h"

namespace bpfnet::core {

namespace {

// Drivers with native XDP whose received packets carry complete checksums:
// physical NICs (the hardware verifies, the packet is as it came off the
// wire) and virtio_net, which turns the host's checksum offload off while an
// XDP program is attached.
constexpr std::array<std::string_view, 20> kCompleteChecksumXdpDrivers = {
    "mlx5_core",  "mlx4_en",   "ixgbe",  "ixgbevf", "i40e",   "ice",     "igb",
    "igc",        "bnxt_en",   "nfp",    "qede",    "ena",    "gve",     "sfc",
    "virtio_net", "hv_netvsc", "mvneta", "mvpp2",   "stmmac", "atlantic"};

// Drivers whose packets can arrive partially checksummed (from a local
// stack), or that have no native XDP of their own.
std::string_view tc_reason(std::string_view driver) {
  if (driver == "veth") return "partial checksums from the peer";
  if (driver == "tun") return "partial checksums from the tap's writer";
  if (driver == "bridge" || driver == "bonding" || driver == "team" || driver == "macvlan" ||
      driver == "ipvlan" || driver == "802.1Q VLAN Support" || driver == "dummy")
    return "a software device: no native XDP with complete checksums";
  return "";
}

}  // namespace

std::string_view uplink_mode_name(UplinkMode mode) {
  constexpr std::array<std::string_view, 3> kNames = {"auto", "xdp", "tc"};  // by UplinkMode
  return kNames.at(static_cast<size_t>(mode));
}

UplinkSpec parse_uplink_spec(std::string_view text) {
  UplinkSpec spec;
  const size_t colon = text.rfind(':');
  spec.name = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) {
    const std::string_view mode = text.substr(colon + 1);
    if (mode == "xdp") {
      spec.mode = UplinkMode::kXdp;
    } else if (mode == "tc") {
      spec.mode = UplinkMode::kTc;
    } else if (mode != "auto") {
      throw UserError(fmt::format("invalid uplink \"{}\": expected NAME[:auto|xdp|tc]", text));
    }
  }
  if (!is_valid_ifname(spec.name))
    throw UserError(fmt::format("invalid interface name \"{}\"", spec.name));
  return spec;
}

UplinkHook choose_uplink_hook(UplinkMode requested, std::string_view driver,
                              std::string_view forced_by) {
  if (requested != UplinkMode::kAuto)
    return UplinkHook{requested == UplinkMode::kXdp, fmt::format("set by {}", forced_by)};
  const std::string_view shown = driver.empty() ? "unknown driver" : driver;
  for (std::string_view known : kCompleteChecksumXdpDrivers)
    if (driver == known)
      return UplinkHook{true, fmt::format("{}: native XDP, complete checksums", shown)};
  const std::string_view why = tc_reason(driver);
  if (!why.empty()) return UplinkHook{false, fmt::format("{}: {}", shown, why)};
  return UplinkHook{false,
                    fmt::format("{}: not known to deliver complete checksums to XDP", shown)};
}

}  // namespace bpfnet::core
