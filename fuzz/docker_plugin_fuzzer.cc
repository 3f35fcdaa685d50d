// Docker's network-driver plugin calls (userspace/README.md, "Docker network
// driver"), as the plugin server hands them to DockerDriver::handle: each
// line of the input is one call, "METHOD BODY" (METHOD without its "/",
// e.g. "NetworkDriver.CreateNetwork {...}"), on a fresh daemon of fakes, one
// call after the other as Docker makes them. Bodies nested deeper than the
// server lets through (json_depth.h) are skipped; every other call, even one
// the server would screen out (a path that is not ASCII), reaches the driver.
//
// Invariants, whatever the calls:
// - each is answered 200, 400 (malformed body), 404 (unknown method) or 500
//   (refused) with a JSON object body, an "Err" string in every refusal: no
//   crash, no exception escapes;
// - after each, the Controller's promises hold (controller_world.h): a
//   refused call changes nothing, the state is valid, the maps are its
//   projection; after the last, the state file holds the state.
#include <nlohmann/json.hpp>
#include <string>

#include "controller_world.h"
#include "daemon/docker_driver.h"
#include "daemon/json_depth.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpfnet;
  fuzz::ControllerWorld world;
  daemon::DockerDriver driver(world.controller);
  const core::State initial = world.controller.state();
  fuzz::for_each_line(fuzz::as_text(data, size), [&](std::string_view line) {
    size_t space = line.find(' ');
    std::string path = "/" + std::string(line.substr(0, space));
    // Docker's bodies end in a newline.
    std::string body =
        space == std::string_view::npos ? "" : std::string(line.substr(space + 1)) + "\n";
    // The server refuses these unparsed; the driver never sees them.
    if (!daemon::json_depth_acceptable(body)) return;
    const core::State before = world.controller.state();
    daemon::PluginReply reply = driver.handle(path, body);
    FUZZ_CHECK(
        reply.status == 200 || reply.status == 400 || reply.status == 404 || reply.status == 500,
        "status {} for {}", reply.status, line);
    nlohmann::json answer = nlohmann::json::parse(reply.body, nullptr, false);
    FUZZ_CHECK(answer.is_object(), "body {} for {}", reply.body, line);
    if (reply.status != 200) {
      FUZZ_CHECK(answer.contains("Err") && answer["Err"].is_string(), "refusal {} for {}",
                 reply.body, line);
    }
    world.check(before, reply.status != 200, line);
  });
  world.check_persisted(initial);
  return 0;
}
