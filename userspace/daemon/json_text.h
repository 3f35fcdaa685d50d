// A control-socket result already written as JSON text: a listing too large
// to build as nlohmann::json objects in time (`flows`: 2.5 s at 262,144
// flows), carried through the handler as a binary value of its own subtype
// and spliced into the answer line unchanged by answer_line (server.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace bpfnet::daemon {

inline constexpr uint8_t kJsonTextSubtype = 0x6a;

inline nlohmann::json json_text_result(const std::string& text) {
  return nlohmann::json::binary(nlohmann::json::binary_t::container_type(text.begin(), text.end()),
                                kJsonTextSubtype);
}

}  // namespace bpfnet::daemon
