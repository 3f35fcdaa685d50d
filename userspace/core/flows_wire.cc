#include "core/flows_wire.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "core/error.h"

namespace bpfnet::core {
namespace {

constexpr uint64_t kMs = 1'000'000;

// Names come from validated state (Docker's name rules), but the writer
// must not trust that: quotes, backslashes and control bytes are escaped.
void put_string(fmt::memory_buffer& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fmt::format_to(fmt::appender(out), "\\u{:04x}", int(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void put_endpoint(fmt::memory_buffer& out, Ipv4 ip, uint16_t port) {
  char text[kEndpointTextMax + 2];
  text[0] = '"';
  char* end = write_endpoint(text + 1, ip, port);
  *end++ = '"';
  out.append(text, end);
}

void put(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

void put_number(fmt::memory_buffer& out, uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

void put_object(fmt::memory_buffer& out, const FlowRow& r) {
  auto key = [&](std::string_view name) {
    put(out, ",\"");
    put(out, name);
    put(out, "\":");
  };
  put(out, "{\"proto\":");
  put_string(out, flow_proto_name(r.proto));
  key("client");
  put_endpoint(out, r.client_ip, r.client_port);
  key("address");
  put_endpoint(out, r.address_ip, r.address_port);
  const std::pair<std::string_view, std::string_view> names[] = {{"address_kind", r.address_kind},
                                                                 {"service", r.service},
                                                                 {"container", r.container},
                                                                 {"network", r.network}};
  for (const auto& [name, text] : names) {
    key(name);
    put_string(out, text);
  }
  key("server");
  put_endpoint(out, r.server_ip, r.server_port);
  key("nat");
  put_string(out, r.nat);
  key("snat");
  if (r.snat_ip.value != 0 || r.snat_port)
    put_endpoint(out, r.snat_ip, r.snat_port);
  else
    put(out, "null");
  key("client_state");
  put_string(out, flow_state_name(r.client_state));
  key("server_state");
  put_string(out, flow_state_name(r.server_state));
  const std::pair<std::string_view, uint64_t> numbers[] = {
      {"age_ms", r.age_ns / kMs},           {"idle_ms", r.idle_ns / kMs},
      {"client_packets", r.client_packets}, {"client_bytes", r.client_bytes},
      {"server_packets", r.server_packets}, {"server_bytes", r.server_bytes}};
  for (const auto& [name, n] : numbers) {
    key(name);
    put_number(out, n);
  }
  out.push_back('}');
}

// The names of the rows, each once, by where its text is: the rows' views
// point into the state, so equal names are mostly the same pointer (a name
// seen at two places is written twice, which is harmless).
class NameTable {
 public:
  uint32_t index(std::string_view name) {
    auto [it, added] = index_.try_emplace(Key{name.data(), name.size()}, uint32_t(names_.size()));
    if (added) names_.push_back(name);
    return it->second;
  }
  const std::vector<std::string_view>& names() const { return names_; }

 private:
  struct Key {
    const char* data;
    size_t size;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>{}(k.data) ^ (k.size * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::unordered_map<Key, uint32_t, KeyHash> index_;
  std::vector<std::string_view> names_;
};

// The rows format's scanner: strict (the daemon writes no other shape), one
// pass, no document built.
class RowsScanner {
 public:
  explicit RowsScanner(std::string_view text) : t_(text) {}

  DecodedFlows decode() {
    DecodedFlows out;
    skip_ws();
    expect('{');
    key("names");
    expect('[');
    if (!take(']')) {
      do out.names.push_back(string());
      while (take(','));
      expect(']');
    }
    expect(',');
    key("rows");
    expect('[');
    // A row is at least 46 bytes (22 numbers, their commas, brackets): room
    // for all at once, no copy of a growing array (only pages written are
    // touched).
    out.rows.reserve((t_.size() - i_) / 46 + 1);
    if (!take(']')) {
      do out.rows.push_back(row(out.names));
      while (take(','));
      expect(']');
    }
    expect('}');
    if (i_ != t_.size()) bad("text after the result");
    return out;
  }

 private:
  [[noreturn]] void bad(std::string_view why) const {
    throw UserError(fmt::format("flows: bad rows result: {} at byte {}", why, i_));
  }
  void skip_ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r'))
      ++i_;
  }
  bool take(char c) {
    if (i_ >= t_.size() || t_[i_] != c) return false;
    ++i_;
    skip_ws();
    return true;
  }
  void expect(char c) {
    if (!take(c)) bad(fmt::format("'{}' expected", c));
  }
  void key(std::string_view name) {
    if (string() != name) bad(fmt::format("\"{}\" expected", name));
    expect(':');
  }
  // A string, read by the JSON library: its escapes undone, and refused
  // when it is not UTF-8 or holds a raw control byte, as JSON says (the
  // names are few: one each, not one per row).
  std::string string() {
    if (i_ >= t_.size() || t_[i_] != '"') bad("a string expected");
    const size_t begin = i_;
    for (size_t q = i_ + 1; q < t_.size(); ++q) {
      if (t_[q] == '"') {
        i_ = q + 1;
        const std::string_view quoted = t_.substr(begin, i_ - begin);
        skip_ws();
        try {
          return nlohmann::json::parse(quoted).get<std::string>();
        } catch (const nlohmann::json::exception&) {
          i_ = begin;
          bad("a bad string");
        }
      }
      if (t_[q] == '\\') ++q;  // the character it escapes
    }
    bad("an unterminated string");
  }
  uint64_t number(uint64_t max) {
    uint64_t n = 0;
    const auto [end, err] = std::from_chars(t_.data() + i_, t_.data() + t_.size(), n);
    if (err == std::errc::result_out_of_range || (err == std::errc() && n > max))
      bad(fmt::format("a number over {}", max));
    if (err != std::errc() || (end - t_.data() > static_cast<ptrdiff_t>(i_ + 1) && t_[i_] == '0'))
      bad("an unsigned number expected");
    i_ = size_t(end - t_.data());
    skip_ws();
    return n;
  }
  template <typename T>
  void number_column(T& field) {
    field = T(number(std::numeric_limits<T>::max()));
  }
  void name_column(std::string_view& field, const std::vector<std::string>& names) {
    const size_t at = i_;
    const uint64_t k = number(UINT32_MAX);
    if (k >= names.size()) {
      i_ = at;
      bad(fmt::format("name {} of {}", k, names.size()));
    }
    field = names[k];
  }
  FlowRow row(const std::vector<std::string>& names) {
    FlowRow r;
    expect('[');
    bool first = true;
    auto sep = [&] {
      if (!first) expect(',');
      first = false;
    };
#define BPFNET_DECODE_number(field) number_column(r.field);
#define BPFNET_DECODE_ip(field) r.field = Ipv4{uint32_t(number(UINT32_MAX))};
#define BPFNET_DECODE_name(field) name_column(r.field, names);
#define BPFNET_DECODE_ms(field) r.field = number(UINT64_MAX / kMs) * kMs;
#define BPFNET_DECODE_COLUMN(field, kind) \
  sep();                                  \
  BPFNET_DECODE_##kind(field)
    BPFNET_FLOW_COLUMNS(BPFNET_DECODE_COLUMN)
#undef BPFNET_DECODE_COLUMN
#undef BPFNET_DECODE_ms
#undef BPFNET_DECODE_name
#undef BPFNET_DECODE_ip
#undef BPFNET_DECODE_number
    if (!take(']')) bad("']' expected (a row has " + std::to_string(kColumns) + " columns)");
    return r;
  }

#define BPFNET_COUNT_COLUMN(field, kind) +1
  static constexpr size_t kColumns = 0 BPFNET_FLOW_COLUMNS(BPFNET_COUNT_COLUMN);
#undef BPFNET_COUNT_COLUMN

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

std::string flows_json_text(const std::vector<FlowRow>& rows, FlowsLayout layout) {
  const bool lines = layout == FlowsLayout::kLinePerFlow;
  if (lines && rows.empty()) return "[]\n";
  fmt::memory_buffer out;
  out.reserve(rows.size() * 400 + 8);
  out.push_back('[');
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out.push_back(',');
    if (lines) out.push_back('\n');
    put_object(out, rows[i]);
  }
  put(out, lines ? "\n]\n" : "]");
  return fmt::to_string(out);
}

// Written directly with to_chars: the format string of fmt costs more than
// the digits here (22 numbers a row).
std::string flows_rows_text(const std::vector<FlowRow>& rows) {
  NameTable names;
  fmt::memory_buffer body;
  body.reserve(rows.size() * 112 + 16);
  for (size_t i = 0; i < rows.size(); ++i) {
    const FlowRow& r = rows[i];
    put(body, i ? ",[" : "[");
    bool first = true;
    auto sep = [&] {
      if (!first) body.push_back(',');
      first = false;
    };
#define BPFNET_ENCODE_number(field) put_number(body, r.field);
#define BPFNET_ENCODE_ip(field) put_number(body, r.field.value);
#define BPFNET_ENCODE_name(field) put_number(body, names.index(r.field));
#define BPFNET_ENCODE_ms(field) put_number(body, r.field / kMs);
#define BPFNET_ENCODE_COLUMN(field, kind) \
  sep();                                  \
  BPFNET_ENCODE_##kind(field)
    BPFNET_FLOW_COLUMNS(BPFNET_ENCODE_COLUMN)
#undef BPFNET_ENCODE_COLUMN
#undef BPFNET_ENCODE_ms
#undef BPFNET_ENCODE_name
#undef BPFNET_ENCODE_ip
#undef BPFNET_ENCODE_number
    body.push_back(']');
  }
  fmt::memory_buffer head;
  put(head, "{\"names\":[");
  for (size_t k = 0; k < names.names().size(); ++k) {
    if (k) head.push_back(',');
    put_string(head, names.names()[k]);
  }
  put(head, "],\"rows\":[");
  std::string out;
  out.reserve(head.size() + body.size() + 2);
  out.append(head.data(), head.size());
  out.append(body.data(), body.size());
  out.append("]}");
  return out;
}

DecodedFlows decode_flows_rows(std::string_view text) { return RowsScanner(text).decode(); }

char* write_endpoint(char* at, Ipv4 ip, uint16_t port) {
  char* const end = at + kEndpointTextMax;
  for (int shift = 24; shift >= 0; shift -= 8) {
    at = std::to_chars(at, end, (ip.value >> shift) & 0xff).ptr;
    *at++ = shift ? '.' : ':';
  }
  return std::to_chars(at, end, port).ptr;
}

}  // namespace bpfnet::core
