#include "daemon/health_checker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <utility>

namespace bpfnet::daemon {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

HealthTarget health_target(uint32_t id, uint32_t ip, uint16_t port,
                           const core::HealthCheck& check) {
  return HealthTarget{id,
                      ip,
                      port,
                      check.type == core::HealthCheck::kHttp,
                      check.path,
                      check.expect,
                      check.interval_ms,
                      check.timeout_ms};
}

HealthResult probe(const HealthTarget& t) {
  HealthResult r{t.backend_id, false, ""};
  const int64_t deadline = now_ms() + t.timeout_ms;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.error = fmt::format("socket: {}", std::strerror(errno));
    return r;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(t.port);
  addr.sin_addr.s_addr = htonl(t.ip);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  const std::string where = fmt::format("{}:{}", ip, t.port);
  auto fail = [&](std::string why) {
    ::close(fd);
    r.error = std::move(why);
    return r;
  };

  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS)
    return fail(fmt::format("connect {}: {}", where, std::strerror(errno)));
  if (!wait_for(fd, POLLOUT, deadline))
    return fail(fmt::format("connect {}: timed out after {} ms", where, t.timeout_ms));
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) return fail(fmt::format("connect {}: {}", where, std::strerror(err)));
  if (!t.http) {
    ::close(fd);
    r.ok = true;
    return r;
  }

  const std::string request = fmt::format(
      "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: bpfnetd-health\r\n\r\n", t.path, where);
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return fail(fmt::format("GET {}{}: send failed", where, t.path));
  std::string reply;
  char buf[512];
  while (reply.find("\r\n") == std::string::npos && reply.size() < 4096) {
    if (!wait_for(fd, POLLIN, deadline))
      return fail(fmt::format("GET {}{}: no answer within {} ms", where, t.path, t.timeout_ms));
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.x NNN reason"
  int status = 0;
  if (reply.size() > 12 && reply.starts_with("HTTP/")) status = std::atoi(reply.c_str() + 9);
  if (status != t.expect)
    return fail(fmt::format("GET {}{}: status {} (want {})", where, t.path,
                            status ? std::to_string(status) : "none", t.expect));
  ::close(fd);
  r.ok = true;
  return r;
}

HealthChecker::HealthChecker() : thread_([this] { run(); }) {}

HealthChecker::~HealthChecker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HealthChecker::set_targets(std::vector<HealthTarget> targets) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint32_t, HealthTarget> next;
  for (auto& t : targets) next[t.backend_id] = std::move(t);
  for (auto it = due_ms_.begin(); it != due_ms_.end();) {
    auto n = next.find(it->first);
    // A changed target starts afresh; a removed one is forgotten.
    if (n == next.end() || !(n->second == targets_[it->first]))
      it = due_ms_.erase(it);
    else
      ++it;
  }
  targets_ = std::move(next);
  cv_.notify_all();
}

std::vector<HealthResult> HealthChecker::take_results() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(results_, {});
}

void HealthChecker::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const int64_t now = now_ms();
    std::vector<HealthTarget> due;
    int64_t next_wake = now + 1000;
    for (const auto& [id, t] : targets_) {
      auto it = due_ms_.find(id);
      if (it == due_ms_.end()) it = due_ms_.emplace(id, now).first;
      if (it->second <= now) {
        due.push_back(t);
        it->second = now + t.interval_ms;
      }
      next_wake = std::min(next_wake, it->second);
    }
    if (!due.empty()) {
      lock.unlock();
      // Probes of one round run side by side: one slow backend does not
      // delay the verdict on the others.
      std::vector<std::future<HealthResult>> running;
      for (const auto& t : due) running.push_back(std::async(std::launch::async, probe, t));
      std::vector<HealthResult> done;
      for (auto& f : running) done.push_back(f.get());
      lock.lock();
      for (auto& r : done)
        if (targets_.contains(r.backend_id)) results_.push_back(std::move(r));
      continue;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(next_wake - now_ms(), 10)),
                 [this] { return stop_; });
  }
}

}  // namespace bpfnet::daemon
