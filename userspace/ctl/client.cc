#include "ctl/client.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace bpfnet::ctl {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::string describe(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0) return fmt::format("{}s", timeout.count() / 1000);
  return fmt::format("{}ms", timeout.count());
}

// Shortens a response for an error message.
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 200;
  std::string s = one_line(std::string(text.substr(0, kMax)));
  if (text.size() > kMax) s += "...";
  return s;
}

}  // namespace

Client::Client(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

Json Client::call(const Json& request) const {
  return parse_response(exchange(request.dump(-1, ' ', false, Json::error_handler_t::replace)));
}

Json Client::call_text(const Json& request) const {
  const std::string line = exchange(request.dump(-1, ' ', false, Json::error_handler_t::replace));
  // How the daemon writes every successful answer (daemon/server.cc answer_line).
  constexpr std::string_view kOk = R"({"ok":true,"result":)";
  if (line.size() > kOk.size() && line.starts_with(kOk) && line.back() == '}') {
    const auto begin = reinterpret_cast<const uint8_t*>(line.data()) + kOk.size();
    return Json::binary(Json::binary_t::container_type(begin, begin + line.size() - kOk.size() - 1),
                        kResultTextSubtype);
  }
  return parse_response(line);
}

TimeoutError Client::timed_out(std::string_view waiting_for) const {
  return TimeoutError(
      fmt::format("bpfnetctl: timed out after {} waiting for {} (daemon at unix://{})",
                  describe(timeout_), waiting_for, socket_path_));
}

int Client::send_request(const std::string& request_line) const {
  const std::string where = "unix://" + socket_path_;

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.empty() || socket_path_.size() >= sizeof(addr.sun_path)) {
    throw ClientError(fmt::format("bpfnetctl: invalid socket path \"{}\" (1 to {} bytes)",
                                  socket_path_, sizeof(addr.sun_path) - 1));
  }
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());

  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    throw ClientError(fmt::format("bpfnetctl: socket: {}", std::strerror(errno)));
  }
  // For AF_UNIX, SO_SNDTIMEO also bounds a blocking connect() (full backlog).
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) {
      throw ConnectError(fmt::format(
          "permission denied while trying to connect to the bpfnet daemon socket at {}", where));
    }
    if (err == EAGAIN || err == ETIMEDOUT) throw timed_out("the connection");
    throw ConnectError(
        fmt::format("Cannot connect to the bpfnet daemon at {}. Is bpfnetd running?", where));
  }

  const std::string out = request_line + "\n";
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) throw timed_out("the request to be read");
      throw ProtocolError(fmt::format("bpfnetctl: sending the request to the daemon at {}: {}",
                                      where, std::strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  return fd.release();
}

std::string Client::exchange(const std::string& request_line) const {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout_;
  const std::string where = "unix://" + socket_path_;
  Fd fd(send_request(request_line));
  // Read straight into the answer, a growing piece at a time: `flows` of
  // 262,144 flows is ~28 MB, and 64 KB reads through a buffer of their own
  // took a wake-up and a copy each.
  std::string in;
  size_t filled = 0;
  size_t piece = 64 << 10;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw timed_out("a response");
    pollfd pfd{fd.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw ClientError(fmt::format("bpfnetctl: poll: {}", std::strerror(errno)));
    }
    if (ready == 0) throw timed_out("a response");
    in.resize(filled + piece);
    const ssize_t n = ::recv(fd.get(), in.data() + filled, piece, MSG_DONTWAIT);
    if (n < 0) {
      in.resize(filled);
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      throw ProtocolError(fmt::format("bpfnetctl: reading the response of the daemon at {}: {}",
                                      where, std::strerror(errno)));
    }
    const std::string_view chunk(in.data() + filled, static_cast<size_t>(n));
    if (const size_t nl = chunk.find('\n'); nl != std::string_view::npos) {
      in.resize(filled + nl);
      return in;
    }
    filled += static_cast<size_t>(n);
    in.resize(filled);
    if (n == 0) break;  // EOF
    if (static_cast<size_t>(n) == piece) piece = std::min<size_t>(piece * 2, 16 << 20);
    if (in.size() > kMaxResponseBytes) {
      throw ProtocolError(
          fmt::format("bpfnetctl: malformed response from the daemon at {}: "
                      "longer than {} bytes",
                      where, kMaxResponseBytes));
    }
  }
  if (in.empty()) {
    throw ProtocolError(fmt::format(
        "bpfnetctl: malformed response from the daemon at {}: connection closed without a response",
        where));
  }
  return in;
}

Json Client::parse_response(std::string_view line) {
  auto bad = [&](std::string_view why) {
    return ProtocolError(
        fmt::format("bpfnetctl: malformed response from daemon: {}: {}", why, excerpt(line)));
  };
  Json response = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) throw bad("not JSON");
  if (!response.is_object()) throw bad("not a JSON object");
  const auto ok = response.find("ok");
  if (ok == response.end() || !ok->is_boolean()) throw bad("no boolean \"ok\"");
  if (ok->get<bool>()) {
    const auto result = response.find("result");
    if (result == response.end()) throw bad("\"ok\" without \"result\"");
    return *result;
  }
  const auto error = response.find("error");
  if (error == response.end() || !error->is_string())
    throw bad("error without an \"error\" string");
  std::string message = one_line(error->get<std::string>());
  if (message.empty()) message = "unknown error";
  throw DaemonError(message);
}

}  // namespace bpfnet::ctl
