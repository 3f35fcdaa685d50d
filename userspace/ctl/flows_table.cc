#include "ctl/flows_table.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "ctl/render.h"

namespace bpfnet::ctl {
namespace {

constexpr size_t kColumns = 12;

int rune_count(std::string_view s) {
  return static_cast<int>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The cells of every row, one after the other in one string (no allocation
// per cell): cell k ends at ends[k].
class Cells {
 public:
  void append(std::string_view text) { text_.append(text); }
  template <typename Format, typename... Args>
  void format(const Format& format, const Args&... args) {
    fmt::format_to(std::back_inserter(text_), format, args...);
  }
  void append_endpoint(core::Ipv4 ip, uint16_t port) {
    char text[core::kEndpointTextMax];
    text_.append(text, core::write_endpoint(text, ip, port));
  }
  // "A/B" of two numbers.
  void append_pair(uint64_t a, uint64_t b) {
    char text[41];
    char* at = std::to_chars(text, text + 20, a).ptr;
    *at++ = '/';
    text_.append(text, std::to_chars(at, text + sizeof text, b).ptr);
  }
  void end_cell() { ends_.push_back(text_.size()); }
  // Room for `rows` rows of kColumns cells, ~15 bytes each.
  void reserve(size_t rows) {
    text_.reserve(rows * kColumns * 15);
    ends_.reserve(rows * kColumns);
  }
  size_t size() const { return ends_.size(); }
  std::string_view operator[](size_t k) const {
    const size_t begin = k ? ends_[k - 1] : 0;
    return std::string_view(text_).substr(begin, ends_[k] - begin);
  }
  size_t bytes() const { return text_.size(); }

 private:
  std::string text_;
  std::vector<size_t> ends_;
};

// "4s", "3m12s", "2h05m": how long, as short as `docker ps` would say it.
void duration_cell(Cells& cells, uint64_t ns) {
  const uint64_t s = ns / 1'000'000'000;
  if (s < 60)
    cells.format(FMT_COMPILE("{}s"), s);
  else if (s < 3600)
    cells.format(FMT_COMPILE("{}m{:02}s"), s / 60, s % 60);
  else
    cells.format(FMT_COMPILE("{}h{:02}m"), s / 3600, (s / 60) % 60);
}

void row_cells(Cells& cells, const core::FlowRow& r) {
  cells.append(core::flow_proto_name(r.proto));
  cells.end_cell();
  cells.append_endpoint(r.client_ip, r.client_port);
  cells.end_cell();
  cells.append_endpoint(r.address_ip, r.address_port);
  if (!r.service.empty()) cells.format(FMT_COMPILE(" ({})"), r.service);
  cells.end_cell();
  for (std::string_view name : {r.container, r.network}) {
    cells.append(name);
    cells.end_cell();
  }
  cells.append_endpoint(r.server_ip, r.server_port);
  cells.end_cell();
  cells.append(r.nat);
  if (r.snat_ip.value != 0 || r.snat_port) {
    cells.append(" ");
    cells.append_endpoint(r.snat_ip, r.snat_port);
  }
  cells.end_cell();
  cells.append(core::flow_state_name(r.client_state));
  cells.append("/");
  cells.append(core::flow_state_name(r.server_state));
  cells.end_cell();
  duration_cell(cells, r.age_ns);
  cells.end_cell();
  duration_cell(cells, r.idle_ns);
  cells.end_cell();
  cells.append_pair(r.client_packets, r.server_packets);
  cells.end_cell();
  cells.append_pair(r.client_bytes, r.server_bytes);
  cells.end_cell();
}

}  // namespace

core::DecodedFlows decode_flows(std::string_view result_text) {
  try {
    return core::decode_flows_rows(result_text);
  } catch (const core::UserError& e) {
    throw BadResult(e.what());
  }
}

std::string flows_table(const std::vector<core::FlowRow>& rows) {
  Cells cells;
  cells.reserve(rows.size() + 1);
  for (const char* h : {"PROTO", "CLIENT", "ADDRESS", "CONTAINER", "NETWORK", "SERVER", "NAT",
                        "STATE", "AGE", "IDLE", "PACKETS IN/OUT", "BYTES IN/OUT"}) {
    cells.append(h);
    cells.end_cell();
  }
  for (const core::FlowRow& row : rows) row_cells(cells, row);
  // docker_table's layout (ctl/tabwriter.h, minwidth 10, padding 3): every
  // column but the last as wide as its widest cell plus the padding.
  std::array<int, kColumns> width{};
  for (size_t k = 0; k < cells.size(); ++k) {
    const size_t c = k % kColumns;
    if (c + 1 < kColumns) width[c] = std::max(width[c], rune_count(cells[k]) + 3);
  }
  for (int& w : width) w = std::max(w, 10);
  std::string out;
  out.reserve(cells.bytes() + cells.size() / kColumns * 64);
  for (size_t k = 0; k < cells.size(); ++k) {
    const size_t c = k % kColumns;
    const std::string_view text = cells[k];
    out.append(text);
    if (c + 1 < kColumns)
      out.append(static_cast<size_t>(std::max(0, width[c] - rune_count(text))), ' ');
    else
      out.push_back('\n');
  }
  return out;
}

std::string flows_json_lines(const std::vector<core::FlowRow>& rows) {
  return core::flows_json_text(rows, core::FlowsLayout::kLinePerFlow);
}

}  // namespace bpfnet::ctl
