#include "core/names.h"

#include <fmt/format.h>

#include "core/error.h"

namespace bpfnet::core {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// `KIND name must not be empty`, or `INVALID KIND name (NAME), only ... are
// allowed`: Docker capitalises the word for containers only.
void validate_restricted_name(std::string_view name, std::string_view kind,
                              std::string_view invalid) {
  if (name.empty()) throw UserError(fmt::format("{} name must not be empty", kind));
  if (!is_restricted_name(name)) {
    throw UserError(fmt::format("{} {} name ({}), only {} are allowed", invalid, kind, name,
                                kRestrictedNameChars));
  }
}

}  // namespace

bool is_restricted_name(std::string_view name) {
  if (name.empty() || !is_alnum(name[0])) return false;
  for (char c : name) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

void validate_network_name(std::string_view name) {
  validate_restricted_name(name, "network", "invalid");
}

void validate_container_name(std::string_view name) {
  validate_restricted_name(name, "container", "Invalid");
}

void validate_service_name(std::string_view name) {
  validate_restricted_name(name, "service", "invalid");
}

bool is_hex_id(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') {
      return false;
    }
  }
  return true;
}

}  // namespace bpfnet::core
