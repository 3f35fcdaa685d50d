#include "daemon/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include "core/error.h"

namespace bpfnet::daemon {

namespace {

using nlohmann::json;

constexpr int kRequestTimeoutMs = 5000;
constexpr size_t kMaxRequestBytes = 1 << 20;

[[noreturn]] void sys_fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

sockaddr_un socket_address(const std::string& path, std::string_view flag) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    throw core::UserError(fmt::format("{} {}: path too long", flag, path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool someone_listens(const std::string& path, std::string_view flag) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr = socket_address(path, flag);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

void write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the client went away; nothing to tell it
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace

int listen_unix_socket(const std::string& path, std::string_view flag) {
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) throw std::system_error(ec, "create socket dir " + dir.string());
  if (std::filesystem::exists(path)) {
    if (someone_listens(path, flag))
      throw core::UserError(fmt::format("{} {}: another process is serving it", flag, path));
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) sys_fail("socket");
  sockaddr_un addr = socket_address(path, flag);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    sys_fail("bind " + path);
  }
  ::chmod(path.c_str(), 0660);
  if (::listen(fd, 64) != 0) {
    int saved = errno;
    ::close(fd);
    ::unlink(path.c_str());
    errno = saved;
    sys_fail("listen " + path);
  }
  return fd;
}

ControlServer::ControlServer(std::string path) : path_(std::move(path)) {
  listen_fd_ = listen_unix_socket(path_, "--socket");

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC);
  if (signal_fd_ < 0) sys_fail("signalfd");
}

ControlServer::~ControlServer() {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

void ControlServer::run(const Handler& handler, const std::function<void()>& tick, int tick_ms) {
  auto next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(tick_ms);
  for (;;) {
    if (tick && std::chrono::steady_clock::now() >= next_tick) {
      tick();
      next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(tick_ms);
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                    next_tick - std::chrono::steady_clock::now())
                    .count();
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
    if (::poll(fds, 2, tick ? static_cast<int>(std::max<long>(wait, 0)) : -1) < 0) {
      if (errno == EINTR) continue;
      sys_fail("poll");
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd_, &info, sizeof(info)) > 0)
        std::cerr << "bpfnetd: signal " << info.ssi_signo << ": stopping (datapath stays up)"
                  << std::endl;
      return;
    }
    if (fds[0].revents & POLLIN) {
      int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      serve_one(conn, handler);
      ::close(conn);
    }
  }
}

void ControlServer::serve_one(int conn, const Handler& handler) {
  std::string request;
  char buf[4096];
  while (request.find('\n') == std::string::npos && request.size() < kMaxRequestBytes) {
    pollfd p{conn, POLLIN, 0};
    if (::poll(&p, 1, kRequestTimeoutMs) <= 0) return;
    ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  json response;
  try {
    json req = json::parse(request);
    if (!req.is_object() || !req.contains("op") || !req["op"].is_string())
      throw core::UserError("request: expected {\"op\": \"...\", \"args\": {...}}");
    json args = req.contains("args") ? req["args"] : json::object();
    response = json{{"ok", true}, {"result", handler(req["op"].get<std::string>(), args)}};
  } catch (const json::parse_error&) {
    response = json{{"ok", false}, {"error", "request: malformed JSON"}};
  } catch (const std::exception& e) {
    response = json{{"ok", false}, {"error", e.what()}};
  }
  write_all(conn, response.dump() + "\n");
}

}  // namespace bpfnet::daemon
