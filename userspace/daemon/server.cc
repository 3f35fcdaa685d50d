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
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "core/error.h"
#include "daemon/json_depth.h"
#include "daemon/json_text.h"

namespace bpfnet::daemon {

namespace {

// poll slots: signals, the listening socket, the wake fd, the streams' fd,
// then the clients.
constexpr size_t kFirstClientSlot = 4;

using nlohmann::json;

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

json refusal(const std::string& message) { return json{{"ok", false}, {"error", message}}; }

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

json answer_request(std::string_view request, const RequestHandler& handler) {
  if (!json_depth_acceptable(request))
    return refusal(fmt::format("request: nested deeper than {} levels", kMaxJsonDepth));
  try {
    json req = json::parse(request);
    if (!req.is_object() || !req.contains("op") || !req["op"].is_string())
      throw core::UserError("request: expected {\"op\": \"...\", \"args\": {...}}");
    json args = req.contains("args") ? req["args"] : json::object();
    return json{{"ok", true}, {"result", handler(req["op"].get<std::string>(), args)}};
  } catch (const json::parse_error&) {
    return refusal("request: malformed JSON");
  } catch (const std::exception& e) {
    return refusal(e.what());
  }
}

json json_text_result(std::string text) {
  return json::binary(json::binary_t::container_type(text.begin(), text.end()), kJsonTextSubtype);
}

namespace {
constexpr size_t kLargeAnswerBytes = 1 << 20;
constexpr size_t kLargeAnswerSocketBuffer = 16 << 20;
}  // namespace

std::string answer_line(const json& answer) {
  if (auto it = answer.find("result"); it != answer.end() && it->is_binary() &&
                                       it->get_binary().has_subtype() &&
                                       it->get_binary().subtype() == kJsonTextSubtype) {
    const auto& text = it->get_binary();
    constexpr std::string_view kOk = R"({"ok":true,"result":)";
    std::string line;
    line.reserve(kOk.size() + text.size() + 2);  // ~100 MB for 262,144 flows: one copy
    line.append(kOk);
    line.append(text.begin(), text.end());
    line.append("}\n");
    return line;
  }
  // Invalid UTF-8 in an answer (a byte echoed from somewhere) is replaced,
  // not thrown: an exception here would stop the daemon.
  return answer.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

ControlServer::ControlServer(std::string path, ControlServerLimits limits)
    : path_(std::move(path)), limits_(limits) {
  listen_fd_ = listen_unix_socket(path_, "--socket");
  // accept4 must not block when a client that knocked has gone again.
  ::fcntl(listen_fd_, F_SETFL, ::fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC);
  if (signal_fd_ < 0) sys_fail("signalfd");
}

ControlServer::~ControlServer() {
  for (Client& client : clients_) close_client(client);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

void ControlServer::run(const Handler& handler, const std::function<void()>& tick, int tick_ms,
                        int wake_fd) {
  auto last_tick = Clock::now();
  auto next_tick = last_tick + std::chrono::milliseconds(tick_ms);
  bool woken = false;  // the next tick is brought forward already
  std::vector<pollfd> fds;
  for (;;) {
    if (tick && Clock::now() >= next_tick) {
      tick();
      last_tick = Clock::now();
      next_tick = last_tick + std::chrono::milliseconds(tick_ms);
      woken = false;
    }
    expire_clients(Clock::now());

    // [0] signals, [1] the listening socket (-1, ignored, while full), [2]
    // the wake fd (-1 without one, or while a tick is already brought
    // forward: it stays readable until the tick drains it), then one per
    // client in the order of clients_.
    const bool full = clients_.size() >= limits_.max_clients;
    fds.assign({{signal_fd_, POLLIN, 0},
                {full ? -1 : listen_fd_, POLLIN, 0},
                {tick && !woken ? wake_fd : -1, POLLIN, 0},
                {streams_.fd ? streams_.fd() : -1, POLLIN, 0}});
    for (const Client& client : clients_) {
      short events = client.out.empty() ? POLLIN : POLLOUT;
      if (client.stream) events = client.sent < client.out.size() ? POLLIN | POLLOUT : POLLIN;
      fds.push_back({client.fd, events, 0});
    }
    if (::poll(fds.data(), fds.size(), poll_timeout_ms(Clock::now(), next_tick, bool(tick))) < 0) {
      if (errno == EINTR) continue;
      sys_fail("poll");
    }
    if (fds[2].revents & POLLIN) {
      next_tick = std::min(next_tick, last_tick + kMinWakeGap);
      woken = true;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd_, &info, sizeof(info)) > 0)
        std::cerr << "bpfnetd: signal " << info.ssi_signo << ": stopping (datapath stays up)"
                  << std::endl;
      return;
    }
    if ((fds[3].revents & POLLIN) && streams_.on_readable) streams_.on_readable();
    // Clients first (accepting appends to clients_), dropping those done with
    // only after all were served: a request's handler may send() to a stream
    // client anywhere in clients_ (a monitor's flow ends when a request purges
    // flows), which must still be in place, not moved out.
    std::vector<bool> keep(clients_.size(), true);
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& client = clients_[i];
      const short revents = fds[i + kFirstClientSlot].revents;
      if (revents != 0 && client.stream) {
        keep[i] = on_stream_ready(client, revents);
      } else if (revents != 0) {
        keep[i] = client.out.empty() ? on_readable(client, handler) : on_writable(client);
      }
    }
    size_t kept = 0;
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (!keep[i]) {
        close_client(clients_[i]);
      } else {
        if (kept != i) clients_[kept] = std::move(clients_[i]);
        ++kept;
      }
    }
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(kept), clients_.end());
    if (fds[1].revents & POLLIN) accept_clients();
  }
}

int ControlServer::poll_timeout_ms(Clock::time_point now, Clock::time_point next_tick,
                                   bool ticking) const {
  std::optional<Clock::time_point> wake;
  if (ticking) wake = next_tick;
  for (const Client& client : clients_)
    if (!wake || client.deadline < *wake) wake = client.deadline;
  if (!wake) return -1;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*wake - now).count();
  // Rounded up: waking a little early would only spin until the deadline.
  return static_cast<int>(std::clamp<long>(ms + 1, 0, 60'000));
}

void ControlServer::accept_clients() {
  while (clients_.size() < limits_.max_clients) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN: none left; anything else: that client is gone
    clients_.push_back(Client{fd, {}, {}, 0, Clock::now() + limits_.client_timeout});
  }
}

bool ControlServer::on_readable(Client& client, const Handler& handler) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(client.fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;  // else: the client went away
    }
    if (n == 0) {
      // Shut down for writing without a newline: the request is what came.
      if (client.in.empty()) return false;
      answer_request_of(client, handler);
      return on_writable(client);
    }
    client.in.append(buf, static_cast<size_t>(n));
    if (size_t newline = client.in.find('\n'); newline != std::string::npos) {
      client.in.resize(newline);
      answer_request_of(client, handler);
      return on_writable(client);
    }
    if (client.in.size() >= limits_.max_request_bytes) {
      answer(client,
             refusal(fmt::format("request: longer than {} bytes", limits_.max_request_bytes)));
      return on_writable(client);
    }
  }
}

void ControlServer::answer_request_of(Client& client, const Handler& handler) {
  std::optional<uint64_t> opened;
  const uint64_t id = next_stream_;
  auto open_or_handle = [&](const std::string& op, const json& args) -> json {
    if (streams_.open) {
      if (std::optional<json> first = streams_.open(id, op, args)) {
        opened = id;
        return *first;
      }
    }
    return handler(op, args);
  };
  answer(client, answer_request(client.in, open_or_handle));
  if (opened) {
    client.stream = *opened;
    ++next_stream_;
    client.deadline = Clock::time_point::max();  // streams until the client goes
  }
}

bool ControlServer::send(uint64_t id, std::string_view line) {
  for (Client& client : clients_) {
    if (client.stream != id) continue;
    if (client.out.size() - client.sent + line.size() > kMaxStreamBacklog) return false;
    if (client.sent == client.out.size()) {
      client.out.clear();
      client.sent = 0;
    }
    client.out.append(line);
    client.out.push_back('\n');
    return true;
  }
  return false;
}

bool ControlServer::on_stream_ready(Client& client, short revents) {
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(client.fd, buf, sizeof(buf), 0);
      if (n == 0) return false;  // hung up
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        break;
      }
    }
  }
  return on_writable(client);  // a stream's backlog: sent, and the stream goes on
}

void ControlServer::close_client(Client& client) {
  ::close(client.fd);
  if (client.stream && streams_.close) streams_.close(client.stream);
  client.stream = 0;
}

void ControlServer::answer(Client& client, const json& response) {
  client.in.clear();
  client.in.shrink_to_fit();
  client.out = answer_line(response);
  client.sent = 0;
  client.deadline = Clock::now() + limits_.client_timeout;
  // A large answer (`flows` of 262,144 flows: ~28 MB) would otherwise go in
  // pieces of the default socket buffer (~200 KB), a wake-up of this loop
  // and of the client for each: a third of that listing's time. The buffer
  // is charged only while it holds data; FORCE (root) passes wmem_max.
  if (client.out.size() > kLargeAnswerBytes) {
    const int bytes = int(std::min<size_t>(client.out.size(), kLargeAnswerSocketBuffer));
    if (::setsockopt(client.fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
      ::setsockopt(client.fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
}

bool ControlServer::on_writable(Client& client) {
  while (client.sent < client.out.size()) {
    ssize_t n = ::send(client.fd, client.out.data() + client.sent, client.out.size() - client.sent,
                       MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    client.sent += static_cast<size_t>(n);
  }
  if (client.stream) {
    client.out.clear();
    client.sent = 0;
    return true;  // a stream goes on
  }
  return false;  // answered in full: one request per connection
}

void ControlServer::expire_clients(Clock::time_point now) {
  std::erase_if(clients_, [&](Client& client) {
    if (client.deadline > now) return false;  // streams never expire (deadline max)
    if (client.out.empty()) {
      // Best effort, without waiting: a client that reads learns why.
      answer(client, refusal(fmt::format("request: timed out after {} ms without a complete "
                                         "request",
                                         limits_.client_timeout.count())));
      on_writable(client);
    }
    close_client(client);
    return true;
  });
}

}  // namespace bpfnet::daemon
