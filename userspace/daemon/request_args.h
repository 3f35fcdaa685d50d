// A control request's "args" object. A missing or mistyped argument is the
// client's mistake, named in the error ("request: missing argument \"name\"").
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bpfnet::daemon {

class RequestArgs {
 public:
  explicit RequestArgs(const nlohmann::json& args) : args_(args) {}

  std::string string(const char* key) const;
  std::optional<std::string> opt_string(const char* key) const;
  bool opt_bool(const char* key) const;  // absent: false
  std::map<std::string, std::string> opt_string_map(const char* key) const;
  // A non-empty array of strings.
  std::vector<std::string> string_array(const char* key) const;
  std::optional<int64_t> opt_integer(const char* key) const;
  const nlohmann::json& json() const { return args_; }

 private:
  bool has(const char* key) const;
  const nlohmann::json& args_;
};

}  // namespace bpfnet::daemon
