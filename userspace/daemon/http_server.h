// bpfnetd's HTTP/1.1 servers, on Boost.Beast with a thread of their own: the
// Docker plugin on a unix socket (daemon/docker_plugin_server.h) and
// Prometheus's /metrics on TCP (daemon/metrics.h). Connections are kept
// alive, every read and write has a deadline, and at most max_connections
// are served at once (more wait in the listen backlog).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bpfnet::daemon {

struct HttpRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // "/metrics", "/NetworkDriver.Join", ...
  std::string_view body;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// Called on the server's thread for every request; it must serialise with
// the daemon's other users of what it reads. An exception becomes a 500
// whose body is its message.
using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

struct HttpServerOptions {
  // Each request must arrive in full, and each answer be taken, within this;
  // a connection idle this long between requests is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  size_t max_connections = 32;
  // false: bound, but nothing is read until serve().
  bool serve_now = true;
};

// ADDR:PORT or PORT (then 127.0.0.1), as --metrics takes it. Throws
// core::UserError `invalid address "X": expected [IPv4:]PORT, e.g. 127.0.0.1:9775`.
struct TcpAddress {
  std::string host;
  uint16_t port = 0;
};
TcpAddress parse_tcp_address(std::string_view text);

class HttpServer {
 public:
  // Binds `path` (see listen_unix_socket: refuses when another process
  // answers on it; the file is removed with the server). `flag` names the
  // option that set it, for errors.
  static std::unique_ptr<HttpServer> on_unix_socket(const std::string& path, std::string_view flag,
                                                    HttpHandler handler,
                                                    HttpServerOptions options = {});
  // Binds ADDR:PORT; a port in use is a core::UserError naming `flag`.
  static std::unique_ptr<HttpServer> on_tcp(const TcpAddress& address, std::string_view flag,
                                            HttpHandler handler, HttpServerOptions options = {});

  virtual ~HttpServer() = default;
  // Starts serving (once; nothing if it already does).
  virtual void serve() = 0;
  // The bound port (TCP; useful when asked for port 0), else 0.
  virtual uint16_t port() const = 0;
};

}  // namespace bpfnet::daemon
