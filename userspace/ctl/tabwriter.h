// A port of Go's text/tabwriter (without HTML filtering and escapes), which
// Docker uses for every table it prints: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0).
//
// Cells are terminated by '\t' (or the soft tab '\v'); lines by '\n' or '\f'.
// Tab-terminated cells in contiguous lines form a column; the text after the
// last tab of a line is not part of any column and is never padded. A line
// without tabs ends every column block (as does '\f').
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpfnet::ctl {

class TabWriter {
 public:
  // Same values as Go's flags of the same name.
  static constexpr unsigned kAlignRight = 1u << 2;
  static constexpr unsigned kDiscardEmptyColumns = 1u << 3;
  static constexpr unsigned kTabIndent = 1u << 4;
  static constexpr unsigned kDebug = 1u << 5;

  // minwidth: minimal cell width including padding; tabwidth: width of a tab
  // when padchar is '\t'; padding: added to a cell's width before computing
  // the column width. Negative values are clamped to 0.
  TabWriter(int minwidth, int tabwidth, int padding, char padchar, unsigned flags = 0);

  // Buffers text (may be called with partial lines).
  void write(std::string_view text);
  // Formats everything written so far and returns it; the writer is reset.
  std::string flush();

 private:
  struct Cell {
    std::string text;
    int width = 0;  // in UTF-8 code points
    bool htab = false;
  };

  int terminate_cell(bool htab);
  void flush_into(std::string& out);
  void format(std::string& out, size_t line0, size_t line1);
  void write_lines(std::string& out, size_t line0, size_t line1);
  void write_padding(std::string& out, int textw, int cellw, bool use_tabs) const;
  void reset();

  int minwidth_;
  int tabwidth_;
  int padding_;
  char padchar_;
  unsigned flags_;

  std::string out_;  // output produced by implicit flushes
  Cell cell_;
  std::vector<std::vector<Cell>> lines_;
  std::vector<int> widths_;
};

// Formats rows (each a list of cells; the first row is usually the header)
// exactly like Docker's table output: cells joined by '\t', each row ended by
// '\n', run through TabWriter(10, 1, 3, ' ', 0).
std::string docker_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace bpfnet::ctl
