// The state file (--state-dir/state.json), read at every start: a file left
// by an older version, damaged, or edited by hand.
//
// Invariants, whatever the text:
// - a refusal is core::UserError (the daemon then names the file and stops),
//   never another exception or a crash;
// - a state that loads is valid (validate_state) and survives a write and a
//   reread unchanged (to_json, state_from_json), as every restart does.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/state.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfnet;
  nlohmann::json json =
      nlohmann::json::parse(fuzz::as_text(data, size), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;  // the daemon refuses it as malformed JSON
  core::State state;
  try {
    state = core::state_from_json(json);
  } catch (const core::UserError&) {
    return 0;
  }
  try {
    core::validate_state(state);
  } catch (const core::UserError& e) {
    fuzz::broken("a loaded state is valid", e.what());
  }
  nlohmann::json written = core::to_json(state);
  core::State reread;
  try {
    reread = core::state_from_json(written);
  } catch (const core::UserError& e) {
    fuzz::broken("a written state loads again", fmt::format("{}: {}", e.what(), written.dump()));
  }
  FUZZ_CHECK(reread == state, "the state changed through a write and a reread: {}", written.dump());
  return 0;
}
