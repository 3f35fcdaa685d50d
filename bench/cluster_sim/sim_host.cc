#include "cluster_sim/sim_host.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "daemon/server.h"

namespace bpfnet::bench {

void RecordingDatapath::apply(const datapath::MapDelta& delta) {
  const auto now = SimClock::now();
  FakeDatapath::apply(delta);
  deltas.clear();
  std::lock_guard lock(mutex_);
  for (const auto& [ip, entry] : delta.tunnels.deletes) written_.erase(ip);
  for (const auto& [ip, entry] : delta.tunnels.upserts) written_[ip] = now;
}

std::optional<SimClock::time_point> RecordingDatapath::tunnel_written(uint32_t ip) const {
  std::lock_guard lock(mutex_);
  auto it = written_.find(ip);
  if (it == written_.end()) return std::nullopt;
  return it->second;
}

size_t RecordingDatapath::tunnel_count() const {
  std::lock_guard lock(mutex_);
  return written_.size();
}

std::unordered_map<uint32_t, SimClock::time_point> RecordingDatapath::tunnel_times() const {
  std::lock_guard lock(mutex_);
  return written_;
}

void RecordingDatapath::forget_tunnels() {
  std::lock_guard lock(mutex_);
  written_.clear();
  maps.tunnels.clear();
}

SimHost::SimHost(SimHostOptions options)
    : options_(std::move(options)),
      name_(fmt::format("h{}", options_.index)),
      ids_(static_cast<uint32_t>(options_.index) * 1000003u) {
  std::filesystem::create_directories(options_.dir);
  const std::string underlay =
      fmt::format("10.200.{}.{}", options_.index / 250, options_.index % 250 + 1);
  plumbing_.uplinks["ul0"] =
      daemon::UplinkInfo{7, core::Ipv4::parse(underlay), {}, "ul0", "veth", 1500};
  for (size_t i = 0; i < options_.namespaces; ++i)
    plumbing_.namespaces.insert(fmt::format("ns-{}", i));
}

SimHost::~SimHost() { stop(); }

void SimHost::start() {
  std::lock_guard lock(lock_);
  store_ = std::make_unique<store::EtcdStore>(store::EtcdOptions{.endpoints = {options_.store}});
  state_ = std::make_unique<daemon::StateStore>(options_.dir);
  daemon::ControllerOptions copts;
  copts.underlay = "ul0";
  ctl_ = std::make_unique<daemon::Controller>(
      *state_, plumbing_, ids_, [] { return std::string("2026-12-05T00:00:00Z"); }, copts);
  daemon::ClusterOptions cl;
  cl.host = store::HostRecord{name_, plumbing_.uplinks["ul0"].ip, {}};
  cl.lease_ttl = std::chrono::seconds(options_.lease_ttl_s);
  cl.lease_file = options_.dir + "/cluster-lease";
  cluster_ = std::make_unique<daemon::Cluster>(*store_, std::move(cl));
  ctl_->set_cluster(cluster_.get());
  ctl_->load(std::nullopt);
  ctl_->set_datapath(datapath_);
  ctl_->reconcile_all();
  ctl_->sync_cluster();
  if (!cluster_->started()) throw std::runtime_error(name_ + " did not join the cluster");
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw std::runtime_error("eventfd");
  thread_ = std::thread([this] { loop(); });
}

void SimHost::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
  thread_.join();
  ::close(stop_fd_);
  std::lock_guard lock(lock_);
  ctl_->leave_cluster();
  ctl_.reset();
  cluster_.reset();
  state_.reset();
  store_.reset();
}

// ControlServer::run's timing, with the stop fd where the sockets are.
void SimHost::loop() {
  using std::chrono::milliseconds;
  auto last_tick = SimClock::now();
  auto next_tick = last_tick + milliseconds(options_.tick_ms);
  bool woken = false;
  for (;;) {
    if (SimClock::now() >= next_tick) {
      {
        std::lock_guard lock(lock_);
        try {
          timespec ts{};
          clock_gettime(CLOCK_MONOTONIC, &ts);
          ctl_->tick(uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec));
        } catch (const std::exception& e) {
          fmt::print(stderr, "{}: periodic work: {}\n", name_, e.what());
        }
      }
      last_tick = SimClock::now();
      next_tick = last_tick + milliseconds(options_.tick_ms);
      woken = false;
    }
    pollfd fds[2] = {{stop_fd_, POLLIN, 0},
                     {options_.wake && !woken ? cluster_->wake_fd() : -1, POLLIN, 0}};
    auto wait = std::chrono::duration_cast<milliseconds>(next_tick - SimClock::now()).count();
    if (::poll(fds, 2, static_cast<int>(std::clamp<long>(wait + 1, 0, 60'000))) < 0) continue;
    if (fds[0].revents & POLLIN) return;
    if (fds[1].revents & POLLIN) {
      next_tick = std::min(next_tick, last_tick + daemon::ControlServer::kMinWakeGap);
      woken = true;
    }
  }
}

std::string SimHost::create_overlay(const std::string& name, const std::string& subnet) {
  std::lock_guard lock(lock_);
  return ctl_
      ->handle("network.create",
               nlohmann::json{{"name", name}, {"driver", "overlay"}, {"subnet", subnet}})["Id"]
      .get<std::string>();
}

bool SimHost::has_network(const std::string& name) {
  std::lock_guard lock(lock_);
  return ctl_->state().network_by_name(name) != nullptr;
}

uint32_t SimHost::connect(const std::string& network, const std::string& container, size_t netns,
                          const std::string& ip) {
  nlohmann::json args{
      {"network", network}, {"container", container}, {"netns", fmt::format("ns-{}", netns)}};
  if (!ip.empty()) args["ip"] = ip;
  std::lock_guard lock(lock_);
  nlohmann::json out = ctl_->handle("network.connect", args);
  return core::Ipv4::parse(out["ip"].get<std::string>()).value;
}

}  // namespace bpfnet::bench
