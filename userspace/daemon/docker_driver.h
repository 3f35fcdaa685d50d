// Docker's remote network-driver protocol (docs: userspace/README.md, "Docker
// network driver"): each request of Docker's plugin client, by path and raw
// body, becomes a change of the Controller's state, so Docker's networks and
// containers get the same checks, rollback and persistence as bpfnetctl's.
//
// Not thread-safe: the caller serialises requests with every other use of
// the Controller.
#pragma once

#include <string>
#include <string_view>

#include "daemon/controller.h"

namespace bpfnet::daemon {

// Docker's -o key naming the bpfnet network (Docker sends no name); without
// it a Docker network is named after its short ID.
inline constexpr std::string_view kDockerNameOption = "bpfnet.name";

// One HTTP answer: status and JSON body.
struct PluginReply {
  unsigned status = 200;
  std::string body;
};

class DockerDriver {
 public:
  explicit DockerDriver(Controller& controller) : controller_(controller) {}

  // `path` is the request target ("/NetworkDriver.Join"), `body` the request
  // body as sent (possibly empty, ending in "\n"). Never throws: refusals
  // are 500 (400 for a malformed body) with {"Err": "<reason>"}, unknown
  // paths 404, and a refused request changes nothing.
  PluginReply handle(std::string_view path, std::string_view body);

 private:
  Controller& controller_;
};

}  // namespace bpfnet::daemon
