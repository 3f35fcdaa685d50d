// A thread that runs until asked to stop, with sleeps that a stop cuts
// short: the shape of the lease keeper and of each etcd watch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace bpfnet::store {

class StoppableThread {
 public:
  StoppableThread() = default;
  // Stops (see stop()) if still running.
  ~StoppableThread();
  StoppableThread(const StoppableThread&) = delete;
  StoppableThread& operator=(const StoppableThread&) = delete;

  void start(std::function<void()> body);
  // Asks the body to end: `interrupt` runs first under the lock (to cancel
  // a blocking call the body registered with locked()), sleeps wake, and the
  // thread is joined. Must not be called from the thread itself.
  void stop(const std::function<void()>& interrupt = {});
  // Sleeps up to `duration`; true when a stop was asked for.
  bool sleep_for(std::chrono::milliseconds duration);
  bool stopping();
  // Runs `action` under the lock stop() takes, unless a stop was asked for;
  // returns whether it ran.
  bool unless_stopping(const std::function<void()>& action);
  void locked(const std::function<void()>& action);

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bpfnet::store
