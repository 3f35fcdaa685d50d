#include "core/drop_reasons.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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

// One row of BPFNET_DROP_REASONS, or of README's table.
struct Reason {
  unsigned code;
  std::string name;
  std::string meaning;
  bool operator==(const Reason&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Reason& r) {
  return os << r.code << " | " << r.name << " | " << r.meaning;
}

std::vector<Reason> listed_reasons() {
  std::vector<Reason> reasons;
#define BPFNET_DROP_REASON_ROW(code, id, name, meaning) reasons.push_back({code, name, meaning});
  BPFNET_DROP_REASONS(BPFNET_DROP_REASON_ROW)
#undef BPFNET_DROP_REASON_ROW
  return reasons;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The rows of README.md's "### Drop reasons" table, in order.
std::vector<Reason> readme_reasons() {
  std::ifstream in(std::string(BPFNET_SOURCE_DIR) + "/README.md");
  EXPECT_TRUE(in) << "README.md not found under " << BPFNET_SOURCE_DIR;
  std::vector<Reason> reasons;
  std::string line;
  while (std::getline(in, line) && !line.starts_with("### Drop reasons")) {
  }
  EXPECT_TRUE(in) << "no \"### Drop reasons\" section in README.md";
  bool in_table = false;
  while (std::getline(in, line)) {
    if (!line.starts_with("|")) {
      if (in_table) break;  // the first line after the table
      continue;
    }
    in_table = true;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(trim(cell));
    if (cells.size() != 3) {
      ADD_FAILURE() << "README row without three cells: " << line;
      continue;
    }
    if (cells[0] == "code" || cells[0].starts_with("---")) continue;  // header, separator
    reasons.push_back({static_cast<unsigned>(std::stoul(cells[0])), cells[1], cells[2]});
  }
  return reasons;
}

TEST(DropReasonsTest, EveryKnownCodeHasARealName) {
  std::vector<Reason> reasons = listed_reasons();
  ASSERT_GE(reasons.size(), 18u);  // codes 1 to 18 exist; none is ever removed
  for (const Reason& r : reasons) {
    EXPECT_FALSE(drop_reason_name(r.code).starts_with("reason-")) << r.code;
    EXPECT_EQ(drop_reason_name(r.code), r.name) << r.code;
  }
}

TEST(DropReasonsTest, CodesAndNamesAreUnique) {
  std::set<unsigned> codes{BPFNET_OK};
  std::set<std::string> names{"forwarded"};
  for (const Reason& r : listed_reasons()) {
    EXPECT_TRUE(codes.insert(r.code).second) << "code used twice: " << r;
    EXPECT_TRUE(names.insert(r.name).second) << "name used twice: " << r;
    EXPECT_LT(r.code, unsigned{BPFNET_REASON_MAX}) << r;
    EXPECT_FALSE(r.meaning.empty()) << r;
  }
}

// README.md documents every reason with the same code, name and meaning as
// BPFNET_DROP_REASONS, in the same order, and nothing else.
TEST(DropReasonsTest, ReadmeTableIsTheList) {
  std::vector<Reason> readme = readme_reasons();
  std::vector<Reason> list = listed_reasons();
  for (size_t i = 0; i < std::max(readme.size(), list.size()); ++i) {
    if (i >= readme.size())
      ADD_FAILURE() << "missing from README.md: " << list[i];
    else if (i >= list.size())
      ADD_FAILURE() << "in README.md, not in BPFNET_DROP_REASONS: " << readme[i];
    else
      EXPECT_EQ(readme[i], list[i]) << "README.md's drop reason row " << i + 1;
  }
}

TEST(DropReasonsTest, UnknownCodesAreNumbered) {
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_NO_BACKEND), "no-backend");
  EXPECT_EQ(drop_reason_name(BPFNET_DROP_TUNNEL_SPOOF), "tunnel-spoof");
  // The last code below the maximum: no list will reach it soon.
  EXPECT_EQ(drop_reason_name(BPFNET_REASON_MAX - 1), "reason-31");
  EXPECT_EQ(drop_reason_name(BPFNET_REASON_MAX), "reason-32");
  EXPECT_EQ(drop_reason_name(255), "reason-255");
  EXPECT_EQ(drop_reason_name(256), "reason-out-of-range");
}

}  // namespace
}  // namespace bpfnet::core
