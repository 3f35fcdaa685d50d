// The --store flag's value. Apart from the etcd client so that bpfnetd can
// check it without gRPC.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpfnet::store {

// "etcd://h1:2379,h2:2379" -> {"h1:2379", "h2:2379"}. A missing port means
// 2379. Throws core::UserError `invalid store address "X": expected
// etcd://HOST[:PORT][,HOST[:PORT]...]`.
std::vector<std::string> parse_store_url(std::string_view url);

}  // namespace bpfnet::store
