// The control socket: one JSON request per connection (userspace/README.md),
// served on the daemon's single thread between signal checks.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bpfnet::daemon {

// A listening unix stream socket at `path` (mode 0660), its directory
// created. A stale socket file is replaced; one another process answers on
// is refused with UserError naming `flag` (the option that set the path).
int listen_unix_socket(const std::string& path, std::string_view flag);

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const std::string& op, const nlohmann::json& args)>;

  // Binds `path` (creating its directory; replacing a stale socket file, but
  // refusing when another daemon answers on it).
  explicit ControlServer(std::string path);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Serves until SIGTERM or SIGINT arrives (they must be blocked by the
  // caller), calling `tick` about every `tick_ms` between requests.
  void run(const Handler& handler, const std::function<void()>& tick = {}, int tick_ms = 5000);

 private:
  void serve_one(int conn, const Handler& handler);
  std::string path_;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
};

}  // namespace bpfnet::daemon
