// The `flows` result in its rows format (core/flows_wire.h), as bpfnetctl
// reads it from the control socket: `ctl::decode_flows`, then the table
// and the JSON lines it prints.
//
// Invariants, whatever the text:
// - refusals are ctl::BadResult, never another exception;
// - an accepted result written again (`flows_rows_text`) decodes to the
//   same rows, field by field, and its objects are valid JSON with one
//   object per row;
// - the table has a header and one line per row when no name holds a
//   line break.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "core/flows_wire.h"
#include "ctl/flows_table.h"
#include "ctl/render.h"
#include "fuzz_check.h"

namespace {

using namespace bpfnet;

auto fields(const core::FlowRow& r) {
  return std::make_tuple(r.proto, r.client_ip, r.client_port, r.address_ip, r.address_port,
                         r.address_kind, r.service, r.container, r.network, r.server_ip,
                         r.server_port, r.nat, r.snat_ip, r.snat_port, r.client_state,
                         r.server_state, r.age_ns, r.idle_ns, r.client_packets, r.client_bytes,
                         r.server_packets, r.server_bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = bpfnet::fuzz::as_text(data, size);
  core::DecodedFlows flows;
  try {
    flows = ctl::decode_flows(text);
  } catch (const ctl::BadResult&) {
    return 0;
  }
  const std::string again = core::flows_rows_text(flows.rows);
  const core::DecodedFlows back = ctl::decode_flows(again);
  FUZZ_CHECK(back.rows.size() == flows.rows.size(), "{} rows read back as {}", flows.rows.size(),
             back.rows.size());
  for (size_t i = 0; i < flows.rows.size(); ++i)
    FUZZ_CHECK(fields(back.rows[i]) == fields(flows.rows[i]), "row {} differs read back: {}", i,
               again);
  const auto objects = nlohmann::json::parse(ctl::flows_json_lines(flows.rows), nullptr, false);
  FUZZ_CHECK(objects.is_array() && objects.size() == flows.rows.size(),
             "the objects of {} rows are not an array of as many", flows.rows.size());
  const std::string table = ctl::flows_table(flows.rows);
  const bool plain = std::none_of(flows.names.begin(), flows.names.end(), [](const std::string& n) {
    return n.find_first_of("\n") != std::string::npos;
  });
  if (plain)
    FUZZ_CHECK(size_t(std::count(table.begin(), table.end(), '\n')) == flows.rows.size() + 1,
               "a table of {} rows has {} lines", flows.rows.size(),
               std::count(table.begin(), table.end(), '\n'));
  return 0;
}
