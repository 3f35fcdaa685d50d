#include "store/etcd_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace bpfnet::store {

namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<grpc::Channel> make_channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  // etcd members are reached directly, never through an http_proxy from
  // the environment.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  // gRPC's default reconnect backoff grows to two minutes; a member that
  // comes back must be used again within about a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // This one is the connect timeout too: a member that is starting (WAL
  // replay, election) can take over a second to finish the HTTP/2
  // handshake, and a shorter timeout would abort every attempt.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  // Pings find a member that vanished without closing the connection (a
  // watch stream would otherwise wait forever). etcd refuses pings more
  // often than --grpc-keepalive-min-time (5 s by default).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // A full range of a large cluster is bigger than gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(256 << 20);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

std::string describe(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    case grpc::StatusCode::UNAVAILABLE: {
      // gRPC's connect failures nest ("failed to connect to all addresses;
      // last error: UNKNOWN: ipv4:H:P: Failed to connect to remote host:
      // Connection refused"): the innermost part says it.
      const std::string& message = status.error_message();
      if (message.empty()) return "unavailable";
      if (message.find("last error: ") == std::string::npos) return message;
      return message.substr(message.rfind(": ") + 2);
    }
    default:
      return status.error_message();
  }
}

// How long a retry waits for one member's connection before trying it.
constexpr auto kConnectSlice = std::chrono::milliseconds(300);

}  // namespace

bool is_member_failure(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return false;
  }
}

EtcdCluster::EtcdCluster(EtcdOptions options) : options_(std::move(options)) {
  if (options_.endpoints.empty()) throw std::invalid_argument("etcd: no endpoints");
  for (const auto& endpoint : options_.endpoints) {
    EtcdMember member;
    member.endpoint = endpoint;
    member.channel = make_channel(endpoint);
    member.kv = etcdserverpb::KV::NewStub(member.channel);
    member.lease = etcdserverpb::Lease::NewStub(member.channel);
    member.watch = etcdserverpb::Watch::NewStub(member.channel);
    members_.push_back(std::move(member));
  }
}

bool EtcdCluster::await_connect(size_t index, Clock::time_point deadline) {
  auto& channel = member(index).channel;
  auto system_deadline =
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now());
  grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (!channel->WaitForStateChange(state, system_deadline)) return false;
    state = channel->GetState(/*try_to_connect=*/true);
  }
  return true;
}

void EtcdCluster::call(
    const std::function<grpc::Status(EtcdMember&, grpc::ClientContext&)>& attempt) {
  const auto deadline = Clock::now() + options_.call_timeout;
  // The last failure of each member, for the message.
  std::vector<std::string> failures(members_.size());
  bool any_deadline = false;
  size_t first = preferred();
  for (size_t tried = 0;; ++tried) {
    auto now = Clock::now();
    if (now >= deadline) break;
    size_t index = (first + tried) % members_.size();
    // A pass over every member failed fast: from now on give each member's
    // connection a moment to come up (this also paces the retries).
    if (tried >= members_.size()) {
      await_connect(index, std::min<Clock::time_point>(now + kConnectSlice, deadline));
      if (Clock::now() >= deadline) break;
    }
    grpc::ClientContext context;
    // gRPC takes only system_clock deadlines.
    auto budget = std::min<Clock::duration>(options_.attempt_timeout, deadline - Clock::now());
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(budget));
    grpc::Status status = attempt(members_[index], context);
    if (status.ok()) {
      prefer(index);
      return;
    }
    if (is_member_failure(status)) {
      any_deadline |= status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      failures[index] = fmt::format("{}: {}", members_[index].endpoint, describe(status));
      continue;
    }
    if (status.error_code() == grpc::StatusCode::NOT_FOUND &&
        status.error_message().find("lease not found") != std::string::npos) {
      throw LeaseNotFound();
    }
    throw std::runtime_error(
        fmt::format("etcd {}: {}", members_[index].endpoint, status.error_message()));
  }
  std::string why;
  for (const auto& failure : failures) {
    if (failure.empty()) continue;
    why += why.empty() ? failure : "; " + failure;
  }
  auto seconds = std::chrono::duration<double>(options_.call_timeout).count();
  throw StoreUnavailable(
      fmt::format("{} after {:.1f}s ({})",
                  any_deadline ? "deadline exceeded" : "all endpoints unreachable", seconds, why));
}

}  // namespace bpfnet::store
