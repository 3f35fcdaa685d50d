// Counter rows summed as `bpfnetctl stats` shows them.
#include "datapath/counters.h"

#include <gtest/gtest.h>

#include "bpfnet_abi.h"

namespace bpfnet::datapath {
namespace {

TEST(CountersTest, ForwardedRowsSplitByDirectionDropsByInterfaceAndReason) {
  const std::vector<MetricRow> rows = {
      {7, BPFNET_OK, BPFNET_DIR_TO_CONTAINER, 3, 300},
      {7, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER, 2, 120},
      {7, BPFNET_DROP_ISOLATION, BPFNET_DIR_FROM_CONTAINER, 4, 400},
      {9, BPFNET_DROP_ISOLATION, BPFNET_DIR_FROM_CONTAINER, 1, 60},
      {9, BPFNET_DROP_INVALID_SIP, BPFNET_DIR_FROM_CONTAINER, 5, 500},
  };
  const CounterSummary summary = summarize(rows);
  EXPECT_EQ(summary.by_ifindex.at(7), (InterfaceCounters{3, 300, 2, 120, 4}));
  EXPECT_EQ(summary.by_ifindex.at(9), (InterfaceCounters{0, 0, 0, 0, 6}));
  ASSERT_EQ(summary.drops.size(), 2u);
  EXPECT_EQ(summary.drops[0], (DropCounters{BPFNET_DROP_INVALID_SIP, "invalid-source-ip", 5, 500}));
  EXPECT_EQ(summary.drops[1], (DropCounters{BPFNET_DROP_ISOLATION, "isolation", 5, 460}));
}

TEST(CountersTest, NothingCountedNothingShown) {
  const CounterSummary summary = summarize({});
  EXPECT_TRUE(summary.by_ifindex.empty());
  EXPECT_TRUE(summary.drops.empty());
}

}  // namespace
}  // namespace bpfnet::datapath
