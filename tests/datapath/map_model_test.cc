// diff(): only what differs is written, deletes carry the current entry.
#include "datapath/map_model.h"

#include <gtest/gtest.h>

namespace bpfnet::datapath {
namespace {

TEST(MapModelTest, SameContentsNoWrites) {
  MapContents a;
  a.networks[1] = NetworkEntry{1, 0x0a000000, 8, 0x0a000001, 1, 1500};
  a.add_endpoint(EndpointEntry{5, 1, 0x0a000002, {}, {}});
  a.vips[0x0a0000fe] = 1;
  EXPECT_TRUE(diff(a, a).empty());
}

TEST(MapModelTest, UpsertsChangedAndNewDeletesGone) {
  MapContents current;
  current.networks[1] = NetworkEntry{1, 0x0a000000, 8, 0x0a000001, 1, 1500};
  current.networks[2] = NetworkEntry{2, 0x0b000000, 8, 0x0b000001, 1, 1500};
  current.backends[4] = 0x0a000002;
  MapContents desired = current;
  desired.networks[1].mtu = 1400;
  desired.networks.erase(2);
  desired.backends[5] = 0x0a000003;
  const MapDelta delta = diff(current, desired);
  EXPECT_EQ(delta.size(), 3u);
  ASSERT_EQ(delta.networks.upserts.size(), 1u);
  EXPECT_EQ(delta.networks.upserts[0].second.mtu, 1400u);
  ASSERT_EQ(delta.networks.deletes.size(), 1u);
  EXPECT_EQ(delta.networks.deletes[0].second, current.networks[2]);
  EXPECT_EQ(delta.backends.upserts, (std::vector<std::pair<uint32_t, uint32_t>>{{5, 0x0a000003}}));
}

}  // namespace
}  // namespace bpfnet::datapath
