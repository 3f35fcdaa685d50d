#include "core/health.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/json_fields.h"

namespace bpfnet::core {
namespace {

constexpr std::string_view kTcpName = "tcp";
constexpr std::string_view kHttpName = "http";

std::string_view type_name(HealthCheck::Type type) {
  return type == HealthCheck::kHttp ? kHttpName : kTcpName;
}

void check_range(std::string_view field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    throw UserError(
        fmt::format("invalid health check {} {}: must be {}..{}", field, value, low, high));
  }
}

// A request-target: starts with '/', visible ASCII only (no spaces or
// control characters that would break the request line).
void check_path(std::string_view path) {
  bool ok = !path.empty() && path.front() == '/' && path.size() <= kMaxHealthPathLength &&
            std::all_of(path.begin(), path.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!ok) {
    throw UserError(fmt::format(
        "invalid health check path \"{}\": must start with / and have at most {} visible ASCII "
        "characters (no spaces)",
        path, kMaxHealthPathLength));
  }
}

std::optional<int64_t> optional_integer(JsonFields& fields, std::string_view key) {
  const nlohmann::json* value = fields.find(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned()) {
    uint64_t number = value->get<uint64_t>();
    // Beyond int64: report it as the largest, which every range check refuses.
    return number > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(number);
  }
  if (!value->is_number_integer()) fields.fail(key, "expected an integer");
  return value->get<int64_t>();
}

uint32_t saturating_increment(uint32_t n) { return n == UINT32_MAX ? n : n + 1; }

}  // namespace

HealthCheck make_health_check(const HealthCheckSpec& spec) {
  HealthCheck check;
  if (spec.type) {
    if (*spec.type == kTcpName) {
      check.type = HealthCheck::kTcp;
    } else if (*spec.type == kHttpName) {
      check.type = HealthCheck::kHttp;
    } else {
      throw UserError(fmt::format("invalid health check type \"{}\": expected \"tcp\" or \"http\"",
                                  *spec.type));
    }
  }
  if (check.type != HealthCheck::kHttp) {
    for (auto [field, given] :
         {std::pair{"path", spec.path.has_value()}, std::pair{"expect", spec.expect.has_value()}}) {
      if (given) {
        throw UserError(
            fmt::format("health check {} applies to http checks only (type is tcp)", field));
      }
    }
  }
  if (spec.path) {
    check_path(*spec.path);
    check.path = *spec.path;
  }
  if (spec.expect) {
    check_range("expect", *spec.expect, 100, 599);
    check.expect = static_cast<int>(*spec.expect);
  }
  if (spec.interval_ms) {
    check_range("interval_ms", *spec.interval_ms, kMinHealthIntervalMs, kMaxHealthIntervalMs);
    check.interval_ms = static_cast<uint32_t>(*spec.interval_ms);
  }
  if (spec.timeout_ms) {
    check_range("timeout_ms", *spec.timeout_ms, 1, kMaxHealthIntervalMs);
    check.timeout_ms = static_cast<uint32_t>(*spec.timeout_ms);
  }
  if (spec.rise) {
    check_range("rise", *spec.rise, 1, kMaxHealthThreshold);
    check.rise = static_cast<uint32_t>(*spec.rise);
  }
  if (spec.fall) {
    check_range("fall", *spec.fall, 1, kMaxHealthThreshold);
    check.fall = static_cast<uint32_t>(*spec.fall);
  }
  validate_health_check(check);
  return check;
}

void validate_health_check(const HealthCheck& check) {
  if (check.type != HealthCheck::kTcp && check.type != HealthCheck::kHttp) {
    throw UserError(fmt::format("invalid health check type {}", static_cast<int>(check.type)));
  }
  if (check.type == HealthCheck::kTcp && (check.path != "/" || check.expect != 200)) {
    throw UserError("health check path and expect apply to http checks only (type is tcp)");
  }
  check_path(check.path);
  check_range("expect", check.expect, 100, 599);
  check_range("interval_ms", check.interval_ms, kMinHealthIntervalMs, kMaxHealthIntervalMs);
  check_range("timeout_ms", check.timeout_ms, 1, kMaxHealthIntervalMs);
  check_range("rise", check.rise, 1, kMaxHealthThreshold);
  check_range("fall", check.fall, 1, kMaxHealthThreshold);
  if (check.timeout_ms > check.interval_ms) {
    throw UserError(fmt::format(
        "invalid health check timeout_ms {}: must not exceed interval_ms {} (probes would overlap)",
        check.timeout_ms, check.interval_ms));
  }
}

HealthCheckSpec health_spec_from_json(const nlohmann::json& json, std::string_view root,
                                      const std::string& path) {
  JsonFields fields(json, root, path);
  HealthCheckSpec spec;
  spec.type = fields.optional_string("type");
  spec.path = fields.optional_string("path");
  spec.expect = optional_integer(fields, "expect");
  spec.interval_ms = optional_integer(fields, "interval_ms");
  spec.timeout_ms = optional_integer(fields, "timeout_ms");
  spec.rise = optional_integer(fields, "rise");
  spec.fall = optional_integer(fields, "fall");
  fields.reject_unknown_keys();
  return spec;
}

nlohmann::json health_to_json(const HealthCheck& check) {
  nlohmann::json json = {
      {"type", type_name(check.type)},
      {"interval_ms", check.interval_ms},
      {"timeout_ms", check.timeout_ms},
      {"rise", check.rise},
      {"fall", check.fall},
  };
  if (check.type == HealthCheck::kHttp) {
    json["path"] = check.path;
    json["expect"] = check.expect;
  }
  return json;
}

bool record(HealthState& state, const HealthCheck& check, bool ok, const std::string& error) {
  if (ok) {
    state.failures = 0;
    state.successes = saturating_increment(state.successes);
    bool flipped = !state.healthy && state.successes >= std::max<uint32_t>(check.rise, 1);
    if (flipped) state.healthy = true;
    if (state.healthy) state.last_error.clear();
    return flipped;
  }
  state.successes = 0;
  state.failures = saturating_increment(state.failures);
  state.last_error = error.empty() ? std::string("probe failed") : error;
  bool flipped = state.healthy && state.failures >= std::max<uint32_t>(check.fall, 1);
  if (flipped) state.healthy = false;
  return flipped;
}

}  // namespace bpfnet::core
