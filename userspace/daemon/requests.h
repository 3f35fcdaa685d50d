// The control socket's requests (userspace/README.md, "Control socket
// protocol"): one row per op, {op, handler}, as the Docker driver routes its
// methods. Handlers speak core types and the Controller's façade only: they
// compute a change with core, commit it through Controller::update, and
// answer in Docker's JSON shapes.
//
// Adding an op: a handler and its row in requests.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/json_fields.h"
#include "daemon/controller.h"

namespace bpfnet::daemon {

using RequestHandler = nlohmann::json (*)(Controller&, core::JsonFields&);

struct RequestRow {
  std::string_view op;
  RequestHandler handle;
};

// Every op, in one table (requests.cc).
std::span<const RequestRow> requests();

// Runs the op's handler; an unknown op is refused. Throws core::UserError.
nlohmann::json handle_request(Controller& controller, const std::string& op,
                              const nlohmann::json& args);

}  // namespace bpfnet::daemon
