#include "core/id_source.h"

#include <stdexcept>

#include "core/names.h"

namespace bpfnet::core {

std::string fresh_id(IdSource& ids, const std::function<bool(const std::string&)>& is_taken) {
  constexpr int kMaxAttempts = 64;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::string id = ids.random_hex64();
    if (!is_hex_id(id)) {
      throw std::logic_error("IdSource returned \"" + id + "\", not 64 lowercase hex digits");
    }
    if (!is_taken(id)) return id;
  }
  throw std::logic_error("IdSource keeps returning IDs that are already in use");
}

}  // namespace bpfnet::core
