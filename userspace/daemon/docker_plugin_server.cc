#include "daemon/docker_plugin_server.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/server.h"

namespace bpfnet::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Protocol = asio::local::stream_protocol;

// What go-plugins-helpers answers with; Docker does not check it.
constexpr const char* kPluginContentType = "application/vnd.docker.plugins.v1+json";

PluginReply call(const DockerPluginServer::Handler& handler,
                 const http::request<http::string_body>& request) {
  if (request.method() != http::verb::post) {
    return PluginReply{405, nlohmann::json{{"Err", "plugin methods are called with POST"}}.dump()};
  }
  try {
    // Beast's string_view is Boost's in 1.74.
    std::string_view target(request.target().data(), request.target().size());
    return handler(target, request.body());
  } catch (const std::exception& e) {
    return PluginReply{500, nlohmann::json{{"Err", e.what()}}.dump()};
  }
}

// One connection: Docker keeps it alive, so requests are read and answered
// one after the other until it closes. Owned by its pending operation.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Protocol::socket socket, const DockerPluginServer::Handler& handler)
      : socket_(std::move(socket)), handler_(handler) {}

  void read_next() {
    request_ = {};
    http::async_read(socket_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       // End of stream, or not HTTP: the connection is dropped.
                       if (!ec) self->answer();
                     });
  }

 private:
  void answer() {
    PluginReply reply = call(handler_, request_);
    response_ = {};
    response_.version(request_.version());
    response_.result(reply.status);
    response_.set(http::field::content_type, kPluginContentType);
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    http::async_write(socket_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec && self->response_.keep_alive()) self->read_next();
                      });
  }

  Protocol::socket socket_;
  const DockerPluginServer::Handler& handler_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

struct DockerPluginServer::Io {
  explicit Io(Handler h) : handler(std::move(h)) {}

  void accept_next() {
    acceptor.async_accept([this](beast::error_code ec, Protocol::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), handler)->read_next();
      accept_next();
    });
  }

  Handler handler;
  asio::io_context context;
  Protocol::acceptor acceptor{context};
};

DockerPluginServer::DockerPluginServer(std::string path, std::string_view flag, Handler handler)
    : path_(std::move(path)), io_(std::make_unique<Io>(std::move(handler))) {
  int fd = listen_unix_socket(path_, flag);
  io_->acceptor.assign(Protocol(), fd);
  io_->accept_next();
  thread_ = std::thread([this] { io_->context.run(); });
}

DockerPluginServer::~DockerPluginServer() {
  io_->context.stop();
  thread_.join();
  // Destroying the context destroys the pending operations and with them
  // every connection (closing its socket).
  io_.reset();
  ::unlink(path_.c_str());
}

}  // namespace bpfnet::daemon
