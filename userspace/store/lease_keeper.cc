#include "store/lease_keeper.h"

#include <algorithm>
#include <utility>

namespace bpfnet::store {

LeaseKeeper::LeaseKeeper(Store& store, LeaseId lease, std::chrono::seconds ttl,
                         std::function<void()> on_lost, std::chrono::milliseconds retry)
    : store_(store),
      lease_(lease),
      interval_(std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100),
                                                    std::chrono::milliseconds(ttl) / 3)),
      retry_(retry),
      on_lost_(std::move(on_lost)) {
  thread_.start([this] { run(); });
}

LeaseKeeper::~LeaseKeeper() { thread_.stop(); }

void LeaseKeeper::run() {
  std::chrono::milliseconds wait = interval_;
  for (;;) {
    if (thread_.sleep_for(wait)) return;
    try {
      if (!store_.keep_alive(lease_)) {
        if (on_lost_) on_lost_();
        return;
      }
      wait = interval_;
    } catch (const StoreUnavailable&) {
      wait = retry_;
    }
  }
}

}  // namespace bpfnet::store
