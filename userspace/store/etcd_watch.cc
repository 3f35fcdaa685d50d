#include "store/etcd_watch.h"

#include <utility>
#include <vector>

namespace bpfnet::store {

namespace {

WatchEvent from_proto(const mvccpb::Event& event) {
  const auto& kv = event.kv();
  bool put = event.type() == mvccpb::Event::PUT;
  return WatchEvent{put ? WatchEvent::Type::kPut : WatchEvent::Type::kDelete, kv.key(),
                    put ? kv.value() : std::string(), kv.mod_revision(), kv.lease()};
}

constexpr auto kReconnectPause = std::chrono::milliseconds(100);
constexpr auto kConnectWait = std::chrono::milliseconds(500);

}  // namespace

EtcdWatch::EtcdWatch(std::shared_ptr<EtcdCluster> cluster, std::string prefix,
                     int64_t from_revision, WatchCallback callback)
    : cluster_(std::move(cluster)),
      prefix_(std::move(prefix)),
      next_revision_(from_revision),
      callback_(std::move(callback)) {
  thread_.start([this] { run(); });
}

EtcdWatch::~EtcdWatch() {
  thread_.stop([this] {
    if (live_context_ != nullptr) live_context_->TryCancel();
  });
}

void EtcdWatch::run() {
  size_t index = cluster_->preferred();
  for (;;) {
    StreamEnd end = stream_from(index);
    if (end != StreamEnd::kBroken) return;
    // This member failed us: the next one, after a pause so a cluster that
    // is down entirely is not hammered, and a moment for its connection.
    ++index;
    if (thread_.sleep_for(kReconnectPause)) return;
    cluster_->await_connect(index, std::chrono::steady_clock::now() + kConnectWait);
  }
}

EtcdWatch::StreamEnd EtcdWatch::stream_from(size_t member_index) {
  EtcdMember& member = cluster_->member(member_index);
  grpc::ClientContext context;
  // Without a leader a member would keep the stream open but silent; with
  // this, etcd cancels it and we move to a member that has one.
  context.AddMetadata("hasleader", "true");
  if (!thread_.unless_stopping([&] { live_context_ = &context; })) return StreamEnd::kStopped;
  auto stream = member.watch->Watch(&context);
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(prefix_);
  create->set_range_end(prefix_range_end(prefix_));
  create->set_start_revision(next_revision_);
  create->set_progress_notify(true);
  StreamEnd end = StreamEnd::kBroken;
  etcdserverpb::WatchResponse response;
  if (stream->Write(request)) {
    while (stream->Read(&response)) {
      if (response.compact_revision() > 0) {
        // Our next revision is gone: say so once and end, the caller resyncs.
        std::vector<WatchEvent> compacted{
            WatchEvent{WatchEvent::Type::kCompacted, "", "", response.compact_revision(), 0}};
        if (!thread_.stopping()) callback_(compacted);
        end = StreamEnd::kCompacted;
        break;
      }
      if (response.canceled()) break;  // e.g. the member lost its leader
      if (response.events_size() == 0) {
        // Created, or a progress notification: everything up to the header's
        // revision has been sent.
        if (!response.created() && response.header().revision() >= next_revision_) {
          next_revision_ = response.header().revision() + 1;
        }
        continue;
      }
      std::vector<WatchEvent> events;
      events.reserve(response.events_size());
      for (const auto& event : response.events()) events.push_back(from_proto(event));
      next_revision_ = events.back().revision + 1;
      if (thread_.stopping()) break;
      callback_(events);
    }
  }
  context.TryCancel();
  stream->Finish();
  thread_.locked([&] { live_context_ = nullptr; });
  return thread_.stopping() ? StreamEnd::kStopped : end;
}

}  // namespace bpfnet::store
