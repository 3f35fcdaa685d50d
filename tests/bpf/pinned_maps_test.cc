// Pinned maps of another build: a pin whose sizes or field layout differ
// from this build's is set aside and recreated (instead of libbpf failing
// the whole load with EINVAL), and says what it cost; a pin that matches is
// reused as it is.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"

namespace bpfnet::datapath {
namespace {

class PinnedMapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bpfnet-pins.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mount("bpf", dir_.c_str(), "bpf", 0, "mode=0700"), 0);
    pins_ = dir_ + "/pins";
  }
  void TearDown() override {
    umount(dir_.c_str());
    std::filesystem::remove_all(dir_);
  }
  std::string path(const char* map) const { return pins_ + "/" + map; }

  // A hash map pinned as `name` whose value is a struct of three u32 fields
  // (12 bytes, as struct bpfnet_uplink, but laid out otherwise).
  void pin_foreign_uplinks() {
    std::filesystem::create_directories(pins_);
    struct btf* btf = btf__new_empty();
    int u32 = btf__add_int(btf, "u32", 4, 0);
    int value = btf__add_struct(btf, "other_uplink", 12);
    btf__add_field(btf, "a", u32, 0, 0);
    btf__add_field(btf, "b", u32, 32, 0);
    btf__add_field(btf, "c", u32, 64, 0);
    ASSERT_EQ(btf__load_into_kernel(btf), 0);
    LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = static_cast<__u32>(btf__fd(btf)),
                .btf_key_type_id = static_cast<__u32>(u32),
                .btf_value_type_id = static_cast<__u32>(value));
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bpfnet_uplinks", 4, 12, BPFNET_MAX_UPLINKS, &opts);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(bpf_obj_pin(fd, path("bpfnet_uplinks").c_str()), 0);
    close(fd);
    btf__free(btf);
  }

  std::string dir_, pins_;
};

TEST_F(PinnedMapsTest, MatchingPinsAreReused) {
  { Datapath first(DatapathOptions{pins_, 0}); }
  Datapath again(DatapathOptions{pins_, 0});
  EXPECT_TRUE(again.replaced_pins().empty());
}

TEST_F(PinnedMapsTest, SameSizesOtherFieldsIsAnotherLayout) {
  pin_foreign_uplinks();
  Datapath dp(DatapathOptions{pins_, 0});
  ASSERT_EQ(dp.replaced_pins().size(), 1u);
  const ReplacedPin& r = dp.replaced_pins()[0];
  EXPECT_EQ(r.name, "bpfnet_uplinks");
  EXPECT_EQ(r.why, "value layout changed");
  EXPECT_EQ(r.cost, "refilled from the state");
  EXPECT_FALSE(std::filesystem::exists(r.aside)) << "the old pin is dropped once loaded";
  struct bpf_map_info info {};
  uint32_t len = sizeof(info);
  int fd = bpf_obj_get(path("bpfnet_uplinks").c_str());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
  close(fd);
  EXPECT_NE(info.btf_value_type_id, 0u);  // this build's map, pinned in its place
}

TEST_F(PinnedMapsTest, AnotherSizeSaysWhatItCosts) {
  std::filesystem::create_directories(pins_);
  // A conntrack of an older layout: its flows cannot be carried over.
  int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bpfnet_ct", sizeof(struct bpfnet_ct_key), 32,
                          1024, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, path("bpfnet_ct").c_str()), 0);
  close(fd);
  Datapath dp(DatapathOptions{pins_, 0});
  ASSERT_EQ(dp.replaced_pins().size(), 1u);
  // The conntrack was an LRU before ABI 3 (a preallocated hash since).
  EXPECT_EQ(dp.replaced_pins()[0].why, "map type " + std::to_string(BPF_MAP_TYPE_LRU_HASH) +
                                           " -> " + std::to_string(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(dp.replaced_pins()[0].cost,
            "its flows are lost: established connections through published ports, services and "
            "masquerade are reset");
  EXPECT_EQ(dp.conntrack_capacity(), 1024u) << "a pinned conntrack keeps its size";
}

TEST_F(PinnedMapsTest, ConntrackWithoutTheDestinationCacheIsReplacedOnceThenKept) {
  std::filesystem::create_directories(pins_);
  // What a bpfnetd before the cached destination pinned: 40-byte values.
  int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bpfnet_ct", sizeof(struct bpfnet_ct_key), 40,
                          1024, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, path("bpfnet_ct").c_str()), 0);
  close(fd);
  auto info_of_ct = [&] {
    struct bpf_map_info info {};
    uint32_t len = sizeof(info);
    int ct = bpf_obj_get(path("bpfnet_ct").c_str());
    EXPECT_GE(ct, 0);
    EXPECT_EQ(bpf_obj_get_info_by_fd(ct, &info, &len), 0);
    close(ct);
    return info;
  };
  {
    Datapath dp(DatapathOptions{pins_, 4096});
    ASSERT_EQ(dp.replaced_pins().size(), 1u);
    EXPECT_EQ(dp.replaced_pins()[0].name, "bpfnet_ct");
    EXPECT_TRUE(dp.read_conntrack().empty());
  }
  const struct bpf_map_info ct = info_of_ct();
  EXPECT_EQ(ct.value_size, sizeof(struct bpfnet_ct_value));
  EXPECT_EQ(ct.max_entries, 1024u) << "a pinned conntrack keeps its size";

  // A conntrack of this layout is kept as it is on the next start.
  Datapath again(DatapathOptions{pins_, 8192});
  EXPECT_TRUE(again.replaced_pins().empty());
  EXPECT_EQ(info_of_ct().id, ct.id) << "the same map";
}

// ABI 3 -> 4: the entries grew by the flow counters (72 -> 96 bytes). The
// old conntrack is set aside, the new one has the new layout and counts.
TEST_F(PinnedMapsTest, ConntrackWithoutFlowCountersIsReplaced) {
  std::filesystem::create_directories(pins_);
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bpfnet_ct", sizeof(struct bpfnet_ct_key), 72, 1024,
                          nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, path("bpfnet_ct").c_str()), 0);
  close(fd);
  Datapath dp(DatapathOptions{pins_, 4096});
  ASSERT_EQ(dp.replaced_pins().size(), 1u);
  EXPECT_EQ(dp.replaced_pins()[0].name, "bpfnet_ct");
  EXPECT_EQ(dp.replaced_pins()[0].why, "value 72 -> 96 bytes");
  struct bpf_map_info info {};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(dp.map_fd(BPFNET_MAP_CT), &info, &len), 0);
  EXPECT_EQ(info.value_size, sizeof(struct bpfnet_ct_value));
}

}  // namespace
}  // namespace bpfnet::datapath
