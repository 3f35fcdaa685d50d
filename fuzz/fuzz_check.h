// What every fuzz target shares: a broken invariant aborts (libFuzzer saves
// the input as a crash), with a line saying which one and why.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bpfnet::fuzz {

[[noreturn]] inline void broken(std::string_view invariant, std::string_view detail) {
  fmt::print(stderr, "\nINVARIANT BROKEN: {}\n  {}\n", invariant, detail);
  std::fflush(stderr);
  std::abort();
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace bpfnet::fuzz

// FUZZ_CHECK(condition, "format", args...): the invariant is the condition.
#define FUZZ_CHECK(condition, ...) \
  ((condition) ? void(0) : ::bpfnet::fuzz::broken(#condition, fmt::format(__VA_ARGS__)))
