// The cluster store's records (store/cluster_records.h): what other hosts
// (or anyone with write access to etcd) put under /bpfnet/v1/, read by every
// bpfnetd's ClusterView and ClusterRegistry; and the --store flag.
//
// Input: the first byte picks the record kind, the rest is its JSON text.
// Invariants, whatever the bytes:
// - a reader either returns a record or throws core::UserError (never
//   anything else, never a crash);
// - what it returns survives a round trip: to_json, read again, equal;
// - requested_vni gives nothing outside 1..2^24-1; parse_store_url gives HOST:PORT
//   strings only.
#include <string>

#include "core/error.h"
#include "fuzz_check.h"
#include "store/cluster_records.h"
#include "store/store_url.h"

namespace {

using namespace bpfnet;
constexpr std::string_view kKey = "/bpfnet/v1/fuzz";

template <typename Read>
void round_trip(Read read, std::string_view json) {
  std::optional<decltype(read(kKey, json))> record;
  try {
    record = read(kKey, json);
  } catch (const core::UserError&) {
    return;
  }
  const std::string again = store::to_json(*record);
  decltype(read(kKey, json)) reread;
  try {
    reread = read(kKey, again);
  } catch (const core::UserError& e) {
    FUZZ_CHECK(false, "a record read from {} does not read back from {}: {}", json, again,
               e.what());
  }
  FUZZ_CHECK(reread == *record, "record {} changes on a round trip ({})", json, again);
}

void check_vni(std::string_view text) {
  std::optional<uint32_t> vni;
  try {
    vni = store::requested_vni({{std::string(store::kVxlanIdListOption), std::string(text)}});
  } catch (const core::UserError&) {
    return;
  }
  FUZZ_CHECK(!vni || (*vni >= 1 && *vni <= store::kMaxVni), "VNI \"{}\" taken as {}", text,
             vni.value_or(0));
}

void check_url(std::string_view text) {
  std::vector<std::string> endpoints;
  try {
    endpoints = store::parse_store_url(text);
  } catch (const core::UserError&) {
    return;
  }
  FUZZ_CHECK(!endpoints.empty(), "store URL \"{}\" taken with no endpoint", text);
  for (const auto& e : endpoints)
    FUZZ_CHECK(e.find(':') != std::string::npos && e.find(',') == std::string::npos,
               "store URL \"{}\" gives endpoint \"{}\"", text, e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text = bpfnet::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 8) {
    case 0:
      round_trip(store::host_from_json, text);
      break;
    case 1:
      round_trip(store::network_from_json, text);
      break;
    case 2:
      round_trip(store::address_from_json, text);
      break;
    case 3:
      round_trip(store::endpoint_from_json, text);
      break;
    case 4:
      check_vni(text);
      break;
    case 6:
      round_trip(store::check_from_json, text);
      break;
    case 7:
      round_trip(store::backend_health_from_json, text);
      break;
    default:
      check_url(text);
      break;
  }
  return 0;
}
