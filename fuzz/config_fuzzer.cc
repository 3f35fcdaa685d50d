// The --config file: networks, containers, ports, uplinks and services the
// daemon makes sure exist at every start (core/config.h), applied to a
// fresh state as a first start does.
//
// Invariants, whatever the text:
// - refusals are core::UserError (the daemon names the file and stops),
//   never another exception or a crash;
// - a refused config leaves the state exactly as it was (all or nothing);
// - an applied config gives a valid state (validate_state: what the next
//   start would load), which survives a write and a reread unchanged;
// - applying it again changes nothing (declarative and idempotent: every
//   restart reapplies the same file).
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/state.h"
#include "fakes/fake_ids.h"
#include "fuzz_check.h"

namespace {

using namespace bpfnet;

constexpr const char* kNow = "2024-05-01T12:00:00Z";

// The host of a first start: one route (pools must avoid it), the default
// ephemeral range, nothing listening.
const std::vector<core::Cidr> kHostRoutes = {core::Cidr::parse("192.0.2.0/24")};

bool apply(core::State& state, const core::Config& config, core::IdSource& ids) {
  try {
    core::apply_config(state, config, kHostRoutes, core::PortEnvironment{}, ids, kNow);
    return true;
  } catch (const core::UserError&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json json =
      nlohmann::json::parse(fuzz::as_text(data, size), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // the daemon refuses it as malformed JSON
  core::Config config;
  try {
    config = core::parse_config(json);
  } catch (const core::UserError&) {
    return 0;
  }
  fakes::FakeIds ids;
  const core::State first = core::initial_state(ids, kNow);
  core::State state = first;
  if (!apply(state, config, ids)) {
    FUZZ_CHECK(state == first, "a refused config changed the state: {}", json.dump());
    return 0;
  }
  try {
    core::validate_state(state);
  } catch (const core::UserError& e) {
    fuzz::broken("an applied config gives a valid state",
                 fmt::format("{}; config {}", e.what(), json.dump()));
  }
  nlohmann::json written = core::to_json(state);
  try {
    FUZZ_CHECK(core::state_from_json(written) == state, "state changed through a reread: {}",
               written.dump());
  } catch (const core::UserError& e) {
    fuzz::broken("an applied config's state loads again",
                 fmt::format("{}; config {}", e.what(), json.dump()));
  }
  core::State again = state;
  FUZZ_CHECK(apply(again, config, ids), "the config applies once, not twice: {}", json.dump());
  FUZZ_CHECK(again == state, "applying the config twice changed the state: {}", json.dump());
  return 0;
}
