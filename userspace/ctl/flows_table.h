// `bpfnetctl flows` at scale: the daemon's result (userspace/README.md, an
// array of flat objects) rendered straight from its JSON text, without
// building a nlohmann::json document of it. At 262,144 flows the result is
// ~100 MB; decoding it into a document and printing that took seconds
// (bench/RESULTS.md, "flows"), which is why the socket transport hands this
// op's result over as text (ctl/cli.cc) and these functions scan it once.
#pragma once

#include <string>
#include <string_view>

namespace bpfnet::ctl {

// The table `bpfnetctl flows` prints (the columns of docker_table's layout:
// each as wide as its widest cell plus 3, at least 10, the last unpadded).
// Throws BadResult when `result_text` is not an array of flat objects.
std::string flows_table(std::string_view result_text);

// The result as JSON, one flow per line:
//   [
//   {"proto":"tcp",...},
//   ...
//   ]
// (each object as the daemon wrote it), or "[]" when there are none; a final
// newline. Throws BadResult as flows_table.
std::string flows_json_lines(std::string_view result_text);

}  // namespace bpfnet::ctl
