// How deep a JSON text nests, found by a scan that needs no parse: the
// limit on nesting is checked before a request is handed to nlohmann::json,
// whose values are copied and compared recursively (a request nested a
// million levels deep, well under the size cap, would overflow the stack).
#pragma once

#include <cstddef>
#include <string_view>

namespace bpfnet::daemon {

// Deeper than any request of bpfnetctl or Docker (they nest 5 levels at
// most), far shallower than what the stack can take.
inline constexpr size_t kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in `text` (0 for a scalar),
// counting brackets outside strings only. Stops scanning once the depth
// exceeds `limit`, returning limit + 1. Malformed text is scanned all the
// same: the parser that runs next reports its errors.
size_t json_nesting_depth(std::string_view text, size_t limit = kMaxJsonDepth);

// True when `text` nests no deeper than kMaxJsonDepth.
inline bool json_depth_acceptable(std::string_view text) {
  return json_nesting_depth(text) <= kMaxJsonDepth;
}

}  // namespace bpfnet::daemon
