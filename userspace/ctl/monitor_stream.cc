#include "ctl/monitor_stream.h"

#include <fmt/format.h>

#include <ctime>

#include "core/packet_summary.h"

namespace bpfnet::ctl {
namespace {

constexpr size_t kMaxCapture = 128;

[[noreturn]] void bad(std::string_view what) {
  throw ProtocolError(fmt::format("bpfnetctl: malformed monitor line: {}", what));
}

std::string string_field(const Json& o, const char* key, bool required = true) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (required) bad(fmt::format("no \"{}\"", key));
    return "";
  }
  if (!it->is_string()) bad(fmt::format("\"{}\" is not a string", key));
  return it->get<std::string>();
}

uint64_t unsigned_field(const Json& o, const char* key, uint64_t max) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_unsigned()) bad(fmt::format("\"{}\" is not a count", key));
  const uint64_t v = it->get<uint64_t>();
  if (v > max) bad(fmt::format("\"{}\" out of range", key));
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<uint8_t> unhex(const std::string& s) {
  if (s.size() % 2 || s.size() / 2 > kMaxCapture) bad("\"packet\" is not up to 128 bytes of hex");
  std::vector<uint8_t> out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0) bad("\"packet\" is not hex");
    out.push_back(uint8_t(hi << 4 | lo));
  }
  return out;
}

std::optional<MonitorPlace> place(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) bad(fmt::format("\"{}\" is not an object", key));
  MonitorPlace p;
  p.ifindex = uint32_t(unsigned_field(*it, "ifindex", UINT32_MAX));
  p.interface = string_field(*it, "interface", false);
  p.container = string_field(*it, "container", false);
  p.network = string_field(*it, "network", false);
  return p;
}

std::vector<std::string> string_list(const Json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (!it->is_array()) bad(fmt::format("\"{}\" is not a list", key));
  std::vector<std::string> out;
  for (const Json& v : *it) {
    if (!v.is_string()) bad(fmt::format("\"{}\" holds a non-string", key));
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<MonitorFlow> flow_of(const Json& e) {
  auto it = e.find("flow");
  if (it == e.end()) return std::nullopt;
  if (!it->is_object()) bad("\"flow\" is not an object");
  const Json& j = *it;
  MonitorFlow f;
  f.phase = string_field(j, "phase");
  if (f.phase != "start" && f.phase != "end")
    bad(fmt::format("unknown flow phase \"{}\"", f.phase));
  f.end = string_field(j, "end", false);
  f.proto = string_field(j, "proto");
  f.src = string_field(j, "src");
  f.dst = string_field(j, "dst");
  f.xlat_src = string_field(j, "xlat_src", false);
  f.xlat_dst = string_field(j, "xlat_dst", false);
  f.nat = string_list(j, "nat");
  f.packets_orig = unsigned_field(j, "packets_orig", UINT64_MAX);
  f.bytes_orig = unsigned_field(j, "bytes_orig", UINT64_MAX);
  f.packets_reply = unsigned_field(j, "packets_reply", UINT64_MAX);
  f.bytes_reply = unsigned_field(j, "bytes_reply", UINT64_MAX);
  f.age_ns = unsigned_field(j, "age_ns", UINT64_MAX);
  return f;
}

// "1.3 kB", as tcpdump-like tools count bytes (powers of 1000).
std::string bytes_text(uint64_t n) {
  if (n < 1000) return fmt::format("{} B", n);
  if (n < 1'000'000) return fmt::format("{:.1f} kB", double(n) / 1e3);
  if (n < 1'000'000'000) return fmt::format("{:.1f} MB", double(n) / 1e6);
  return fmt::format("{:.1f} GB", double(n) / 1e9);
}

std::string format_flow(const MonitorEventLine& e, const MonitorFlow& f) {
  std::string s = fmt::format("FLOW {} {} {} -> {}", f.phase, f.proto, f.src, f.dst);
  std::string nat;
  for (const std::string& kind : f.nat) {
    const std::string& to = kind == "dnat" ? f.xlat_dst : f.xlat_src;
    nat += fmt::format("{}{} {}", nat.empty() ? "" : ", ", kind, to);
  }
  if (!nat.empty()) s += " (" + nat + ")";
  if (!e.container.empty()) s += fmt::format(" {} [{}]", e.container, e.network);
  if (f.phase == "end") {
    s += fmt::format(": {} pkts/{} ->, {} pkts/{} <-, {:.1f} s", f.packets_orig,
                     bytes_text(f.bytes_orig), f.packets_reply, bytes_text(f.bytes_reply),
                     double(f.age_ns) / 1e9);
    if (!f.end.empty()) s += ", " + f.end;
  }
  return s;
}

std::string describe(const MonitorPlace& p) {
  const std::string iface = p.interface.empty() ? fmt::format("if{}", p.ifindex) : p.interface;
  if (p.container.empty()) return iface;
  return fmt::format("{} ({}) {}", p.container, p.network, iface);
}

std::string local_time(uint64_t unix_ns) {
  const time_t secs = time_t(unix_ns / 1'000'000'000ULL);
  tm t{};
  localtime_r(&secs, &t);
  return fmt::format("{:02}:{:02}:{:02}.{:06}", t.tm_hour, t.tm_min, t.tm_sec,
                     (unix_ns % 1'000'000'000ULL) / 1000);
}

}  // namespace

MonitorStreamItem parse_monitor_line(std::string_view line) {
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad("not a JSON object");
  MonitorStreamItem item;
  if (j.contains("lost")) {
    item.lost = unsigned_field(j, "lost", UINT64_MAX);
    return item;
  }
  auto it = j.find("event");
  if (it == j.end() || !it->is_object()) bad("neither an event nor a lost count");
  const Json& e = *it;
  MonitorEventLine ev;
  ev.type = string_field(e, "type");
  if (ev.type != "drop" && ev.type != "trace" && ev.type != "flow")
    bad(fmt::format("unknown event type \"{}\"", ev.type));
  ev.reason = string_field(e, "reason", ev.type == "drop");
  ev.time_unix_ns = unsigned_field(e, "time_unix_ns", UINT64_MAX);
  ev.hook = string_field(e, "hook", false);
  ev.dir = string_field(e, "dir", false);
  ev.orig_len = uint32_t(unsigned_field(e, "orig_len", UINT32_MAX));
  ev.packet = unhex(string_field(e, "packet"));
  if (ev.packet.size() > ev.orig_len) bad("more bytes captured than the packet had");
  ev.at = place(e, "at");
  ev.to = place(e, "to");
  ev.flow = flow_of(e);
  if (ev.type == "flow" && !ev.flow) bad("a flow event without \"flow\"");
  ev.container = string_field(e, "container", false);
  ev.network = string_field(e, "network", false);
  ev.raw = e;
  item.event = std::move(ev);
  return item;
}

std::string format_event(const MonitorEventLine& e) {
  if (e.flow) return local_time(e.time_unix_ns) + " " + format_flow(e, *e.flow);
  std::string s = local_time(e.time_unix_ns) + " " + e.type;
  if (!e.reason.empty()) s += " " + e.reason;
  if (e.at) s += " " + describe(*e.at);
  if (!e.dir.empty()) s += " " + e.dir;
  if (e.to) s += " -> " + describe(*e.to);
  s += ": " + core::summarize_packet(e.packet).text;
  return s;
}

std::string format_event_json(const MonitorEventLine& e) {
  Json j = e.raw;
  j["summary"] = e.flow ? format_flow(e, *e.flow) : core::summarize_packet(e.packet).text;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void MonitorSummary::count(const MonitorEventLine& e) {
  ++events_;
  if (e.flow) {
    ++by_kind_["flow " + e.flow->phase];
    return;
  }
  ++by_kind_[e.reason.empty() ? e.type : e.type + " " + e.reason];
}

std::string MonitorSummary::render() const {
  std::string s = fmt::format("{} events", events_);
  for (const auto& [kind, n] : by_kind_) s += fmt::format("\n  {}: {}", kind, n);
  s += fmt::format("\n{} events lost (rate limit, full ring or a slow reader)\n", lost_);
  return s;
}

Json MonitorSummary::to_json() const {
  Json by = Json::object();
  for (const auto& [kind, n] : by_kind_) by[kind] = n;
  return Json{{"summary", {{"events", events_}, {"by_kind", by}, {"lost", lost_}}}};
}

}  // namespace bpfnet::ctl
