// Control-socket requests (userspace/README.md, "Control socket protocol"),
// as the server handles them: each line of the input is one request's text,
// answered by answer_request (daemon/server.h: the depth limit, the JSON
// parse, the {"op", "args"} shape) with Controller::handle on a fresh
// daemon of fakes, one request after the other as clients would send them.
//
// Invariants, whatever the requests:
// - each gets an answer {"ok": true, "result": ...} or {"ok": false,
//   "error": "<reason>"}: no crash, no exception escapes;
// - after each, the Controller's promises hold (controller_world.h): a
//   refused request changes nothing, the state is valid, the maps are its
//   projection; after the last, the state file holds the state.
#include <nlohmann/json.hpp>

#include "controller_world.h"
#include "daemon/server.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfnet;
  fuzz::ControllerWorld world;
  const core::State initial = world.controller.state();
  fuzz::for_each_line(fuzz::as_text(data, size), [&](std::string_view request) {
    const core::State before = world.controller.state();
    // As the server answers and bpfnetctl reads it: one line of JSON.
    const std::string line = daemon::answer_line(
        daemon::answer_request(request, [&](const std::string& op, const nlohmann::json& args) {
          return world.controller.handle(op, args);
        }));
    FUZZ_CHECK(line.find('\n') == line.size() - 1, "answer {} is not one line", line);
    const nlohmann::json answer = nlohmann::json::parse(line, nullptr, false);
    const bool ok = answer.is_object() && answer.value("ok", false);
    FUZZ_CHECK(answer.is_object() && answer.contains("ok") &&
                   (ok ? answer.contains("result") : answer["error"].is_string()),
               "answer {} to {}", line, request);
    if (!ok) FUZZ_CHECK(!answer["error"].get<std::string>().empty(), "empty error for {}", request);
    world.check(before, !ok, request);
  });
  world.check_persisted(initial);
  return 0;
}
