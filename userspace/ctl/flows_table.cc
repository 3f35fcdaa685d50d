#include "ctl/flows_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "ctl/json.h"
#include "ctl/render.h"

namespace bpfnet::ctl {
namespace {

// The fields a row of the table reads, in the order the daemon writes them
// (core/flows.cc flows_json_text), so that a key is found at its first try.
enum Field : uint8_t {
  kProto,
  kClient,
  kAddress,
  kService,
  kContainer,
  kNetwork,
  kServer,
  kNat,
  kSnat,
  kClientState,
  kServerState,
  kAgeMs,
  kIdleMs,
  kClientPackets,
  kClientBytes,
  kServerPackets,
  kServerBytes,
  kFields
};
constexpr std::array<std::string_view, kFields> kKeys = {
    "proto",          "client",      "address", "service",        "container",
    "network",        "server",      "nat",     "snat",           "client_state",
    "server_state",   "age_ms",      "idle_ms", "client_packets", "client_bytes",
    "server_packets", "server_bytes"};

// A value of a flat object: its text (a string's without the quotes, still
// escaped when `escaped`), or absent/null (empty, kind kNone).
struct Value {
  enum Kind : uint8_t { kNone, kString, kScalar } kind = kNone;
  bool escaped = false;
  std::string_view text;
};
using Row = std::array<Value, kFields>;

// A character of a number, true, false or null.
bool scalar_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '+' || c == '.';
}

[[noreturn]] void bad(std::string_view why, size_t at) {
  throw BadResult(fmt::format("expected an array of flows: {} at byte {}", why, at));
}

// One pass over an array of flat objects (string, number, true, false or
// null values): the scanner of the daemon's `flows` result.
class FlatArrayScanner {
 public:
  explicit FlatArrayScanner(std::string_view text) : t_(text) {}

  // Calls on_row(row, object_text) for each object.
  template <typename OnRow>
  void each(OnRow&& on_row) {
    skip_ws();
    expect('[');
    skip_ws();
    if (peek() == ']') return finish();
    for (;;) {
      const size_t begin = i_;
      Row row{};
      object(row);
      on_row(row, t_.substr(begin, i_ - begin));
      skip_ws();
      if (peek() == ']') return finish();
      expect(',');
      skip_ws();
    }
  }

 private:
  char peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r'))
      ++i_;
  }
  void expect(char c) {
    if (peek() != c) bad(fmt::format("'{}' expected", c), i_);
    ++i_;
  }
  void finish() {
    ++i_;  // ']'
    skip_ws();
    if (i_ != t_.size()) bad("text after the array", i_);
  }
  // A string's contents (i_ at its opening quote).
  std::string_view string(bool* escaped) {
    expect('"');
    const size_t begin = i_;
    *escaped = false;
    // A plain loop: find_first_of("\"\\") calls memchr per byte.
    for (size_t q = i_; q < t_.size(); ++q) {
      if (t_[q] == '"') {
        i_ = q + 1;
        return t_.substr(begin, q - begin);
      }
      if (t_[q] == '\\') {
        *escaped = true;
        ++q;  // the character it escapes
      }
    }
    bad("unterminated string", begin);
  }
  Value value() {
    Value v;
    if (peek() == '"') {
      v.kind = Value::kString;
      v.text = string(&v.escaped);
      return v;
    }
    const size_t begin = i_;
    while (i_ < t_.size() && scalar_char(t_[i_])) ++i_;
    v.text = t_.substr(begin, i_ - begin);
    if (v.text.empty()) bad("a string, number, true, false or null expected", begin);
    v.kind = v.text == "null" ? Value::kNone : Value::kScalar;
    return v;
  }
  void object(Row& row) {
    expect('{');
    skip_ws();
    if (peek() == '}') {
      ++i_;
      return;
    }
    size_t hint = 0;
    for (;;) {
      bool escaped = false;
      const std::string_view key = string(&escaped);
      skip_ws();
      expect(':');
      skip_ws();
      const Value v = value();
      for (size_t k = 0; k < kFields; ++k) {
        const size_t f = (hint + k) % kFields;
        if (kKeys[f] == key) {
          row[f] = v;
          hint = f + 1;
          break;
        }
      }
      skip_ws();
      if (peek() == '}') {
        ++i_;
        return;
      }
      expect(',');
      skip_ws();
    }
  }

  std::string_view t_;
  size_t i_ = 0;
};

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
  void append(const Value& v) {
    if (v.kind == Value::kNone) return;
    if (!v.escaped) {
      text_.append(v.text);
      return;
    }
    // Rare (names are validated): let the JSON library undo the escapes.
    const std::string quoted = fmt::format("\"{}\"", v.text);
    text_.append(Json::parse(quoted).get<std::string>());
  }
  void end_cell() { ends_.push_back(text_.size()); }
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

bool is_unsigned(const Value& v) {
  return v.kind == Value::kScalar && !v.text.empty() &&
         std::all_of(v.text.begin(), v.text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "4s", "3m12s", "2h05m": how long, as short as `docker ps` would say it.
void duration_cell(Cells& cells, const Value& ms) {
  if (!is_unsigned(ms)) return;
  uint64_t s = 0;
  for (char c : ms.text) s = s * 10 + uint64_t(c - '0');
  s /= 1000;
  if (s < 60)
    cells.append(fmt::format("{}s", s));
  else if (s < 3600)
    cells.append(fmt::format("{}m{:02}s", s / 60, s % 60));
  else
    cells.append(fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60));
}

void pair_cell(Cells& cells, const Value& a, const Value& b) {
  cells.append(a);
  cells.append("/");
  cells.append(b);
}

void row_cells(Cells& cells, const Row& r) {
  for (Field f : {kProto, kClient}) {
    cells.append(r[f]);
    cells.end_cell();
  }
  cells.append(r[kAddress]);
  if (r[kService].kind != Value::kNone && !r[kService].text.empty()) {
    cells.append(" (");
    cells.append(r[kService]);
    cells.append(")");
  }
  cells.end_cell();
  for (Field f : {kContainer, kNetwork, kServer}) {
    cells.append(r[f]);
    cells.end_cell();
  }
  cells.append(r[kNat]);
  if (r[kSnat].kind == Value::kString) {
    cells.append(" ");
    cells.append(r[kSnat]);
  }
  cells.end_cell();
  pair_cell(cells, r[kClientState], r[kServerState]);
  cells.end_cell();
  duration_cell(cells, r[kAgeMs]);
  cells.end_cell();
  duration_cell(cells, r[kIdleMs]);
  cells.end_cell();
  pair_cell(cells, r[kClientPackets], r[kServerPackets]);
  cells.end_cell();
  pair_cell(cells, r[kClientBytes], r[kServerBytes]);
  cells.end_cell();
}

}  // namespace

std::string flows_table(std::string_view result_text) {
  Cells cells;
  for (const char* h : {"PROTO", "CLIENT", "ADDRESS", "CONTAINER", "NETWORK", "SERVER", "NAT",
                        "STATE", "AGE", "IDLE", "PACKETS IN/OUT", "BYTES IN/OUT"}) {
    cells.append(h);
    cells.end_cell();
  }
  FlatArrayScanner(result_text).each([&](const Row& row, std::string_view) {
    row_cells(cells, row);
  });
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

std::string flows_json_lines(std::string_view result_text) {
  std::string out;
  out.reserve(result_text.size() + result_text.size() / 256 + 8);
  out.push_back('[');
  bool first = true;
  FlatArrayScanner(result_text).each([&](const Row&, std::string_view object) {
    out.append(first ? "\n" : ",\n");
    out.append(object);
    first = false;
  });
  out.append(first ? "]\n" : "\n]\n");
  return out;
}

}  // namespace bpfnet::ctl
