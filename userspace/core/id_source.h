// Where random identifiers come from. The core never reads a random device
// itself: the daemon injects a real source, tests a deterministic one.
#pragma once

#include <functional>
#include <string>

namespace bpfnet::core {

struct IdSource {
  virtual ~IdSource() = default;
  // 64 lowercase hex digits (256 random bits), like a Docker ID.
  virtual std::string random_hex64() = 0;
};

// Draws IDs until one is valid hex and `is_taken` says it is free. Collisions
// are astronomically unlikely with a real source, but a short prefix of the ID
// names kernel interfaces, so it is cheap insurance. Throws std::logic_error
// when the source returns malformed IDs or nothing but taken ones (a broken
// source, not a user mistake).
std::string fresh_id(IdSource& ids, const std::function<bool(const std::string&)>& is_taken);

}  // namespace bpfnet::core
