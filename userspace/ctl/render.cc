#include "ctl/render.h"

#include <fmt/format.h>

#include <algorithm>

#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "network" for the rows of the network group.
std::string_view group_of(const Command& cmd) { return cmd.row->group(); }

}  // namespace

bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const char ca = a[i];
    const char cb = b[j];
    const bool da = is_digit(ca);
    const bool db = is_digit(cb);
    if (da != db) return da;  // digits sort before other characters
    if (!da) {
      if (ca != cb) return static_cast<unsigned char>(ca) < static_cast<unsigned char>(cb);
      ++i;
      ++j;
      continue;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    const size_t nz_a = i;
    const size_t nz_b = j;
    while (i < a.size() && is_digit(a[i])) ++i;
    while (j < b.size() && is_digit(b[j])) ++j;
    if (i - nz_a != j - nz_b) return i - nz_a < j - nz_b;
    const std::string_view na = a.substr(nz_a, i - nz_a);
    const std::string_view nb = b.substr(nz_b, j - nz_b);
    if (na != nb) return na < nb;
    if (nz_a != nz_b) return nz_a < nz_b;  // fewer leading zeros first
  }
  return a.size() < b.size();
}

std::string truncate_id(std::string_view id) {
  if (const size_t colon = id.find(':'); colon != std::string_view::npos) {
    id = id.substr(colon + 1);
  }
  return std::string(id.substr(0, 12));
}

std::string pretty_json(const Json& value) {
  return value.dump(4, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string cell(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

const Json& expect_array(const Json& result, std::string_view what) {
  if (!result.is_array()) {
    throw BadResult(fmt::format("expected an array of {}, got: {}", what, result.dump()));
  }
  for (const Json& item : result) {
    if (!item.is_object()) {
      throw BadResult(
          fmt::format("expected an array of {}, got an element: {}", what, item.dump()));
    }
  }
  return result;
}

std::vector<const Json*> sorted_by(const Json& objects, const char* key) {
  std::vector<const Json*> sorted;
  for (const Json& object : objects) sorted.push_back(&object);
  std::stable_sort(sorted.begin(), sorted.end(), [key](const Json* a, const Json* b) {
    return natural_less(cell(*a, key), cell(*b, key));
  });
  return sorted;
}

std::string render(const Command& cmd, const Json& result) {
  if (cmd.row == nullptr) return cmd.help_text;
  return cmd.row->call.render(cmd, result);
}

std::string render_nothing_or_json(const Command& cmd, const Json& result) {
  return cmd.output == Output::kJson ? pretty_json(result) : "";
}

std::string render_created_id(const Command& cmd, const Json& result) {
  if (cmd.output == Output::kJson) return pretty_json(result);
  if (!result.is_object() || !result.contains("Id") || !result["Id"].is_string()) {
    throw BadResult(
        fmt::format("expected a {} with an \"Id\", got: {}", group_of(cmd), result.dump()));
  }
  return result["Id"].get<std::string>() + "\n";
}

std::string render_inspected(const Command& cmd, const Json& result) {
  expect_array(result, fmt::format("{}s", group_of(cmd)));
  return pretty_json(result);
}

std::string render_removed(const Command& cmd, const Json& result) {
  expect_array(result, fmt::format("removed {}s", group_of(cmd)));
  if (cmd.output == Output::kJson) return pretty_json(result);
  std::string out;
  for (const Json& removed : result) out += cell(removed, "name") + "\n";
  return out;
}

}  // namespace bpfnet::ctl
