// The values of the service verbs' flags, checked before anything is sent:
// ports, durations, counts, affinity, health checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ctl/flags.h"
#include "ctl/json.h"

namespace bpfnet::ctl {

// A flag whose value is a positive integer (at most INT32_MAX).
std::optional<uint64_t> count_flag(const VerbArgs& given, const std::string& key);

// --port PORT[/PROTO], repeatable and required -> ["PORT/PROTO", ...].
std::vector<std::string> service_ports_flag(const VerbArgs& given);

// --table-size: a prime.
std::optional<uint64_t> table_size_flag(const VerbArgs& given);

// --affinity: "client-ip" or "client-ip:SECONDS"; nullopt for none.
std::optional<std::string> affinity_flag(const VerbArgs& given);

// --health and the --health-* flags -> the "health" object, every field set
// (the defaults are the ones of the protocol); nullopt without --health.
std::optional<Json> health_flags(const VerbArgs& given);

}  // namespace bpfnet::ctl
