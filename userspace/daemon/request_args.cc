#include "daemon/request_args.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::daemon {

bool RequestArgs::has(const char* key) const {
  return args_.is_object() && args_.contains(key) && !args_[key].is_null();
}

std::string RequestArgs::string(const char* key) const {
  if (!args_.is_object() || !args_.contains(key))
    throw core::UserError(fmt::format("request: missing argument \"{}\"", key));
  if (!args_[key].is_string())
    throw core::UserError(fmt::format("request: argument \"{}\" must be a string", key));
  return args_[key].get<std::string>();
}

std::optional<std::string> RequestArgs::opt_string(const char* key) const {
  if (!has(key)) return std::nullopt;
  return string(key);
}

bool RequestArgs::opt_bool(const char* key) const {
  if (!has(key)) return false;
  if (!args_[key].is_boolean())
    throw core::UserError(fmt::format("request: argument \"{}\" must be true or false", key));
  return args_[key].get<bool>();
}

std::map<std::string, std::string> RequestArgs::opt_string_map(const char* key) const {
  std::map<std::string, std::string> out;
  if (!has(key)) return out;
  if (!args_[key].is_object())
    throw core::UserError(fmt::format("request: argument \"{}\" must be an object", key));
  for (const auto& [k, v] : args_[key].items()) {
    if (!v.is_string())
      throw core::UserError(fmt::format("request: {}.{} must be a string", key, k));
    out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<std::string> RequestArgs::string_array(const char* key) const {
  if (!args_.is_object() || !args_.contains(key) || !args_[key].is_array() || args_[key].empty())
    throw core::UserError(
        fmt::format("request: argument \"{}\" must be a non-empty array of strings", key));
  std::vector<std::string> out;
  for (const auto& item : args_[key]) {
    if (!item.is_string()) throw core::UserError(fmt::format("request: {} must be strings", key));
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<int64_t> RequestArgs::opt_integer(const char* key) const {
  if (!args_.is_object() || !args_.contains(key)) return std::nullopt;
  if (!args_[key].is_number_integer())
    throw core::UserError(fmt::format("request: argument \"{}\" must be an integer", key));
  return args_[key].get<int64_t>();
}

}  // namespace bpfnet::daemon
