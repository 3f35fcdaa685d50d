// Syntax rules for names and identifiers.
#pragma once

#include <string_view>

namespace bpfnet::core {

// Docker's restricted name pattern ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$, used for
// network, container and service names.
inline constexpr std::string_view kRestrictedNameChars = "[a-zA-Z0-9][a-zA-Z0-9_.-]";
bool is_restricted_name(std::string_view name);

// Throw UserError naming the value when the name is empty or does not match
// the pattern, in Docker's wording
// (`Invalid container name (x/y), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`).
void validate_network_name(std::string_view name);
void validate_container_name(std::string_view name);
void validate_service_name(std::string_view name);

// 64 lowercase hex digits: network, endpoint and container IDs.
bool is_hex_id(std::string_view id);

// A Linux interface name the kernel accepts: 1..15 bytes (IFNAMSIZ - 1), no
// '/', ':' or whitespace, not "." or "..".
bool is_valid_ifname(std::string_view name);

}  // namespace bpfnet::core
