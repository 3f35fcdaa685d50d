// The control socket: one JSON request per connection (userspace/README.md),
// served on the daemon's single thread between signal checks and ticks.
// Every client socket is non-blocking and polled together: a client that is
// slow to send (or to read its answer) is simply not ready, and one that
// has not finished within its deadline is told so and dropped, so no client
// can hold up the others or the periodic work.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfnet::daemon {

// A listening unix stream socket at `path` (mode 0660), its directory
// created. A stale socket file is replaced; one another process answers on
// is refused with UserError naming `flag` (the option that set the path).
int listen_unix_socket(const std::string& path, std::string_view flag);

using RequestHandler =
    std::function<nlohmann::json(const std::string& op, const nlohmann::json& args)>;

// The answer to one request line, as sent back (a json_text_result spliced
// in by answer_line) (without the newline):
// {"ok": true, "result": ...} or {"ok": false, "error": "..."}. A request
// nested deeper than kMaxJsonDepth is refused before it is parsed. Never
// throws what `handler` throws.
nlohmann::json answer_request(std::string_view request, const RequestHandler& handler);

// The answer as sent: one line of JSON (never throwing, whatever bytes it
// holds).
std::string answer_line(const nlohmann::json& answer);

struct ControlServerLimits {
  // From accept to the whole request (and again for the whole answer): a
  // client idle or trickling past it is dropped.
  std::chrono::milliseconds client_timeout{5000};
  // Clients served at once; more wait in the listen backlog.
  size_t max_clients = 64;
  size_t max_request_bytes = size_t{1} << 20;
};

// Streaming ops (`monitor`): the request is answered like any other, then
// the connection stays open and the daemon writes lines to it
// (ControlServer::send) until the client hangs up.
struct StreamHooks {
  // Opens stream `id` when `op` streams, returning the first answer's
  // result; nullopt: `op` does not stream (the request handler answers it).
  // A throw refuses the request and opens nothing.
  std::function<std::optional<nlohmann::json>(uint64_t id, const std::string& op,
                                              const nlohmann::json& args)>
      open;
  // Stream `id`'s client has gone (or the server stops).
  std::function<void(uint64_t id)> close;
  // A descriptor polled for readable (-1: none now), and what runs then.
  std::function<int()> fd;
  std::function<void()> on_readable;
};

class ControlServer {
 public:
  using Handler = RequestHandler;
  // Unsent bytes a stream's client may lag behind; send() refuses more.
  static constexpr size_t kMaxStreamBacklog = size_t{4} << 20;

  // Binds `path` (creating its directory; replacing a stale socket file, but
  // refusing when another daemon answers on it).
  explicit ControlServer(std::string path, ControlServerLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Serves until SIGTERM or SIGINT arrives (they must be blocked by the
  // caller), calling `tick` about every `tick_ms` whatever the clients do.
  // `wake_fd` (an eventfd, or -1): when it becomes readable the next tick
  // comes at once, though never sooner than kMinWakeGap after the last one,
  // so that a burst of wake-ups costs at most one tick per gap: a tick has
  // fixed costs besides the cluster's changes, and when a cluster sync
  // still rewrote the whole tunnel map's worth of state, at 10 ms, 50
  // simulated hosts filling a network spent 5x the CPU of the 200 ms tick
  // (bench/RESULTS.md). The tick must drain it (Cluster::take_changes does).
  void run(const Handler& handler, const std::function<void()>& tick = {}, int tick_ms = 5000,
           int wake_fd = -1);
  static constexpr std::chrono::milliseconds kMinWakeGap{50};

  void set_streams(StreamHooks hooks) { streams_ = std::move(hooks); }
  // Queues `line` (with its newline) for stream `id`; false when the client
  // lags kMaxStreamBacklog behind (the line is dropped) or is gone.
  bool send(uint64_t id, std::string_view line);

 private:
  using Clock = std::chrono::steady_clock;
  struct Client {
    int fd = -1;
    std::string in;   // the request so far
    std::string out;  // the answer, once there is one
    size_t sent = 0;
    Clock::time_point deadline;
    uint64_t stream = 0;  // a streaming op's client: its stream id
  };

  void accept_clients();
  // Reads what the client sent; answers once the request is complete.
  // False when the client is done with (gone, or answered in full).
  bool on_readable(Client& client, const Handler& handler);
  // Sends what the socket takes now; false once all is sent or it failed.
  bool on_writable(Client& client);
  // Answers the request in client.in: opens a stream when its op streams.
  void answer_request_of(Client& client, const Handler& handler);
  void answer(Client& client, const nlohmann::json& response);
  // Drops clients past their deadline, telling a still-silent one why.
  void expire_clients(Clock::time_point now);
  // A streaming client's turn: discards what it sends, notices it hang up,
  // sends what waits. False once it has gone.
  bool on_stream_ready(Client& client, short revents);
  void close_client(Client& client);
  int poll_timeout_ms(Clock::time_point now, Clock::time_point next_tick, bool ticking) const;

  std::string path_;
  ControlServerLimits limits_;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  std::vector<Client> clients_;
  StreamHooks streams_;
  uint64_t next_stream_ = 1;
};

}  // namespace bpfnet::daemon
