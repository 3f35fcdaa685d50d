#include "daemon/cluster.h"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <utility>

#include "core/numbers.h"

namespace bpfnet::daemon {

namespace {

std::optional<store::LeaseId> read_lease(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  // Unreadable: a new lease.
  auto lease = core::parse_decimal(text, INT64_MAX);
  if (!lease) return std::nullopt;
  return static_cast<store::LeaseId>(*lease);
}

void write_lease(const std::string& path, store::LeaseId lease) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << lease << "\n";
    if (!out.flush()) throw std::runtime_error(fmt::format("cannot write {}", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(fmt::format("cannot write {}", path));
}

}  // namespace

Cluster::Cluster(store::Store& store, ClusterOptions options)
    : store_(store), options_(std::move(options)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
  store::RegistryOptions ropts;
  ropts.host = options_.host;
  ropts.lease_ttl = options_.lease_ttl;
  ropts.keep_alive_thread = options_.keep_alive_thread;
  registry_ = std::make_unique<store::ClusterRegistry>(store_, ropts);
  view_ = std::make_unique<store::ClusterView>(
      store_, [this](const store::ViewChanges& changes) { note_changes(changes); });
  registry_->set_free_addresses(
      [view = view_.get()](const std::string& network_id, const core::Cidr& pool,
                           const std::function<bool(core::Ipv4)>& skip, size_t count) {
        return view->free_addresses(network_id, pool, skip, count);
      });
}

Cluster::~Cluster() {
  view_.reset();  // no listener call after this
  ::close(wake_fd_);
}

namespace {
datapath::RemoteEndpointFact fact_of(const store::RemoteEndpoint& remote) {
  return datapath::RemoteEndpointFact{remote.endpoint.network_id,
                                      remote.endpoint.container,
                                      remote.endpoint.host,
                                      remote.underlay,
                                      remote.vni,
                                      remote.endpoint.mac.bytes,
                                      remote.endpoint.endpoint_id};
}
}  // namespace

void Cluster::note_changes(const store::ViewChanges& changes) {
  {
    std::lock_guard lock(changes_mutex_);
    pending_.any = true;
    pending_.full |= changes.resynced;
    pending_.networks |= !changes.networks_added.empty() || !changes.networks_removed.empty();
    pending_.backends |= changes.backends_changed;
    // A full reconcile reads the whole view: the changes are in it.
    if (pending_.full) {
      pending_.remote.clear();
    } else {
      auto note = [&](const store::RemoteEndpoint& remote, bool removed) {
        if (remote.endpoint.host == options_.host.name) return;
        pending_.remote.push_back({remote.endpoint.ip.value, fact_of(remote), removed});
      };
      for (const auto& remote : changes.removed) note(remote, true);
      for (const auto& remote : changes.added) note(remote, false);
    }
  }
  mark_changed();
}

void Cluster::mark_full() {
  {
    std::lock_guard lock(changes_mutex_);
    pending_.any = pending_.full = true;
    pending_.remote.clear();
  }
  mark_changed();
}

void Cluster::mark_changed() {
  if (changed_.exchange(true)) return;  // already signalled, not yet taken
  const uint64_t one = 1;
  // EAGAIN (counter full) cannot happen with one write per take; either way
  // the flag is set and the periodic tick still finds it.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

ClusterChanges Cluster::take_changes() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof(count));  // drain (non-blocking)
  changed_.exchange(false);
  std::lock_guard lock(changes_mutex_);
  return std::exchange(pending_, ClusterChanges{});
}

void Cluster::start(const std::vector<core::Cidr>& local_subnets) {
  if (started_) return;
  registry_->register_host(read_lease(options_.lease_file));
  if (!options_.lease_file.empty()) write_lease(options_.lease_file, registry_->lease());
  registry_->set_local_subnets(local_subnets);
  view_->start();
  started_ = true;
  mark_full();
}

void Cluster::stop() {
  if (!started_) return;
  registry_->stop();
  if (!options_.lease_file.empty()) std::remove(options_.lease_file.c_str());
  started_ = false;
}

std::vector<store::EndpointRecord> Cluster::upkeep() {
  if (!started_) return {};
  if (!view_->resync_if_needed()) return {};
  if (!registry_->lease_lost()) return {};
  std::vector<store::EndpointRecord> lost = registry_->renew();
  if (!options_.lease_file.empty()) write_lease(options_.lease_file, registry_->lease());
  mark_full();
  return lost;
}

std::vector<core::Network> Cluster::networks() const {
  std::vector<core::Network> out;
  if (!started_) return out;
  for (const auto& [id, record] : view_->networks()) out.push_back(network_from_record(record));
  return out;
}

std::vector<store::EndpointRecord> Cluster::endpoints(const std::string& network_id) const {
  std::vector<store::EndpointRecord> out;
  if (!started_) return out;
  view_->for_each_endpoint([&](const store::RemoteEndpoint& remote) {
    if (remote.endpoint.network_id == network_id) out.push_back(remote.endpoint);
  });
  return out;
}

std::map<store::ClusterView::BackendKey, store::CheckRecord> Cluster::checks() const {
  if (!started_) return {};
  return view_->checks();
}

std::map<store::ClusterView::BackendKey, store::BackendHealthRecord> Cluster::backend_health()
    const {
  if (!started_) return {};
  return view_->backend_health();
}

std::map<std::string, store::ServiceRecord> Cluster::services() const {
  if (!started_) return {};
  return view_->services();
}

std::map<uint32_t, datapath::RemoteEndpointFact> Cluster::remote_endpoints() const {
  std::map<uint32_t, datapath::RemoteEndpointFact> out;
  if (!started_) return out;
  view_->for_each_endpoint([&](const store::RemoteEndpoint& remote) {
    if (remote.endpoint.host != options_.host.name) out[remote.endpoint.ip.value] = fact_of(remote);
  });
  return out;
}

core::Network network_from_record(const store::NetworkRecord& record) {
  core::Network net;
  net.id = record.id;
  net.name = record.name;
  net.driver = std::string(core::kDriverOverlay);
  net.created = record.created;
  net.subnet = record.subnet;
  net.gateway = record.gateway;
  net.ip_range = record.ip_range;
  net.internal = record.internal;
  net.options = record.options;
  net.vni = record.vni;
  return net;
}

store::NetworkRecord record_from_network(const core::Network& network) {
  return store::NetworkRecord{
      network.id,      network.name,     network.created,  network.subnet.value_or(core::Cidr{}),
      network.gateway, network.ip_range, network.internal, network.options,
      network.vni,     /*created_by=*/""};
}

}  // namespace bpfnet::daemon
