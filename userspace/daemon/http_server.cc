#include "daemon/http_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <thread>

#include "core/error.h"
#include "core/ip.h"
#include "daemon/server.h"

namespace bpfnet::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// What connections share with their server: the handler, the limits, and
// the count of connections open (accepting pauses at the cap). Used on the
// server's thread only.
struct Shared {
  HttpHandler handler;
  HttpServerOptions options;
  size_t open = 0;
  std::function<void()> on_close;  // resumes accepting; empty once stopping
};

HttpReply call(const HttpHandler& handler, const http::request<http::string_body>& request) {
  // Beast's string_view is Boost's in 1.74.
  auto view = [](auto text) { return std::string_view(text.data(), text.size()); };
  try {
    return handler(
        HttpRequest{view(request.method_string()), view(request.target()), request.body()});
  } catch (const std::exception& e) {
    return HttpReply{500, "text/plain; charset=utf-8", e.what()};
  }
}

// One connection, read and answered request after request until it closes
// or idles past the timeout. Owned by its pending operation.
template <class Protocol>
class Connection : public std::enable_shared_from_this<Connection<Protocol>> {
 public:
  Connection(typename Protocol::socket socket, Shared& shared)
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
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       // End of stream, timeout, or not HTTP: the connection is dropped.
                       if (!ec) self->answer();
                     });
  }

 private:
  void answer() {
    HttpReply reply = call(shared_.handler, request_);
    response_ = {};
    response_.version(request_.version());
    response_.result(reply.status);
    if (!reply.content_type.empty()) response_.set(http::field::content_type, reply.content_type);
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    stream_.expires_after(shared_.options.idle_timeout);
    http::async_write(stream_, response_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec && self->response_.keep_alive()) self->read_next();
                      });
  }

  beast::basic_stream<Protocol> stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

template <class Protocol>
class BasicHttpServer final : public HttpServer {
 public:
  BasicHttpServer(HttpHandler handler, HttpServerOptions options, std::string unlink_path = {})
      : shared_{std::move(handler), options, 0, {}}, unlink_path_(std::move(unlink_path)) {
    shared_.on_close = [this] {
      if (!accepting_) accept_next();
    };
  }
  ~BasicHttpServer() override {
    context_.stop();
    if (thread_.joinable()) thread_.join();
    // Destroying the pending operations destroys every connection (closing
    // its socket); they must not accept anew.
    shared_.on_close = nullptr;
    if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
  }

  typename Protocol::acceptor& acceptor() { return acceptor_; }

  void serve() override {
    if (serving_) return;
    serving_ = true;
    accept_next();
    thread_ = std::thread([this] { context_.run(); });
  }

  uint16_t port() const override {
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>)
      return acceptor_.local_endpoint().port();
    else
      return 0;
  }

 private:
  void accept_next() {
    if (shared_.open >= shared_.options.max_connections) {
      accepting_ = false;  // a closing connection resumes (on_close)
      return;
    }
    accepting_ = true;
    acceptor_.async_accept([this](beast::error_code ec, typename Protocol::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection<Protocol>>(std::move(socket), shared_)->read_next();
      accept_next();
    });
  }

  Shared shared_;
  std::string unlink_path_;
  bool accepting_ = false;
  bool serving_ = false;
  asio::io_context context_;
  typename Protocol::acceptor acceptor_{context_};
  std::thread thread_;
};

}  // namespace

TcpAddress parse_tcp_address(std::string_view text) {
  auto bad = [&] {
    return core::UserError(
        fmt::format("invalid address \"{}\": expected [IPv4:]PORT, e.g. 127.0.0.1:9775", text));
  };
  size_t colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? "127.0.0.1" : text.substr(0, colon);
  std::string_view port_text = colon == std::string_view::npos ? text : text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port_text.empty() ||
      port > 65535 || !core::Ipv4::try_parse(host))
    throw bad();
  return TcpAddress{std::string(host), static_cast<uint16_t>(port)};
}

std::unique_ptr<HttpServer> HttpServer::on_unix_socket(const std::string& path,
                                                       std::string_view flag, HttpHandler handler,
                                                       HttpServerOptions options) {
  using Protocol = asio::local::stream_protocol;
  int fd = listen_unix_socket(path, flag);
  auto server = std::make_unique<BasicHttpServer<Protocol>>(std::move(handler), options, path);
  server->acceptor().assign(Protocol(), fd);
  if (options.serve_now) server->serve();
  return server;
}

std::unique_ptr<HttpServer> HttpServer::on_tcp(const TcpAddress& address, std::string_view flag,
                                               HttpHandler handler, HttpServerOptions options) {
  using Protocol = asio::ip::tcp;
  auto server = std::make_unique<BasicHttpServer<Protocol>>(std::move(handler), options);
  Protocol::endpoint endpoint(asio::ip::make_address_v4(address.host), address.port);
  beast::error_code ec;
  auto& acceptor = server->acceptor();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw core::UserError(
        fmt::format("{} {}:{}: {}", flag, address.host, address.port, ec.message()));
  if (options.serve_now) server->serve();
  return server;
}

}  // namespace bpfnet::daemon
