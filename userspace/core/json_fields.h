// Reading the fields of a JSON object with error messages that name the path
// of the bad field ("config: containers[0].networks[1].ip: expected a
// string"). Shared by the state file and the config file parsers.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"

namespace bpfnet::core {

// "ROOT: PATH: MESSAGE", or "ROOT: MESSAGE" when the path is empty.
[[noreturn]] void fail_at(std::string_view root, std::string_view path, std::string_view message);

// Joins a field onto a path: ("networks[1]", "subnet") -> "networks[1].subnet".
std::string join_path(std::string_view path, std::string_view key);
// An element of an array: ("networks", 1) -> "networks[1]".
std::string item_path(std::string_view array, size_t index);

// Runs `operation` (a parse or check that throws UserError) and re-throws its
// message under `path`: "ROOT: PATH: MESSAGE". Returns what it returns.
template <typename Operation>
auto at_path(std::string_view root, std::string_view path, Operation&& operation) {
  try {
    return operation();
  } catch (const UserError& e) {
    fail_at(root, path, e.what());
  }
}

std::string_view json_type_name(const nlohmann::json& value);

class JsonFields {
 public:
  // Fails unless `object` is a JSON object. `root` labels the document,
  // `path` locates the object inside it (empty for the top level).
  JsonFields(const nlohmann::json& object, std::string_view root, std::string path);

  const std::string& root() const { return root_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;

  // The raw value, or nullptr if absent. Marks the key as known.
  const nlohmann::json* find(std::string_view key);

  std::string required_string(std::string_view key);
  std::optional<std::string> optional_string(std::string_view key);
  bool optional_bool(std::string_view key, bool fallback);
  bool required_bool(std::string_view key);
  uint64_t required_unsigned(std::string_view key);
  std::optional<uint64_t> optional_unsigned(std::string_view key);
  // required_unsigned, failing `N is out of range` above the type's maximum.
  uint16_t required_uint16(std::string_view key);
  uint32_t required_uint32(std::string_view key);
  // An object whose values are all strings; empty if absent.
  std::map<std::string, std::string> optional_string_map(std::string_view key);
  // A JSON array, or nullptr if absent.
  const nlohmann::json* optional_array(std::string_view key);
  // An array of strings, or nullopt if absent.
  std::optional<std::vector<std::string>> optional_string_array(std::string_view key);

  // The elements of the array `key`, each read by `read(element, path)` (path
  // "KEY[i]") in order; empty if absent.
  template <typename Read>
  auto optional_items(std::string_view key, Read&& read) {
    std::vector<std::invoke_result_t<Read&, const nlohmann::json&, const std::string&>> items;
    if (const nlohmann::json* array = optional_array(key)) {
      for (size_t i = 0; i < array->size(); ++i) {
        items.push_back(read((*array)[i], item_path(path_of(key), i)));
      }
    }
    return items;
  }
  // optional_items, failing `missing (expected an array)` if absent.
  template <typename Read>
  auto required_items(std::string_view key, Read&& read) {
    if (object_.find(key) == object_.end()) fail(key, "missing (expected an array)");
    return optional_items(key, read);
  }

  // Fails on the first key no accessor asked for: misspelled keys would
  // otherwise be silently ignored.
  void reject_unknown_keys() const;

 private:
  uint64_t required_unsigned_at_most(std::string_view key, uint64_t max);

  const nlohmann::json& object_;
  std::string root_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

// Reads the object `json` at `path` into a new T: `read(fields, value)` asks
// for the keys it knows, and any other key is an error.
template <typename T, typename Read>
T read_object(const nlohmann::json& json, std::string_view root, std::string path, Read&& read) {
  JsonFields fields(json, root, std::move(path));
  T value{};
  read(fields, value);
  fields.reject_unknown_keys();
  return value;
}

}  // namespace bpfnet::core
