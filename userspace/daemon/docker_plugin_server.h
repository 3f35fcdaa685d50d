// The HTTP side of the Docker plugin: HTTP/1.1 over a unix socket, as
// Docker's plugin client speaks it (POST /<Method>, no Content-Type, kept
// alive), served by daemon/http_server.h on a thread of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/docker_driver.h"
#include "daemon/http_server.h"

namespace bpfnet::daemon {

// Docker looks for plugins' sockets here (pkg/plugins discovery).
inline constexpr std::string_view kDockerPluginDir = "/run/docker/plugins";

// Docker reconnects after an idle close, and retries a call whose connection
// closed; it serialises its calls to a driver per network anyway. serve_now
// false: nothing is read until serve(), so that no request is answered
// before the daemon's state is reconciled.
using DockerPluginOptions = HttpServerOptions;

// What the server answers itself, before any handler sees the request: a
// target that is not printable ASCII (404), a body nested deeper than
// kMaxJsonDepth (400, see daemon/json_depth.h). nullopt: the handler's.
std::optional<PluginReply> screen_plugin_request(std::string_view target, std::string_view body);

class DockerPluginServer {
 public:
  // Called for every request, on the server's thread: `path` is the request
  // target, `body` the raw body. It must serialise with the daemon's other
  // users of the Controller. Requests screen_plugin_request refuses do not
  // reach it.
  using Handler = std::function<PluginReply(std::string_view path, std::string_view body)>;

  // Binds `path` (see listen_unix_socket: refuses when another process
  // answers on it) and starts serving unless options.serve_now is false.
  // `flag` names the option that set the path, for errors.
  DockerPluginServer(std::string path, std::string_view flag, Handler handler,
                     DockerPluginOptions options = {});
  // Stops serving, closes every connection, removes the socket file.
  ~DockerPluginServer();
  DockerPluginServer(const DockerPluginServer&) = delete;
  DockerPluginServer& operator=(const DockerPluginServer&) = delete;

  // Starts serving (once; nothing if it already does).
  void serve();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace bpfnet::daemon
