// Uplink specs and the choice of hook per uplink.
#include "core/uplinks.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace bpfnet::core {
namespace {

TEST(UplinksTest, ParsesNameAndMode) {
  EXPECT_EQ(parse_uplink_spec("eth0"), (UplinkSpec{"eth0", UplinkMode::kAuto}));
  EXPECT_EQ(parse_uplink_spec("eth0:auto"), (UplinkSpec{"eth0", UplinkMode::kAuto}));
  EXPECT_EQ(parse_uplink_spec("eth0:xdp"), (UplinkSpec{"eth0", UplinkMode::kXdp}));
  EXPECT_EQ(parse_uplink_spec("enp1s0f0:tc"), (UplinkSpec{"enp1s0f0", UplinkMode::kTc}));
}

TEST(UplinksTest, RefusesBadModesAndNames) {
  auto message = [](const char* text) {
    try {
      parse_uplink_spec(text);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("eth0:fast"), "invalid uplink \"eth0:fast\": expected NAME[:auto|xdp|tc]");
  EXPECT_EQ(message("eth0:"), "invalid uplink \"eth0:\": expected NAME[:auto|xdp|tc]");
  EXPECT_EQ(message(":xdp"), "invalid interface name \"\"");
  EXPECT_EQ(message("bad/name"), "invalid interface name \"bad/name\"");
  EXPECT_EQ(message("a-name-longer-than-15"), "invalid interface name \"a-name-longer-than-15\"");
}

TEST(UplinksTest, AutoPicksXdpOnlyWhereChecksumsAreComplete) {
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "veth", ""),
            (UplinkHook{false, "veth: partial checksums from the peer"}));
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "mlx5_core", ""),
            (UplinkHook{true, "mlx5_core: native XDP, complete checksums"}));
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "virtio_net", "").xdp, true);
  EXPECT_EQ(
      choose_uplink_hook(UplinkMode::kAuto, "bridge", ""),
      (UplinkHook{false, "bridge: a software device: no native XDP with complete checksums"}));
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "bonding", "").xdp, false);
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "tun", "").xdp, false);
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "r8169", ""),
            (UplinkHook{false, "r8169: not known to deliver complete checksums to XDP"}));
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kAuto, "", ""),
            (UplinkHook{false, "unknown driver: not known to deliver complete checksums to XDP"}));
}

TEST(UplinksTest, ForcedModesWinAndSayWhatForcedThem) {
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kXdp, "veth", "--uplink up0:xdp"),
            (UplinkHook{true, "set by --uplink up0:xdp"}));
  EXPECT_EQ(choose_uplink_hook(UplinkMode::kTc, "mlx5_core", "--no-xdp"),
            (UplinkHook{false, "set by --no-xdp"}));
}

TEST(UplinksTest, ModeNames) {
  EXPECT_EQ(uplink_mode_name(UplinkMode::kAuto), "auto");
  EXPECT_EQ(uplink_mode_name(UplinkMode::kXdp), "xdp");
  EXPECT_EQ(uplink_mode_name(UplinkMode::kTc), "tc");
}

}  // namespace
}  // namespace bpfnet::core
