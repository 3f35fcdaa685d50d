#include "core/json_fields.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {

void fail_at(std::string_view root, std::string_view path, std::string_view message) {
  if (path.empty()) throw UserError(fmt::format("{}: {}", root, message));
  throw UserError(fmt::format("{}: {}: {}", root, path, message));
}

std::string join_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string item_path(std::string_view array, size_t index) {
  return fmt::format("{}[{}]", array, index);
}

std::string_view json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

JsonFields::JsonFields(const nlohmann::json& object, std::string_view root, std::string path)
    : object_(object), root_(root), path_(std::move(path)) {
  if (!object_.is_object()) {
    fail_at(root_, path_, fmt::format("expected an object, got {}", json_type_name(object_)));
  }
}

void JsonFields::fail(std::string_view key, std::string_view message) const {
  fail_at(root_, path_of(key), message);
}

const nlohmann::json* JsonFields::find(std::string_view key) {
  known_.emplace(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

std::optional<std::string> JsonFields::optional_string(std::string_view key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail(key, "expected a string");
  return value->get<std::string>();
}

std::string JsonFields::required_string(std::string_view key) {
  auto value = optional_string(key);
  if (!value) fail(key, "missing (expected a string)");
  return *value;
}

bool JsonFields::optional_bool(std::string_view key, bool fallback) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail(key, "expected a boolean");
  return value->get<bool>();
}

bool JsonFields::required_bool(std::string_view key) {
  if (object_.find(key) == object_.end()) fail(key, "missing (expected a boolean)");
  return optional_bool(key, false);
}

uint64_t JsonFields::required_unsigned(std::string_view key) {
  std::optional<uint64_t> value = optional_unsigned(key);
  if (!value) fail(key, "missing (expected a non-negative integer)");
  return *value;
}

std::optional<uint64_t> JsonFields::optional_unsigned(std::string_view key) {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  // Parsed text gives number_unsigned for non-negative integers, but a json
  // built in code from an int is number_integer: accept both when >= 0.
  bool non_negative_integer =
      value->is_number_unsigned() || (value->is_number_integer() && value->get<int64_t>() >= 0);
  if (!non_negative_integer) fail(key, "expected a non-negative integer");
  return value->get<uint64_t>();
}

uint64_t JsonFields::required_unsigned_at_most(std::string_view key, uint64_t max) {
  uint64_t value = required_unsigned(key);
  if (value > max) fail(key, fmt::format("{} is out of range", value));
  return value;
}

uint16_t JsonFields::required_uint16(std::string_view key) {
  return static_cast<uint16_t>(required_unsigned_at_most(key, UINT16_MAX));
}

uint32_t JsonFields::required_uint32(std::string_view key) {
  return static_cast<uint32_t>(required_unsigned_at_most(key, UINT32_MAX));
}

std::map<std::string, std::string> JsonFields::optional_string_map(std::string_view key) {
  const nlohmann::json* value = find(key);
  std::map<std::string, std::string> result;
  if (value == nullptr) return result;
  if (!value->is_object()) fail(key, "expected an object of strings");
  for (const auto& [item_key, item] : value->items()) {
    if (!item.is_string()) fail_at(root_, join_path(path_of(key), item_key), "expected a string");
    result.emplace(item_key, item.get<std::string>());
  }
  return result;
}

const nlohmann::json* JsonFields::optional_array(std::string_view key) {
  const nlohmann::json* value = find(key);
  if (value != nullptr && !value->is_array()) fail(key, "expected an array");
  return value;
}

std::optional<std::vector<std::string>> JsonFields::optional_string_array(std::string_view key) {
  const nlohmann::json* array = optional_array(key);
  if (array == nullptr) return std::nullopt;
  std::vector<std::string> result;
  for (size_t i = 0; i < array->size(); ++i) {
    const nlohmann::json& item = (*array)[i];
    if (!item.is_string()) fail_at(root_, item_path(path_of(key), i), "expected a string");
    result.push_back(item.get<std::string>());
  }
  return result;
}

void JsonFields::reject_unknown_keys() const {
  for (const auto& [key, value] : object_.items()) {
    if (!known_.contains(key)) fail(key, "unknown field");
  }
}

}  // namespace bpfnet::core
