// Uplinks: the host interfaces facing clients (published ports, masquerade)
// and which hook serves them. Native XDP is the fastest, but it is only
// correct where packets arrive with complete checksums: on a veth (a VM or
// namespace host, kind, Docker-in-Docker) the peer's stack hands over
// partially checksummed packets, which XDP would redirect into a container
// that then drops them. So `auto`, the default, picks XDP only for drivers
// known to deliver complete checksums, and tc everywhere else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bpfnet::core {

enum class UplinkMode { kAuto, kXdp, kTc };

std::string_view uplink_mode_name(UplinkMode mode);  // "auto", "xdp", "tc"

// `--uplink NAME[:auto|xdp|tc]` and the config file's "uplinks" entries.
struct UplinkSpec {
  std::string name;
  UplinkMode mode = UplinkMode::kAuto;
  bool operator==(const UplinkSpec&) const = default;
};

// Throws UserError `invalid uplink "eth0:fast": expected NAME[:auto|xdp|tc]`
// or `invalid interface name "..."`.
UplinkSpec parse_uplink_spec(std::string_view text);

// The hook an uplink gets, and why (shown by `bpfnetctl uplink ls`).
struct UplinkHook {
  bool xdp = false;
  std::string reason;
  bool operator==(const UplinkHook&) const = default;
};

// `requested` as given (kAuto unless forced), `driver` as ethtool reports it
// ("veth", "mlx5_core", …; empty if unknown), `forced_by` what forced the
// mode, for the reason ("--uplink eth0:xdp", "--no-xdp").
UplinkHook choose_uplink_hook(UplinkMode requested, std::string_view driver,
                              std::string_view forced_by);

}  // namespace bpfnet::core
