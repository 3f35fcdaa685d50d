// Health checks: settings, their JSON, and the rise/fall state machine.
#include "core/health.h"

#include <gtest/gtest.h>

#include <functional>

#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::error_of;

TEST(HealthCheckTest, DefaultsAreTcpEveryTwoSeconds) {
  HealthCheck check = make_health_check({});
  EXPECT_EQ(check, HealthCheck{});
  EXPECT_EQ(check.type, HealthCheck::kTcp);
  EXPECT_EQ(check.interval_ms, 2000u);
  EXPECT_EQ(check.timeout_ms, 1000u);
  EXPECT_EQ(check.rise, 2u);
  EXPECT_EQ(check.fall, 3u);
  EXPECT_EQ(check.path, "/");
  EXPECT_EQ(check.expect, 200);
  EXPECT_NO_THROW(validate_health_check(check));
}

TEST(HealthCheckTest, HttpTakesPathAndExpectedStatus) {
  HealthCheckSpec spec;
  spec.type = "http";
  spec.path = "/healthz?full=1";
  spec.expect = 204;
  spec.interval_ms = 500;
  spec.timeout_ms = 500;
  spec.rise = 1;
  spec.fall = 100;
  HealthCheck check = make_health_check(spec);
  EXPECT_EQ(check.type, HealthCheck::kHttp);
  EXPECT_EQ(check.path, "/healthz?full=1");
  EXPECT_EQ(check.expect, 204);
  EXPECT_EQ(check.interval_ms, 500u);
  EXPECT_EQ(check.timeout_ms, 500u);
  EXPECT_EQ(check.rise, 1u);
  EXPECT_EQ(check.fall, 100u);
  spec = HealthCheckSpec{};
  spec.type = "http";
  EXPECT_EQ(make_health_check(spec).path, "/");
  EXPECT_EQ(make_health_check(spec).expect, 200);
}

struct BadHealth {
  HealthCheckSpec spec;
  std::string message;
};

void PrintTo(const BadHealth& bad, std::ostream* out) { *out << bad.message; }

HealthCheckSpec spec_with(const std::function<void(HealthCheckSpec&)>& edit) {
  HealthCheckSpec spec;
  edit(spec);
  return spec;
}

class HealthCheckRejectsTest : public ::testing::TestWithParam<BadHealth> {};

TEST_P(HealthCheckRejectsTest, NamesTheFieldAndValue) {
  EXPECT_EQ(error_of([] { make_health_check(GetParam().spec); }), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Values, HealthCheckRejectsTest,
    ::testing::Values(
        BadHealth{spec_with([](auto& s) { s.type = "udp"; }),
                  "invalid health check type \"udp\": expected \"tcp\" or \"http\""},
        BadHealth{spec_with([](auto& s) { s.type = "HTTP"; }),
                  "invalid health check type \"HTTP\": expected \"tcp\" or \"http\""},
        BadHealth{spec_with([](auto& s) { s.path = "/"; }),
                  "health check path applies to http checks only (type is tcp)"},
        BadHealth{spec_with([](auto& s) {
                    s.type = "tcp";
                    s.expect = 200;
                  }),
                  "health check expect applies to http checks only (type is tcp)"},
        BadHealth{spec_with([](auto& s) {
                    s.type = "http";
                    s.path = "healthz";
                  }),
                  "invalid health check path \"healthz\": must start with / and have at most "
                  "1024 visible ASCII characters (no spaces)"},
        BadHealth{spec_with([](auto& s) {
                    s.type = "http";
                    s.path = "/a b";
                  }),
                  "invalid health check path \"/a b\": must start with / and have at most 1024 "
                  "visible ASCII characters (no spaces)"},
        BadHealth{spec_with([](auto& s) {
                    s.type = "http";
                    s.path = "";
                  }),
                  "invalid health check path \"\": must start with / and have at most 1024 "
                  "visible ASCII characters (no spaces)"},
        BadHealth{spec_with([](auto& s) {
                    s.type = "http";
                    s.expect = 99;
                  }),
                  "invalid health check expect 99: must be 100..599"},
        BadHealth{spec_with([](auto& s) {
                    s.type = "http";
                    s.expect = 600;
                  }),
                  "invalid health check expect 600: must be 100..599"},
        BadHealth{spec_with([](auto& s) { s.interval_ms = 99; }),
                  "invalid health check interval_ms 99: must be 100..3600000"},
        BadHealth{spec_with([](auto& s) { s.interval_ms = 3600001; }),
                  "invalid health check interval_ms 3600001: must be 100..3600000"},
        BadHealth{spec_with([](auto& s) { s.interval_ms = -2000; }),
                  "invalid health check interval_ms -2000: must be 100..3600000"},
        BadHealth{spec_with([](auto& s) { s.timeout_ms = 0; }),
                  "invalid health check timeout_ms 0: must be 1..3600000"},
        BadHealth{spec_with([](auto& s) { s.timeout_ms = 2001; }),
                  "invalid health check timeout_ms 2001: must not exceed interval_ms 2000 "
                  "(probes would overlap)"},
        BadHealth{spec_with([](auto& s) { s.interval_ms = 500; }),
                  "invalid health check timeout_ms 1000: must not exceed interval_ms 500 "
                  "(probes would overlap)"},
        BadHealth{spec_with([](auto& s) { s.rise = 0; }),
                  "invalid health check rise 0: must be 1..100"},
        BadHealth{spec_with([](auto& s) { s.fall = 101; }),
                  "invalid health check fall 101: must be 1..100"},
        BadHealth{spec_with([](auto& s) { s.fall = INT64_MAX; }),
                  "invalid health check fall 9223372036854775807: must be 1..100"}));

TEST(HealthCheckTest, PathLengthIsLimited) {
  HealthCheckSpec spec;
  spec.type = "http";
  spec.path = "/" + std::string(1023, 'a');
  EXPECT_EQ(make_health_check(spec).path.size(), 1024u);
  spec.path = "/" + std::string(1024, 'a');
  EXPECT_NE(error_of([&] { make_health_check(spec); }).find("at most 1024"), std::string::npos);
}

TEST(HealthCheckTest, ValidateChecksBuiltStructs) {
  HealthCheck check;
  check.path = "/x";  // a tcp check with an http setting
  EXPECT_EQ(error_of([&] { validate_health_check(check); }),
            "health check path and expect apply to http checks only (type is tcp)");
  check = HealthCheck{};
  check.rise = 0;
  EXPECT_EQ(error_of([&] { validate_health_check(check); }),
            "invalid health check rise 0: must be 1..100");
}

TEST(HealthCheckJsonTest, TcpLeavesOutHttpFields) {
  EXPECT_EQ(health_to_json(HealthCheck{}),
            nlohmann::json::parse(
                R"({"type":"tcp","interval_ms":2000,"timeout_ms":1000,"rise":2,"fall":3})"));
  HealthCheck http;
  http.type = HealthCheck::kHttp;
  http.path = "/ready";
  http.expect = 204;
  EXPECT_EQ(health_to_json(http),
            nlohmann::json::parse(R"({"type":"http","path":"/ready","expect":204,
              "interval_ms":2000,"timeout_ms":1000,"rise":2,"fall":3})"));
}

TEST(HealthCheckJsonTest, RoundTrips) {
  HealthCheck http;
  http.type = HealthCheck::kHttp;
  http.path = "/ready";
  http.expect = 302;
  http.interval_ms = 10000;
  http.timeout_ms = 2500;
  http.rise = 5;
  http.fall = 1;
  for (const HealthCheck& check : {HealthCheck{}, http}) {
    nlohmann::json json = nlohmann::json::parse(health_to_json(check).dump());
    EXPECT_EQ(make_health_check(health_spec_from_json(json, "request", "health")), check);
  }
}

TEST(HealthCheckJsonTest, ReadsEveryKeyAndChecksTypes) {
  HealthCheckSpec spec = health_spec_from_json(
      nlohmann::json::parse(
          R"({"type":"http","path":"/h","expect":200,"interval_ms":1,"timeout_ms":2,"rise":-3,"fall":4})"),
      "config", "services[0].health");
  EXPECT_EQ(spec.type, "http");
  EXPECT_EQ(spec.path, "/h");
  EXPECT_EQ(spec.expect, 200);
  EXPECT_EQ(spec.interval_ms, 1);
  EXPECT_EQ(spec.timeout_ms, 2);
  EXPECT_EQ(spec.rise, -3);  // values are make_health_check's business
  EXPECT_EQ(spec.fall, 4);
  EXPECT_EQ(health_spec_from_json(nlohmann::json::object(), "config", "h"), HealthCheckSpec{});

  auto error = [](const char* text) {
    return error_of([&] {
      health_spec_from_json(nlohmann::json::parse(text), "config", "services[0].health");
    });
  };
  EXPECT_EQ(error(R"({"rise":"2"})"), "config: services[0].health.rise: expected an integer");
  EXPECT_EQ(error(R"({"interval_ms":1.5})"),
            "config: services[0].health.interval_ms: expected an integer");
  EXPECT_EQ(error(R"({"type":1})"), "config: services[0].health.type: expected a string");
  EXPECT_EQ(error(R"({"retries":3})"), "config: services[0].health.retries: unknown field");
  EXPECT_EQ(error(R"([])"), "config: services[0].health: expected an object, got an array");
  // Too big for int64: read as the largest, refused by value.
  HealthCheckSpec huge = health_spec_from_json(
      nlohmann::json::parse(R"({"fall":18446744073709551615})"), "config", "h");
  EXPECT_EQ(huge.fall, INT64_MAX);
}

// ------------------------------------------------------------ rise / fall

TEST(HealthStateTest, ANewBackendIsHealthy) {
  HealthState state;
  EXPECT_TRUE(state.healthy);
  EXPECT_EQ(state.successes, 0u);
  EXPECT_EQ(state.failures, 0u);
  EXPECT_EQ(state.last_error, "");
}

TEST(HealthStateTest, FallsAfterFallFailuresAndRisesAfterRiseSuccesses) {
  HealthCheck check;  // rise 2, fall 3
  HealthState state;
  EXPECT_FALSE(record(state, check, false, "connection refused"));
  EXPECT_TRUE(state.healthy);
  EXPECT_EQ(state.last_error, "connection refused");
  EXPECT_FALSE(record(state, check, false, "connection refused"));
  EXPECT_TRUE(state.healthy);
  EXPECT_TRUE(record(state, check, false, "timeout after 1000 ms")) << "third failure flips";
  EXPECT_FALSE(state.healthy);
  EXPECT_EQ(state.failures, 3u);
  EXPECT_EQ(state.last_error, "timeout after 1000 ms");
  EXPECT_FALSE(record(state, check, false, "timeout after 1000 ms")) << "flips only once";
  EXPECT_FALSE(state.healthy);

  EXPECT_FALSE(record(state, check, true, ""));
  EXPECT_FALSE(state.healthy) << "one success is not enough with rise 2";
  EXPECT_EQ(state.last_error, "timeout after 1000 ms") << "kept while unhealthy";
  EXPECT_TRUE(record(state, check, true, ""));
  EXPECT_TRUE(state.healthy);
  EXPECT_EQ(state.last_error, "");
  EXPECT_EQ(state.failures, 0u);
  EXPECT_FALSE(record(state, check, true, "ignored"));
  EXPECT_EQ(state.last_error, "");
}

TEST(HealthStateTest, OnlyConsecutiveResultsCount) {
  HealthCheck check;  // rise 2, fall 3
  HealthState state;
  for (int round = 0; round < 10; ++round) {
    EXPECT_FALSE(record(state, check, false, "refused"));
    EXPECT_FALSE(record(state, check, false, "refused"));
    EXPECT_FALSE(record(state, check, true, ""));  // resets the failures
  }
  EXPECT_TRUE(state.healthy);

  for (int i = 0; i < 3; ++i) record(state, check, false, "refused");
  ASSERT_FALSE(state.healthy);
  for (int round = 0; round < 10; ++round) {
    EXPECT_FALSE(record(state, check, true, ""));
    EXPECT_FALSE(record(state, check, false, "refused"));  // resets the successes
  }
  EXPECT_FALSE(state.healthy);
}

TEST(HealthStateTest, OutWithinIntervalTimesFall) {
  // A backend failing from t = 0, probed every interval: out at the fall-th
  // probe, i.e. within interval * fall.
  HealthCheck check =
      make_health_check(HealthCheckSpec{std::nullopt, std::nullopt, std::nullopt, 1000, 500, 4, 5});
  HealthState state;
  uint64_t now_ms = 0;
  while (!record(state, check, false, "refused")) now_ms += check.interval_ms;
  EXPECT_EQ(state.failures, check.fall);
  EXPECT_LE(now_ms, uint64_t{check.interval_ms} * check.fall);
  int successes = 0;
  while (!record(state, check, true, "")) ++successes;
  EXPECT_EQ(successes + 1, static_cast<int>(check.rise));
}

TEST(HealthStateTest, ThresholdsOfOneAndZero) {
  HealthCheck check;
  check.rise = check.fall = 1;
  HealthState state;
  EXPECT_TRUE(record(state, check, false, ""));
  EXPECT_EQ(state.last_error, "probe failed") << "an empty error gets a generic text";
  EXPECT_TRUE(record(state, check, true, ""));
  check.rise = check.fall = 0;  // never valid, but counts as 1
  EXPECT_TRUE(record(state, check, false, "x"));
  EXPECT_TRUE(record(state, check, true, ""));
}

TEST(HealthStateTest, CountersSaturate) {
  HealthCheck check;
  HealthState state;
  state.healthy = false;
  state.failures = UINT32_MAX;
  EXPECT_FALSE(record(state, check, false, "x"));
  EXPECT_EQ(state.failures, UINT32_MAX);
  state = HealthState{};
  state.successes = UINT32_MAX;
  EXPECT_FALSE(record(state, check, true, ""));
  EXPECT_EQ(state.successes, UINT32_MAX);
}

}  // namespace
}  // namespace bpfnet::core
