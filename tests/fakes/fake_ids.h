// Deterministic IDs for tests: no /dev/urandom, and the first hex digits
// differ from one ID to the next (they name interfaces).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "core/id_source.h"

namespace bpfnet::fakes {

class FakeIds : public core::IdSource {
 public:
  // Sources with different `start`s (hosts of one test cluster) give
  // different IDs.
  explicit FakeIds(uint32_t start = 0) : counter_(start) {}
  std::string random_hex64() override {
    const auto mixed = static_cast<uint32_t>(++counter_ * 0x9e3779b1u);
    std::string id;
    for (int i = 0; i < 8; ++i) id += fmt::format("{:08x}", mixed);
    return id;
  }

 private:
  uint32_t counter_ = 0;
};

}  // namespace bpfnet::fakes
