// The JSON type used by the CLI: insertion-ordered, so objects received from the
// daemon are printed back in the daemon's key order (as docker inspect does).
#pragma once

#include <nlohmann/json.hpp>

namespace bpfnet::ctl {

using Json = nlohmann::ordered_json;

}  // namespace bpfnet::ctl
