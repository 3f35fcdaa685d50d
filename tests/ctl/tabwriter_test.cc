#include "ctl/tabwriter.h"

#include <gtest/gtest.h>

namespace bpfnet::ctl {
namespace {

// Docker's parameters: minwidth 10, tabwidth 1, padding 3, padchar ' ', no flags.
std::string docker(std::string_view text) {
  TabWriter tw(10, 1, 3, ' ', 0);
  tw.write(text);
  return tw.flush();
}

TEST(TabWriter, DockerNetworkLsLayout) {
  EXPECT_EQ(docker("NETWORK ID\tNAME\tDRIVER\tSCOPE\n"
                   "0123456789ab\tbridge\tbridge\tlocal\n"
                   "ba9876543210\tnone\tnull\tlocal\n"),
            "NETWORK ID     NAME      DRIVER    SCOPE\n"
            "0123456789ab   bridge    bridge    local\n"
            "ba9876543210   none      null      local\n");
}

TEST(TabWriter, MinWidthPadsShortCells) { EXPECT_EQ(docker("a\tb\n"), "a         b\n"); }

TEST(TabWriter, PaddingIsAddedToTheWidestCell) {
  // 11 characters + 3 padding = 14 > minwidth.
  EXPECT_EQ(docker("abcdefghijk\tx\nab\ty\n"),
            "abcdefghijk   x\n"
            "ab            y\n");
}

TEST(TabWriter, LastColumnIsNotPadded) {
  EXPECT_EQ(docker("a\tlong-last-cell\nb\tx\n"),
            "a         long-last-cell\n"
            "b         x\n");
}

TEST(TabWriter, EmptyCellsArePadded) {
  EXPECT_EQ(docker("\tb\nxyz\tc\n"),
            "          b\n"
            "xyz       c\n");
}

TEST(TabWriter, TrailingTabMakesTheLastColumnAligned) {
  // A tab-terminated last cell belongs to a column, so it is padded too.
  EXPECT_EQ(docker("a\tb\t\n"), "a         b         \n");
}

TEST(TabWriter, LineWithoutTabsEndsTheColumnBlock) {
  // The wide cell after the plain line must not widen the first block.
  EXPECT_EQ(docker("a\tb\nplain line\nwide-cell-here\tc\n"),
            "a         b\n"
            "plain line\n"
            "wide-cell-here   c\n");
}

TEST(TabWriter, BlankLineSeparatesTables) {
  EXPECT_EQ(docker("x\ty\n\nlonger-than-ten\tz\n"),
            "x         y\n"
            "\n"
            "longer-than-ten   z\n");
}

TEST(TabWriter, ColumnsMustBeContiguous) {
  // Go's documentation example: b and c are in distinct columns.
  TabWriter tw(0, 0, 1, '.', 0);
  tw.write("aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n");
  EXPECT_EQ(tw.flush(),
            "aaaa.bbb.d\n"
            "aa...b...dd\n"
            "a....\n"
            "aa...cccc.eee\n");
}

TEST(TabWriter, WidthCountsCodePointsNotBytes) {
  // "é" is two bytes but one column.
  EXPECT_EQ(docker("\xc3\xa9\tb\n"), "\xc3\xa9         b\n");
}

TEST(TabWriter, PartialWritesEqualOneWrite) {
  TabWriter tw(10, 1, 3, ' ', 0);
  tw.write("NETWORK");
  tw.write(" ID\tNA");
  tw.write("ME\n0123456789ab\t");
  tw.write("bridge\n");
  EXPECT_EQ(tw.flush(), docker("NETWORK ID\tNAME\n0123456789ab\tbridge\n"));
}

TEST(TabWriter, TextWithoutFinalNewlineIsKept) { EXPECT_EQ(docker("a\tb"), "a         b"); }

TEST(TabWriter, FlushResets) {
  TabWriter tw(10, 1, 3, ' ', 0);
  tw.write("a-very-long-cell\tb\n");
  EXPECT_EQ(tw.flush(), "a-very-long-cell   b\n");
  tw.write("c\td\n");
  EXPECT_EQ(tw.flush(), "c         d\n");
}

TEST(TabWriter, AlignRight) {
  TabWriter tw(0, 0, 1, ' ', TabWriter::kAlignRight);
  tw.write("1\t22\t\n333\t4\t\n");
  EXPECT_EQ(tw.flush(),
            "   1 22\n"
            " 333  4\n");
}

TEST(TabWriter, DebugMarksColumns) {
  TabWriter tw(0, 0, 1, ' ', TabWriter::kDebug);
  tw.write("a\tb\n");
  EXPECT_EQ(tw.flush(), "a |b\n");
}

TEST(TabWriter, TabPadding) {
  TabWriter tw(0, 8, 1, '\t', 0);
  tw.write("a\tb\nabcdefghi\tc\n");
  // Column width 10 rounds up to 16: one tab after the long cell, two after "a".
  EXPECT_EQ(tw.flush(), "a\t\tb\nabcdefghi\tc\n");
}

TEST(TabWriter, DiscardEmptyColumns) {
  TabWriter tw(0, 0, 1, '.', TabWriter::kDiscardEmptyColumns);
  tw.write("a\v\vb\n");  // the middle column is empty and soft-tab terminated
  EXPECT_EQ(tw.flush(), "a.b\n");
}

TEST(DockerTable, JoinsCellsWithTabs) {
  EXPECT_EQ(docker_table({{"NETWORK ID", "NAME", "DRIVER", "SCOPE"},
                          {"0123456789ab", "a", "bridge", "local"}}),
            "NETWORK ID     NAME      DRIVER    SCOPE\n"
            "0123456789ab   a         bridge    local\n");
}

TEST(DockerTable, HeaderOnly) {
  EXPECT_EQ(docker_table({{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}}),
            "NETWORK ID   NAME      DRIVER    SCOPE\n");
}

}  // namespace
}  // namespace bpfnet::ctl
