#include "core/drop_reasons.h"

#include <gtest/gtest.h>

#include "bpfnet_abi.h"

namespace bpfnet::core {
namespace {

TEST(DropReasonsTest, NamesAreStable) {
  // These strings are user-visible (stats output, scripts): changing one is a
  // breaking change, which is why each is spelled out here.
  EXPECT_EQ(drop_reason_name(BPFNET_OK), "forwarded");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_MALFORMED), "malformed");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_UNKNOWN_ENDPOINT), "unknown-endpoint");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_INVALID_SMAC), "invalid-source-mac");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_INVALID_SIP), "invalid-source-ip");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_INVALID_ARP), "invalid-arp");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_ARP_NO_TARGET), "arp-no-target");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_ISOLATION), "isolation");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_ICC), "icc-disabled");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_INTERNAL), "internal-network");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_NO_ENDPOINT), "no-endpoint");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_UNSUPPORTED_L3), "unsupported-l3");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_NO_NETWORK), "no-network");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_CT_INSERT), "ct-insert");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_NAT_NO_PORT), "nat-no-port");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_NO_PORTMAP), "no-portmap");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_FIB), "fib");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_CSUM), "csum");
}

TEST(DropReasonsTest, EveryKnownCodeHasARealName) {
  for (unsigned code = BPFNET_OK; code <= BPFNET_DROP_NO_NETWORK; ++code) {
    EXPECT_FALSE(drop_reason_name(code).starts_with("reason-")) << code;
  }
}

TEST(DropReasonsTest, UnknownCodesAreNumbered) {
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_NO_BACKEND), "no-backend");
  EXPECT_EQ(drop_reason_name(19), "reason-19");
  EXPECT_EQ(drop_reason_name(BPFNET_REASON_MAX), "reason-32");
  EXPECT_EQ(drop_reason_name(255), "reason-255");
  EXPECT_EQ(drop_reason_name(256), "reason-out-of-range");
}

}  // namespace
}  // namespace bpfnet::core
