// Health checks of service backends: the check's settings, how a request
// states them, and the pure rise/fall state machine the daemon feeds with
// the outcome of every probe (the probing itself is the daemon's).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace bpfnet::core {

struct HealthCheck {
  enum Type : uint8_t { kTcp, kHttp };
  Type type = kTcp;             // TCP connect, or HTTP GET `path` expecting `expect`
  std::string path = "/";       // http only; "/" for tcp
  int expect = 200;             // http only; 200 for tcp
  uint32_t interval_ms = 2000;  // between the starts of two probes
  uint32_t timeout_ms = 1000;   // a probe not done by then failed; <= interval_ms
  uint32_t rise = 2;            // consecutive successes that bring a backend back
  uint32_t fall = 3;            // consecutive failures that take it out

  bool operator==(const HealthCheck&) const = default;
};

inline constexpr uint32_t kMinHealthIntervalMs = 100;
inline constexpr uint32_t kMaxHealthIntervalMs = 3600000;  // one hour
inline constexpr uint32_t kMaxHealthThreshold = 100;       // rise and fall
inline constexpr size_t kMaxHealthPathLength = 1024;

// A health check as a request or a config file states it: every field
// optional, defaults from HealthCheck. Integers are wide so that a negative
// or huge value reaches make_health_check and is reported with its value.
struct HealthCheckSpec {
  std::optional<std::string> type;  // "tcp" or "http"
  std::optional<std::string> path;
  std::optional<int64_t> expect;
  std::optional<int64_t> interval_ms;
  std::optional<int64_t> timeout_ms;
  std::optional<int64_t> rise;
  std::optional<int64_t> fall;

  bool operator==(const HealthCheckSpec&) const = default;
};

// Applies the defaults and validates. Throws UserError naming the field and
// value, e.g. `invalid health check interval_ms 50: must be 100..3600000`,
// `invalid health check type "udp": expected "tcp" or "http"`,
// `health check path applies to http checks only (type is tcp)`.
HealthCheck make_health_check(const HealthCheckSpec& spec);

// The same rules for a HealthCheck built another way (the state file).
void validate_health_check(const HealthCheck& check);

// The shape of a `health` object: {"type","path","expect","interval_ms",
// "timeout_ms","rise","fall"}, all optional, no other keys. Values are left
// to make_health_check. Throws UserError `ROOT: PATH.rise: expected an
// integer`.
HealthCheckSpec health_spec_from_json(const nlohmann::json& json, std::string_view root,
                                      const std::string& path);

// {"type","interval_ms","timeout_ms","rise","fall"} plus "path" and "expect"
// for http checks: the shape health_spec_from_json reads back.
nlohmann::json health_to_json(const HealthCheck& check);

// What the daemon knows about one backend between probes. A new backend
// starts healthy, as Docker (a "starting" container is not unhealthy) and
// IPVS/keepalived do: it takes traffic at once and `fall` failed probes take
// it out. Counters saturate instead of wrapping.
struct HealthState {
  bool healthy = true;
  uint32_t successes = 0;  // consecutive
  uint32_t failures = 0;   // consecutive
  // The error of the last failed probe while the backend is failing or
  // unhealthy; cleared by a success that leaves it healthy.
  std::string last_error;

  bool operator==(const HealthState&) const = default;
};

// Records one probe and returns true when `healthy` flips: healthy ->
// unhealthy after `fall` consecutive failures, unhealthy -> healthy after
// `rise` consecutive successes (a threshold of 0 counts as 1). `error`
// describes a failure (empty: "probe failed"); it is ignored when ok.
bool record(HealthState& state, const HealthCheck& check, bool ok, const std::string& error);

}  // namespace bpfnet::core
