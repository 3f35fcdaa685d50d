// Docker-style printing of daemon results. Pure functions: no I/O. Each verb's
// own renderer is in its row (ctl/verb_table.h, verbs_*.cc); here are the
// pieces they share.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/command.h"
#include "ctl/json.h"

namespace bpfnet::ctl {

// A result that does not have the shape the protocol promises.
struct BadResult : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The version of this client (the project version).
std::string_view client_version();

// Go's sortorder.NaturalLess, which `docker network ls` sorts names with:
// digit runs compare numerically ("net2" < "net10").
bool natural_less(std::string_view a, std::string_view b);

// Docker's stringid.TruncateID: drops an "algo:" prefix, keeps 12 characters.
std::string truncate_id(std::string_view id);

// JSON indented by 4 spaces plus a final newline (docker inspect's layout).
std::string pretty_json(const Json& value);

// A cell of a table: strings as they are, numbers in decimal, null/missing empty.
std::string cell(const Json& object, const char* key);

// `result` when it is an array of objects; BadResult naming `what` otherwise.
const Json& expect_array(const Json& result, std::string_view what);

// The objects of an array, stable-sorted by natural_less of their `key` cells.
std::vector<const Json*> sorted_by(const Json& objects, const char* key);

// Renders what a successful command prints on stdout, with its row's renderer.
// `result` is the daemon's result, except for the verbs that send one request
// per name:
//   inspect: the array of the inspect objects found;
//   rm:      an array of {"name": <as typed>, "id": ...} for the removed ones.
// Throws BadResult when the result does not have the expected shape.
std::string render(const Command& cmd, const Json& result);

// The "Client:" part of `version` (printed even when the daemon is down).
std::string render_client_version();

// Renderers several rows share. The group of the verb names the objects in
// their errors ("expected an array of networks").
//   nothing in table mode, the result with -o json (connect, port-map rm, ...);
std::string render_nothing_or_json(const Command& cmd, const Json& result);
//   the new object's "Id" (network create, service create);
std::string render_created_id(const Command& cmd, const Json& result);
//   the objects found, as JSON whatever the output format (inspect);
std::string render_inspected(const Command& cmd, const Json& result);
//   the names removed, one a line (rm).
std::string render_removed(const Command& cmd, const Json& result);

}  // namespace bpfnet::ctl
