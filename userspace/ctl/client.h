// The control-socket client: one JSON request per connection (see
// userspace/README.md, "Control socket protocol").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ctl/json.h"

namespace bpfnet::ctl {

// A failure to talk to the daemon. what() is the complete line to print.
struct ClientError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Nobody listens on the socket (or it does not exist):
// "Cannot connect to the bpfnet daemon at unix://PATH. Is bpfnetd running?"
struct ConnectError : ClientError {
  using ClientError::ClientError;
};
// The daemon did not answer in time.
struct TimeoutError : ClientError {
  using ClientError::ClientError;
};
// The answer is not a protocol response.
struct ProtocolError : ClientError {
  using ClientError::ClientError;
};

// The daemon answered {"ok": false, "error": ...}; what() is the error as sent
// (line breaks replaced by spaces), without any prefix.
struct DaemonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sends one request ({"op", "args"}) and returns its "result". Throws
// DaemonError or ClientError.
using Transport = std::function<Json(const Json& request)>;

class Client {
 public:
  // Connect operations create interfaces, so the default is generous.
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};
  // Larger responses are refused (`flows` of 262,144 entries is ~100 MB).
  static constexpr size_t kMaxResponseBytes = size_t{1} << 30;
  // The binary subtype of a result handed over as its JSON text (call_text).
  static constexpr uint8_t kResultTextSubtype = 0x6a;

  explicit Client(std::string socket_path, std::chrono::milliseconds timeout = kDefaultTimeout);

  // Connects, writes request.dump() + '\n', reads up to '\n' or EOF, and
  // returns the response's "result". The timeout covers the whole exchange.
  Json call(const Json& request) const;

  // As call(), but a successful result comes back undecoded: a binary value
  // (subtype kResultTextSubtype) holding its JSON text, for results too large
  // to decode into a document in time (`flows`). Errors throw as call().
  Json call_text(const Json& request) const;

  // Validates a response line and returns its "result". Throws DaemonError for
  // {"ok": false}, ProtocolError for anything that is not a response.
  static Json parse_response(std::string_view line);

  const std::string& socket_path() const { return socket_path_; }

  // Connects and writes request.dump() + '\n' (within the timeout); returns
  // the connected socket, which the caller reads and closes (streaming ops
  // such as `monitor`). Throws ClientError.
  int send_request(const std::string& request_line) const;

 private:
  TimeoutError timed_out(std::string_view waiting_for) const;
  std::string exchange(const std::string& line) const;

  std::string socket_path_;
  std::chrono::milliseconds timeout_;
};

}  // namespace bpfnet::ctl
