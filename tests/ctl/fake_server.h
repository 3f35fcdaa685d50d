// A fake bpfnetd for tests: a unix socket in a temporary directory, served by
// a thread that answers each connection with a handler's reply.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bpfnet::ctl::fake {

// A fresh temporary directory, removed (with the socket in it) at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ctl_tests.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    ::unlink((path_ + "/bpfnetd.sock").c_str());
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string socket() const { return path_ + "/bpfnetd.sock"; }

 private:
  std::string path_;
};

struct Reply {
  std::string bytes;                   // written as they are (add the '\n' yourself)
  std::chrono::milliseconds delay{0};  // before writing
};

class FakeServer {
 public:
  using Handler = std::function<Reply(const std::string& request_line)>;

  // Serves `connections` connections, then stops.
  explicit FakeServer(Handler handler, int connections = 1) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, dir_.socket().c_str(), sizeof(addr.sun_path) - 1);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      throw std::runtime_error("bind/listen failed");
    }
    thread_ = std::thread([this, connections] { serve(connections); });
  }
  ~FakeServer() {
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string socket() const { return dir_.socket(); }

  // The request lines received (without the '\n'); call after the client is done.
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve(int connections) {
    for (int i = 0; i < connections; ++i) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 5000) <= 0) return;  // the client never came
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string line;
      char c;
      while (::recv(fd, &c, 1, 0) == 1 && c != '\n') line.push_back(c);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(line);
      }
      const Reply reply = handler_(line);
      std::this_thread::sleep_for(reply.delay);
      size_t sent = 0;
      while (sent < reply.bytes.size()) {
        const ssize_t n =
            ::send(fd, reply.bytes.data() + sent, reply.bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::close(fd);
    }
  }

  TempDir dir_;
  Handler handler_;
  int listen_fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

}  // namespace bpfnet::ctl::fake
