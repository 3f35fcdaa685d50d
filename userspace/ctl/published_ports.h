// Published ports ("bindings" in the protocol) as Docker prints them: the
// lines of `docker port` and the PORTS column of `docker ps`.
#pragma once

#include <string>
#include <vector>

#include "ctl/json.h"

namespace bpfnet::ctl {

// The `docker port` lines of a bindings array ("80/tcp -> 0.0.0.0:8080"),
// sorted as docker sorts them: the whole lines, with sortorder.NaturalLess,
// so by container port, protocol, host address and host port. Throws
// BadResult for a binding without its fields.
std::vector<std::string> binding_lines(const Json& bindings);

// docker ps's PORTS (formatter.DisplayablePorts) for bindings, which always
// have a host address: "0.0.0.0:8080->80/tcp", and runs of consecutive ports
// published on the same port grouped, "0.0.0.0:80-81->80-81/tcp".
std::string displayable_ports(const Json& bindings);

}  // namespace bpfnet::ctl
