#include "ctl/tabwriter.h"

#include <algorithm>

namespace bpfnet::ctl {
namespace {

int rune_count(std::string_view s) {
  // Counts UTF-8 code points: every byte that is not a continuation byte.
  return static_cast<int>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

TabWriter::TabWriter(int minwidth, int tabwidth, int padding, char padchar, unsigned flags)
    : minwidth_(std::max(minwidth, 0)),
      tabwidth_(std::max(tabwidth, 0)),
      padding_(std::max(padding, 0)),
      padchar_(padchar),
      flags_(padchar == '\t' ? (flags & ~kAlignRight) : flags) {
  reset();
}

void TabWriter::reset() {
  cell_ = Cell{};
  lines_.clear();
  lines_.emplace_back();
  widths_.clear();
}

int TabWriter::terminate_cell(bool htab) {
  cell_.htab = htab;
  cell_.width = rune_count(cell_.text);
  lines_.back().push_back(std::move(cell_));
  cell_ = Cell{};
  return static_cast<int>(lines_.back().size());
}

void TabWriter::write(std::string_view text) {
  for (char ch : text) {
    switch (ch) {
      case '\t':
      case '\v':
      case '\n':
      case '\f': {
        const int ncells = terminate_cell(ch == '\t');
        if (ch == '\n' || ch == '\f') {
          lines_.emplace_back();
          // A line with a single cell cannot influence later columns, so the
          // buffered block can be formatted now (Go does the same).
          if (ch == '\f' || ncells == 1) flush_into(out_);
        }
        break;
      }
      default:
        cell_.text.push_back(ch);
    }
  }
}

std::string TabWriter::flush() {
  flush_into(out_);
  std::string result = std::move(out_);
  out_.clear();
  return result;
}

void TabWriter::flush_into(std::string& out) {
  if (!cell_.text.empty()) terminate_cell(false);
  format(out, 0, lines_.size());
  reset();
}

void TabWriter::format(std::string& out, size_t line0, size_t line1) {
  const size_t column = widths_.size();
  for (size_t current = line0; current < line1; ++current) {
    if (column + 1 >= lines_[current].size()) continue;
    // A cell exists in this column: print the lines before the block, then
    // find the block's extent and width.
    write_lines(out, line0, current);
    line0 = current;

    int width = minwidth_;
    bool discardable = true;
    for (; current < line1; ++current) {
      const auto& line = lines_[current];
      if (column + 1 >= line.size()) break;
      const Cell& c = line[column];
      width = std::max(width, c.width + padding_);
      if (c.width > 0 || c.htab) discardable = false;
    }
    if (discardable && (flags_ & kDiscardEmptyColumns) != 0) width = 0;

    widths_.push_back(width);
    format(out, line0, current);
    widths_.pop_back();
    line0 = current;
    // Like Go, the loop increment skips the line that ended the block: it has
    // no cell in this column, so it cannot start another block.
  }
  write_lines(out, line0, line1);
}

void TabWriter::write_lines(std::string& out, size_t line0, size_t line1) {
  for (size_t i = line0; i < line1; ++i) {
    const auto& line = lines_[i];
    bool use_tabs = (flags_ & kTabIndent) != 0;
    for (size_t j = 0; j < line.size(); ++j) {
      const Cell& c = line[j];
      if (j > 0 && (flags_ & kDebug) != 0) out.push_back('|');
      if (c.text.empty()) {
        if (j < widths_.size()) write_padding(out, c.width, widths_[j], use_tabs);
        continue;
      }
      use_tabs = false;
      if ((flags_ & kAlignRight) == 0) {
        out += c.text;
        if (j < widths_.size()) write_padding(out, c.width, widths_[j], false);
      } else {
        if (j < widths_.size()) write_padding(out, c.width, widths_[j], false);
        out += c.text;
      }
    }
    // The last buffered line has no line break of its own.
    if (i + 1 == lines_.size()) {
      out += cell_.text;
    } else {
      out.push_back('\n');
    }
  }
}

void TabWriter::write_padding(std::string& out, int textw, int cellw, bool use_tabs) const {
  if (padchar_ == '\t' || use_tabs) {
    if (tabwidth_ == 0) return;
    cellw = (cellw + tabwidth_ - 1) / tabwidth_ * tabwidth_;
    const int n = cellw - textw;
    out.append(static_cast<size_t>((n + tabwidth_ - 1) / tabwidth_), '\t');
    return;
  }
  if (cellw > textw) out.append(static_cast<size_t>(cellw - textw), padchar_);
}

std::string docker_table(const std::vector<std::vector<std::string>>& rows) {
  TabWriter tw(10, 1, 3, ' ', 0);
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line.push_back('\t');
      line += row[i];
    }
    line.push_back('\n');
    tw.write(line);
  }
  return tw.flush();
}

}  // namespace bpfnet::ctl
