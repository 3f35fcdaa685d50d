#include "daemon/docker_plugin_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "daemon/json_depth.h"
#include "daemon/server.h"

namespace bpfnet::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Protocol = asio::local::stream_protocol;
// A socket whose every read and write has a deadline (the idle timeout).
using Stream = beast::basic_stream<Protocol>;

// What go-plugins-helpers answers with; Docker does not check it.
constexpr const char* kPluginContentType = "application/vnd.docker.plugins.v1+json";

// {"Err": message}; replacing what is not UTF-8 rather than throwing on
// the server's thread.
PluginReply refusal(unsigned status, const std::string& message) {
  return PluginReply{status, nlohmann::json{{"Err", message}}.dump(
                                 -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

PluginReply call(const DockerPluginServer::Handler& handler,
                 const http::request<http::string_body>& request) {
  if (request.method() != http::verb::post) {
    return refusal(405, "plugin methods are called with POST");
  }
  // Beast's string_view is Boost's in 1.74.
  std::string_view target(request.target().data(), request.target().size());
  if (auto refused = screen_plugin_request(target, request.body())) {
    std::cerr << "bpfnetd: docker: " << refused->body << std::endl;
    return *refused;
  }
  try {
    return handler(target, request.body());
  } catch (const std::exception& e) {
    return refusal(500, e.what());
  }
}

// What connections share with the server: the handler, the limits, and the
// count of connections open (accepting pauses at the cap). Used on the
// server's thread only.
struct Shared {
  DockerPluginServer::Handler handler;
  DockerPluginOptions options;
  size_t open = 0;
  std::function<void()> on_close;  // resumes accepting; empty once stopping
};

// One connection: Docker keeps it alive, so requests are read and answered
// one after the other until it closes or idles past the timeout. Owned by
// its pending operation.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Protocol::socket socket, Shared& shared)
      : stream_(std::move(socket)), shared_(shared) {
    ++shared_.open;
  }
  ~Connection() {
    --shared_.open;
    if (shared_.on_close) shared_.on_close();
  }

  void read_next() {
    request_ = {};
    stream_.expires_after(shared_.options.idle_timeout);
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       // End of stream, timeout, or not HTTP: the connection is dropped.
                       if (!ec) self->answer();
                     });
  }

 private:
  void answer() {
    PluginReply reply = call(shared_.handler, request_);
    response_ = {};
    response_.version(request_.version());
    response_.result(reply.status);
    response_.set(http::field::content_type, kPluginContentType);
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    stream_.expires_after(shared_.options.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec && self->response_.keep_alive()) self->read_next();
                      });
  }

  Stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

std::optional<PluginReply> screen_plugin_request(std::string_view target, std::string_view body) {
  // Method paths are ASCII; anything else is echoed in no error (it would
  // not even be valid JSON text).
  if (!std::all_of(target.begin(), target.end(), [](char c) { return c > ' ' && c < 0x7f; }))
    return refusal(404, "not a method of the bpfnet network driver");
  if (!json_depth_acceptable(body)) {
    std::string method(target.substr(target.starts_with('/') ? 1 : 0));
    return refusal(
        400, fmt::format("{}: request body nested deeper than {} levels", method, kMaxJsonDepth));
  }
  return std::nullopt;
}

struct DockerPluginServer::Io {
  Io(Handler handler, DockerPluginOptions options) : shared{std::move(handler), options, 0, {}} {}

  void accept_next() {
    if (shared.open >= shared.options.max_connections) {
      accepting = false;  // a closing connection resumes (on_close)
      return;
    }
    accepting = true;
    acceptor.async_accept([this](beast::error_code ec, Protocol::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), shared)->read_next();
      accept_next();
    });
  }

  // Destroyed after the context (which destroys the connections).
  Shared shared;
  bool accepting = false;
  bool serving = false;
  asio::io_context context;
  Protocol::acceptor acceptor{context};
};

DockerPluginServer::DockerPluginServer(std::string path, std::string_view flag, Handler handler,
                                       DockerPluginOptions options)
    : path_(std::move(path)), io_(std::make_unique<Io>(std::move(handler), options)) {
  int fd = listen_unix_socket(path_, flag);
  io_->acceptor.assign(Protocol(), fd);
  io_->shared.on_close = [io = io_.get()] {
    if (!io->accepting) io->accept_next();
  };
  if (options.serve_now) serve();
}

void DockerPluginServer::serve() {
  if (io_->serving) return;
  io_->serving = true;
  io_->accept_next();
  thread_ = std::thread([this] { io_->context.run(); });
}

DockerPluginServer::~DockerPluginServer() {
  io_->context.stop();
  if (thread_.joinable()) thread_.join();
  // Destroying the context destroys the pending operations and with them
  // every connection (closing its socket); they must not accept anew.
  io_->shared.on_close = nullptr;
  io_.reset();
  ::unlink(path_.c_str());
}

}  // namespace bpfnet::daemon
