// `bpfnetctl flows` at scale: the daemon's result in its rows format
// (core/flows_wire.h), decoded in one pass and printed without building a
// JSON document of it. At 262,144 flows decoding the objects format into a
// document and printing that took seconds (bench/RESULTS.md, "flows"),
// which is why the socket transport hands this op's result over as text
// (ctl/cli.cc) and bpfnetctl asks for rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/flows.h"
#include "core/flows_wire.h"

namespace bpfnet::ctl {

// Throws BadResult when `result_text` is not a rows result.
core::DecodedFlows decode_flows(std::string_view result_text);

// The table `bpfnetctl flows` prints (the columns of docker_table's layout:
// each as wide as its widest cell plus 3, at least 10, the last unpadded).
std::string flows_table(const std::vector<core::FlowRow>& rows);

// The flows as JSON objects (userspace/README.md), one flow per line:
//   [
//   {"proto":"tcp",...},
//   ...
//   ]
// or "[]" when there are none; a final newline.
std::string flows_json_lines(const std::vector<core::FlowRow>& rows);

}  // namespace bpfnet::ctl
