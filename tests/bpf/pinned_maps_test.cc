// Maps pinned by an earlier bpfnetd: a restart reuses them, except a
// conntrack of another layout (BPFNET_ABI_VERSION), which is replaced.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "bpfnet_abi.h"
#include "datapath/datapath.h"

namespace bpfnet::test {
namespace {

namespace fs = std::filesystem;

struct bpf_map_info info_of(const std::string& path) {
  struct bpf_map_info info {};
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return info;
  uint32_t len = sizeof(info);
  bpf_obj_get_info_by_fd(fd, &info, &len);
  close(fd);
  return info;
}

class PinnedMapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fmt_dir();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string fmt_dir() { return "/sys/fs/bpf/bpfnet-pin-test-" + std::to_string(getpid()); }
  std::string dir_;
};

TEST_F(PinnedMapsTest, ConntrackOfAnOlderLayoutIsReplacedAndTheRestartSucceeds) {
  // What bpfnetd of ABI version 1 pinned: 40-byte conntrack values.
  int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bpfnet_ct", sizeof(struct bpfnet_ct_key), 40,
                          1024, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, (dir_ + "/bpfnet_ct").c_str()), 0);
  close(fd);

  {
    datapath::Datapath dp(datapath::DatapathOptions{dir_, 4096});
    EXPECT_TRUE(dp.read_conntrack().empty());
  }
  struct bpf_map_info ct = info_of(dir_ + "/bpfnet_ct");
  EXPECT_EQ(ct.value_size, sizeof(struct bpfnet_ct_value));
  EXPECT_EQ(ct.max_entries, 4096u) << "created anew, at the size asked for";

  // A map of the current layout is kept as it is (and its size with it).
  datapath::Datapath again(datapath::DatapathOptions{dir_, 8192});
  EXPECT_EQ(info_of(dir_ + "/bpfnet_ct").id, ct.id) << "the same map";
  EXPECT_EQ(info_of(dir_ + "/bpfnet_ct").max_entries, 4096u);
}

}  // namespace
}  // namespace bpfnet::test
