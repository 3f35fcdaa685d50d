#include "store/stoppable_thread.h"

#include <utility>

namespace bpfnet::store {

StoppableThread::~StoppableThread() { stop(); }

void StoppableThread::start(std::function<void()> body) { thread_ = std::thread(std::move(body)); }

void StoppableThread::stop(const std::function<void()>& interrupt) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (interrupt) interrupt();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool StoppableThread::sleep_for(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, duration, [this] { return stopping_; });
}

bool StoppableThread::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool StoppableThread::unless_stopping(const std::function<void()>& action) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  action();
  return true;
}

void StoppableThread::locked(const std::function<void()>& action) {
  std::lock_guard lock(mutex_);
  action();
}

}  // namespace bpfnet::store
