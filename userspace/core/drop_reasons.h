// User-visible names of the datapath's verdict reasons (enum bpfnet_reason,
// generated with the names from BPFNET_DROP_REASONS in maps/bpfnet_abi.h).
#pragma once

#include <optional>
#include <string_view>

namespace bpfnet::core {

// "forwarded" for 0 and a stable kebab-case name for each drop reason; these
// names appear in `stats` output and must not change. A code this build does
// not know (from a newer BPF object) gives "reason-N". The datapath stores
// reasons in a u8, so N > 255 cannot occur; it gives "reason-out-of-range".
// The view points to static storage.
std::string_view drop_reason_name(unsigned code);

// The code of a drop reason by its name ("invalid-source-ip"); nullopt for a
// name that is no drop reason of this build ("forwarded" included).
std::optional<unsigned> drop_reason_code(std::string_view name);

}  // namespace bpfnet::core
