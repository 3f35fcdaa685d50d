#include "ctl/service_flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "core/numbers.h"

namespace bpfnet::ctl {
namespace {

using core::is_prime;
using core::parse_decimal;

// Limit of the numbers the service flags take (counts, seconds, milliseconds).
constexpr uint64_t kMaxNumber = INT32_MAX;

// A flag whose value is a DURATION: milliseconds, or a number followed by
// ms, s or m. Returns milliseconds.
std::optional<uint64_t> duration_flag(const VerbArgs& given, const std::string& key) {
  const auto value = given.string(key);
  if (!value) return std::nullopt;
  std::string_view number = *value;
  uint64_t unit_ms = 1;
  if (number.ends_with("ms")) {
    number.remove_suffix(2);
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
    unit_ms = 1000;
  } else if (number.ends_with("m")) {
    number.remove_suffix(1);
    unit_ms = 60'000;
  }
  const auto n = parse_decimal(number, kMaxNumber);
  if (!n || *n == 0) {
    throw given.invalid(
        key, *value,
        "expected a positive duration such as \"2s\", \"500ms\" or a number of milliseconds");
  }
  if (*n * unit_ms > kMaxNumber) {
    throw given.invalid(key, *value, fmt::format("at most {}ms", kMaxNumber));
  }
  return *n * unit_ms;
}

// One --port PORT[/PROTO] -> "PORT/PROTO".
std::string service_port(const VerbArgs& given, const std::string& spec) {
  const std::string_view text = spec;
  const size_t slash = text.find('/');
  const std::string_view proto = slash == std::string_view::npos ? "tcp" : text.substr(slash + 1);
  const auto port = parse_decimal(text.substr(0, slash), 65535);
  if (!port || *port == 0) {
    throw given.invalid("port", spec,
                        "expected PORT[/PROTO] with PORT from 1 to 65535, e.g. 80/tcp");
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") {
    throw given.invalid("port", spec, "PROTO must be tcp, udp or sctp");
  }
  return fmt::format("{}/{}", *port, proto);
}

}  // namespace

std::optional<uint64_t> count_flag(const VerbArgs& given, const std::string& key) {
  const auto value = given.string(key);
  if (!value) return std::nullopt;
  const auto n = parse_decimal(*value, kMaxNumber);
  if (!n || *n == 0) throw given.invalid(key, *value, "expected a positive integer");
  return n;
}

std::vector<std::string> service_ports_flag(const VerbArgs& given) {
  const std::vector<std::string> flags = given.list("port");
  if (flags.empty()) throw given.error("missing required flag --port");
  std::vector<std::string> ports;
  for (const std::string& flag : flags) {
    std::string port = service_port(given, flag);
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
      throw given.error(fmt::format("flag --port gives {} more than once", port));
    }
    ports.push_back(std::move(port));
  }
  return ports;
}

std::optional<uint64_t> table_size_flag(const VerbArgs& given) {
  const auto value = given.string("table-size");
  if (!value) return std::nullopt;
  const auto size = parse_decimal(*value, kMaxNumber);
  if (!size || !is_prime(*size)) {
    throw given.invalid("table-size", *value, "expected a prime number, e.g. 16381");
  }
  return size;
}

std::optional<std::string> affinity_flag(const VerbArgs& given) {
  const auto value = given.string("affinity");
  if (!value || *value == "none") return std::nullopt;
  constexpr std::string_view kClientIp = "client-ip";
  if (*value == kClientIp) return *value;
  if (value->starts_with("client-ip:")) {
    const auto seconds =
        parse_decimal(std::string_view(*value).substr(kClientIp.size() + 1), kMaxNumber);
    if (seconds && *seconds > 0) return fmt::format("{}:{}", kClientIp, *seconds);
  }
  throw given.invalid("affinity", *value,
                      "expected \"none\", \"client-ip\" or \"client-ip:SECONDS\" with SECONDS a "
                      "positive integer");
}

std::optional<Json> health_flags(const VerbArgs& given) {
  static const std::vector<std::string> kHttpOnly{"health-path", "health-expect"};
  static const std::vector<std::string> kAny{"health-interval", "health-timeout", "health-rise",
                                             "health-fall"};
  const auto type = given.string("health");
  if (!type) {
    for (const auto* keys : {&kHttpOnly, &kAny}) {
      for (const std::string& key : *keys) {
        if (given.given(key)) throw given.error(fmt::format("flag --{} needs --health", key));
      }
    }
    return std::nullopt;
  }
  if (*type != "tcp" && *type != "http") {
    throw given.invalid("health", *type, "expected \"tcp\" or \"http\"");
  }
  Json health = Json::object();
  health["type"] = *type;
  if (*type == "http") {
    const std::string path = given.string("health-path").value_or("/");
    if (path[0] != '/') {
      throw given.invalid("health-path", path, "expected a path starting with \"/\"");
    }
    health["path"] = path;
    uint64_t expect = 200;
    if (const auto value = given.string("health-expect")) {
      const auto code = parse_decimal(*value, 599);
      if (!code || *code < 100) {
        throw given.invalid("health-expect", *value,
                            "expected an HTTP status code from 100 to 599");
      }
      expect = *code;
    }
    health["expect"] = expect;
  } else {
    for (const std::string& key : kHttpOnly) {
      if (given.given(key)) throw given.error(fmt::format("flag --{} needs --health http", key));
    }
  }
  health["interval_ms"] = duration_flag(given, "health-interval").value_or(2000);
  health["timeout_ms"] = duration_flag(given, "health-timeout").value_or(1000);
  health["rise"] = count_flag(given, "health-rise").value_or(2);
  health["fall"] = count_flag(given, "health-fall").value_or(3);
  return health;
}

}  // namespace bpfnet::ctl
