#include "core/limits.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/json_fields.h"

namespace bpfnet::core {
namespace {

[[noreturn]] void refuse(const Capacity& capacity, std::string_view action) {
  throw UserError(
      fmt::format("{}: bpfnet supports at most {} {}", action, capacity.most, capacity.what));
}

}  // namespace

void check_room(const Capacity& capacity, size_t count, std::string_view action) {
  if (!capacity.fits(count)) refuse(capacity, action);
}

void check_capacity(const Capacity& capacity, size_t count, std::string_view root,
                    std::string_view path) {
  if (capacity.fits(count)) return;
  fail_at(root, path,
          fmt::format("{} {} exceed the limit of {}", count, capacity.what, capacity.most));
}

uint32_t lowest_free_index(const IndexSpace& space, const std::vector<uint32_t>& used,
                           std::string_view action) {
  std::vector<bool> taken(size_t{space.last()} + 1, false);
  for (uint32_t index : used) {
    if (space.contains(index)) taken[index] = true;
  }
  for (uint32_t index = 1; index <= space.last(); ++index) {
    if (!taken[index]) return index;
  }
  refuse(space.capacity, action);
}

}  // namespace bpfnet::core
