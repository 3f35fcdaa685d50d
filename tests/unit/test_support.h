// Helpers shared by the unit tests.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "core/id_source.h"
#include "core/names.h"
#include "core/state.h"

namespace bpfnet::core::testing {

inline constexpr const char* kNow = "2024-05-01T12:00:00Z";

// Deterministic IDs. The counter is scrambled by an odd multiplier (a
// bijection modulo 2^32) so that consecutive IDs differ in their first hex
// digits, which name interfaces; a plain counter would collide there.
// Scripted IDs, if any, are handed out first.
class FakeIds : public IdSource {
 public:
  FakeIds() = default;
  explicit FakeIds(std::vector<std::string> scripted)
      : scripted_(scripted.begin(), scripted.end()) {}

  std::string random_hex64() override {
    ++calls_;
    if (!scripted_.empty()) {
      std::string id = scripted_.front();
      scripted_.pop_front();
      return id;
    }
    uint32_t mixed = static_cast<uint32_t>(++counter_ * 0x9e3779b1u);
    std::string word = fmt::format("{:08x}", mixed);
    std::string id;
    for (int i = 0; i < 8; ++i) id += word;
    return id;
  }

  int calls() const { return calls_; }

 private:
  std::deque<std::string> scripted_;
  uint32_t counter_ = 0;
  int calls_ = 0;
};

// An ID made of one repeated hex digit plus a distinct tail, for tests that
// need to control prefixes.
inline std::string hex_id(std::string_view prefix, char fill = '0') {
  std::string id(prefix);
  id.resize(64, fill);
  return id;
}

// Runs `operation` and returns the UserError message it throws; fails the
// test if it throws nothing (or something else).
template <typename Operation>
std::string error_of(Operation&& operation) {
  try {
    operation();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

// Asserts the operation throws UserError with `message` and leaves `state`
// exactly as it was (the strong exception guarantee).
template <typename Operation>
void expect_error_and_unchanged(State& state, Operation&& operation, const std::string& message) {
  nlohmann::json before = to_json(state);
  EXPECT_EQ(error_of([&] { operation(state); }), message);
  EXPECT_EQ(to_json(state), before) << "the failed operation changed the state";
}

inline Cidr cidr(std::string_view text) { return *Cidr::try_parse(text); }
inline Ipv4 ip(std::string_view text) { return Ipv4::parse(text); }

// A State with the builtin networks, as the daemon starts with.
inline State fresh_state(FakeIds& ids) { return initial_state(ids, kNow); }

inline NetworkCreate bridge(std::string name, std::optional<std::string> subnet = std::nullopt) {
  NetworkCreate request;
  request.name = std::move(name);
  request.subnet = std::move(subnet);
  return request;
}

inline ConnectRequest attach(std::string network, std::string container,
                             std::optional<std::string> ip = std::nullopt) {
  std::string netns = "/var/run/netns/" + container;
  return ConnectRequest{std::move(network), std::move(container), std::move(netns),
                        std::move(ip),      std::nullopt,         std::nullopt};
}

}  // namespace bpfnet::core::testing
