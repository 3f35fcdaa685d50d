#include "daemon/docker_plugin_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/json_depth.h"

namespace bpfnet::daemon {
namespace {

// What go-plugins-helpers answers with; Docker does not check it.
constexpr const char* kPluginContentType = "application/vnd.docker.plugins.v1+json";

// {"Err": message}; replacing what is not UTF-8 rather than throwing on
// the server's thread.
PluginReply refusal(unsigned status, const std::string& message) {
  return PluginReply{status, nlohmann::json{{"Err", message}}.dump(
                                 -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

PluginReply call(const DockerPluginServer::Handler& handler, const HttpRequest& request) {
  if (request.method != "POST") return refusal(405, "plugin methods are called with POST");
  if (auto refused = screen_plugin_request(request.target, request.body)) {
    std::cerr << "bpfnetd: docker: " << refused->body << std::endl;
    return *refused;
  }
  try {
    return handler(request.target, request.body);
  } catch (const std::exception& e) {
    return refusal(500, e.what());
  }
}

}  // namespace

std::optional<PluginReply> screen_plugin_request(std::string_view target, std::string_view body) {
  // Method paths are ASCII; anything else is echoed in no error (it would
  // not even be valid JSON text).
  if (!std::all_of(target.begin(), target.end(), [](char c) { return c > ' ' && c < 0x7f; }))
    return refusal(404, "not a method of the bpfnet network or IPAM driver");
  if (!json_depth_acceptable(body)) {
    std::string method(target.substr(target.starts_with('/') ? 1 : 0));
    return refusal(
        400, fmt::format("{}: request body nested deeper than {} levels", method, kMaxJsonDepth));
  }
  return std::nullopt;
}

DockerPluginServer::DockerPluginServer(std::string path, std::string_view flag, Handler handler,
                                       DockerPluginOptions options)
    : path_(std::move(path)),
      http_(HttpServer::on_unix_socket(
          path_, flag,
          [handler = std::move(handler)](const HttpRequest& request) {
            PluginReply reply = call(handler, request);
            return HttpReply{reply.status, kPluginContentType, std::move(reply.body)};
          },
          options)) {}

DockerPluginServer::~DockerPluginServer() = default;

void DockerPluginServer::serve() { http_->serve(); }

}  // namespace bpfnet::daemon
