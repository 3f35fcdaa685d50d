// ClusterRegistry: global networks (names, subnets, VNIs) and their
// cluster-wide IPAM.
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>
#include <utility>

#include "core/error.h"
#include "store/cluster_keys.h"
#include "store/cluster_registry.h"

namespace bpfnet::store {

namespace {

// Optimistic transactions retry when another host changed what they read;
// past this many lost races something is wrong.
constexpr int kMaxAttempts = 64;

std::runtime_error too_much_contention(std::string_view what) {
  return std::runtime_error(
      fmt::format("{}: gave up after {} conflicting attempts", what, kMaxAttempts));
}

// The request's own rules, before the cluster is asked.
void check_network_request(NetworkRecord& network) {
  if (network.name.empty()) throw core::UserError("network name must not be empty");
  if (!network.subnet.is_network_address() || network.subnet.prefix_len > 30) {
    throw core::UserError(
        fmt::format("invalid overlay subnet {}: expected a network address "
                    "with a prefix of at most /30",
                    network.subnet.to_string()));
  }
  if (network.gateway == core::Ipv4{}) {
    network.gateway = core::Ipv4{network.subnet.network().value + 1};
  }
  if (!network.subnet.contains(network.gateway) || network.gateway == network.subnet.network() ||
      network.gateway == network.subnet.broadcast()) {
    throw core::UserError(fmt::format("invalid gateway {}: not a host address of subnet {}",
                                      network.gateway.to_string(), network.subnet.to_string()));
  }
  if (network.ip_range && !network.subnet.contains(*network.ip_range)) {
    throw core::UserError(fmt::format("invalid ip-range {}: not inside subnet {}",
                                      network.ip_range->to_string(), network.subnet.to_string()));
  }
}

[[noreturn]] void throw_overlap(const core::Cidr& subnet, const std::string& what,
                                const core::Cidr& other) {
  // The first half is Docker's wording (core/network_settings.cc uses it too).
  throw core::UserError(
      fmt::format("Pool overlaps with other one on this address space: {} overlaps {} ({})",
                  subnet.to_string(), what, other.to_string()));
}

uint32_t lowest_free_vni(const std::set<uint32_t>& taken) {
  for (uint32_t vni = kFirstAutoVni; vni <= kMaxVni; ++vni) {
    if (!taken.contains(vni)) return vni;
  }
  throw core::UserError("no free VXLAN ID left");
}

}  // namespace

std::pair<NetworkRecord, int64_t> ClusterRegistry::get_network(const std::string& network_id) {
  const std::string key = keys::network(network_id);
  auto kv = store_.get(key);
  if (!kv) throw core::UserError(fmt::format("network {} not found", network_id));
  return {network_from_json(key, kv->value), kv->create_revision};
}

std::vector<NetworkRecord> ClusterRegistry::networks() {
  std::vector<NetworkRecord> out;
  for (const auto& kv : store_.range_prefix(keys::networks_prefix()).kvs) {
    out.push_back(network_from_json(kv.key, kv.value));
  }
  return out;
}

std::optional<NetworkRecord> ClusterRegistry::find_network(const std::string& name_or_id) {
  auto all = networks();
  for (const auto& network : all) {
    if (network.id == name_or_id) return network;
  }
  for (const auto& network : all) {
    if (network.name == name_or_id) return network;
  }
  return std::nullopt;
}

NetworkRecord ClusterRegistry::create_network(NetworkRecord network,
                                              const std::vector<core::Cidr>& local_subnets) {
  check_network_request(network);
  const std::optional<uint32_t> requested = requested_vni(network.options);
  network.created_by = options_.host.name;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    RangeResult existing = store_.range_prefix(keys::networks_prefix());
    std::map<uint32_t, std::string> vni_owner;
    for (const auto& kv : existing.kvs) {
      NetworkRecord other = network_from_json(kv.key, kv.value);
      if (other.name == network.name) {
        throw core::UserError(fmt::format("network with name {} already exists", network.name));
      }
      if (other.subnet.overlaps(network.subnet)) {
        throw_overlap(network.subnet, "overlay network " + other.name, other.subnet);
      }
      vni_owner[other.vni] = other.name;
    }
    for (const auto& subnet : local_subnets) {
      if (subnet.overlaps(network.subnet)) {
        throw_overlap(network.subnet, "a local network of host " + options_.host.name, subnet);
      }
    }
    for (const auto& kv : store_.range_prefix(keys::hosts_prefix()).kvs) {
      HostRecord host = host_from_json(kv.key, kv.value);
      for (const auto& subnet : host.local_subnets) {
        if (subnet.overlaps(network.subnet)) {
          throw_overlap(network.subnet, "a local network of host " + host.name, subnet);
        }
      }
    }
    std::set<uint32_t> taken;
    for (const auto& kv : store_.range_prefix(keys::vnis_prefix()).kvs) {
      taken.insert(static_cast<uint32_t>(std::stoul(kv.key.substr(keys::vnis_prefix().size()))));
    }
    if (requested && taken.contains(*requested)) {
      auto owner = vni_owner.find(*requested);
      throw core::UserError(fmt::format("VXLAN ID {} is already in use by network {}", *requested,
                                        owner == vni_owner.end() ? "?" : owner->second));
    }
    network.vni = requested ? *requested : lowest_free_vni(taken);
    // Serialisable against every other create: no network appeared or
    // changed since our read, and the VNI is still free.
    Txn txn{{Compare::prefix_unchanged_since(keys::networks_prefix(), existing.revision),
             Compare::absent(keys::vni(network.vni))},
            {Operation::put(keys::network(network.id), to_json(network)),
             Operation::put(keys::vni(network.vni), network.id)},
            {}};
    if (store_.commit(txn).succeeded) return network;
  }
  throw too_much_contention("network create");
}

void ClusterRegistry::remove_network(const std::string& network_id) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const std::string key = keys::network(network_id);
    auto kv = store_.get(key);
    if (!kv) throw core::UserError(fmt::format("network {} not found", network_id));
    NetworkRecord network = network_from_json(key, kv->value);
    std::set<std::string> hosts;
    for (const auto& endpoint : endpoints(network_id)) hosts.insert(endpoint.host);
    for (const auto& address : store_.range_prefix(keys::addresses_prefix(network_id)).kvs) {
      hosts.insert(address_from_json(address.key, address.value).host);
    }
    if (!hosts.empty()) {
      throw core::UserError(fmt::format(
          "error while removing network: network {} id {} has active endpoints (on hosts {})",
          network.name, network.id, fmt::join(hosts, ", ")));
    }
    // No endpoint or address may appear between our read and the delete:
    // allocations compare the network's key, we compare their prefixes.
    Txn txn{{Compare::mod_revision_is(key, kv->mod_revision),
             Compare::prefix_empty(keys::endpoints_prefix(network_id)),
             Compare::prefix_empty(keys::addresses_prefix(network_id))},
            {Operation::erase(key), Operation::erase(keys::vni(network.vni))},
            {}};
    if (store_.commit(txn).succeeded) return;
  }
  throw too_much_contention("network rm");
}

core::Ipv4 ClusterRegistry::allocate_address(const std::string& network_id,
                                             const std::string& owner,
                                             std::optional<core::Ipv4> wanted) {
  // Not a structured binding: the lambdas below capture both (clang 14,
  // which builds the fuzz targets, cannot capture bindings).
  const std::pair<NetworkRecord, int64_t> read = get_network(network_id);
  const NetworkRecord& network = read.first;
  const int64_t network_revision = read.second;
  const LeaseId lease = require_lease();
  const std::string value = to_json(AddressRecord{options_.host.name, owner});
  const std::string network_key = keys::network(network_id);
  // One create-if-absent, valid only while the network is the one we read.
  // Returns the holder when another host (or owner) has the address.
  auto take = [&](core::Ipv4 ip) -> std::optional<AddressRecord> {
    const std::string key = keys::address(network_id, ip);
    TxnResult result = store_.commit(
        Txn{{Compare::absent(key), Compare{network_key, "", Compare::Target::kCreateRevision,
                                           Compare::Result::kEqual, network_revision}},
            {Operation::put(key, value, lease)},
            {key, network_key}});
    const auto& holder = result.failure_reads.empty() ? std::nullopt : result.failure_reads[0];
    // Our own earlier attempt whose answer was lost counts as success.
    if (result.succeeded || (holder && holder->lease == lease && holder->value == value)) {
      std::lock_guard lock(mutex_);
      owned_.addresses[key] = value;
      return std::nullopt;
    }
    const auto& current = result.failure_reads.at(1);
    if (!current || current->create_revision != network_revision) {
      throw core::UserError(fmt::format("network {} not found", network_id));
    }
    return holder ? address_from_json(key, holder->value) : AddressRecord{};
  };
  auto reserved = [&](core::Ipv4 ip) {
    return ip == network.subnet.network() || ip == network.subnet.broadcast() ||
           ip == network.gateway;
  };
  if (wanted) {
    if (!network.subnet.contains(*wanted) || reserved(*wanted)) {
      throw core::UserError(
          fmt::format("Invalid address {}: It does not belong to any of this network's subnets",
                      wanted->to_string()));
    }
    if (auto holder = take(*wanted)) {
      throw core::UserError(fmt::format("Address already in use: {} is used by host {}",
                                        wanted->to_string(), holder->host));
    }
    return *wanted;
  }
  const core::Cidr pool = network.ip_range.value_or(network.subnet);
  std::minstd_rand random(std::random_device{}());
  // Addresses found held during this call (lost races: the view may not
  // have them yet) and this host's own (taken, perhaps not yet watched).
  std::set<core::Ipv4> held;
  {
    std::lock_guard lock(mutex_);
    const std::string prefix = keys::addresses_prefix(network_id);
    for (auto it = owned_.addresses.lower_bound(prefix);
         it != owned_.addresses.end() && it->first.starts_with(prefix); ++it)
      if (auto ip = core::Ipv4::try_parse(keys::parse(it->first).second)) held.insert(*ip);
  }
  auto skip = [&](core::Ipv4 ip) { return reserved(ip) || held.contains(ip); };
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    // The lowest free address, as Docker hands them out. After a lost race
    // (other hosts connecting at the same moment try the same one), one of
    // the lowest 2, 4, 8... free ones at random, so that N racers need
    // about log2(N) rounds instead of N.
    const size_t window = size_t{1} << std::min(attempt, 16);
    std::vector<core::Ipv4> candidates =
        free_candidates(network_id, pool, skip, window).value_or(std::vector<core::Ipv4>{});
    if (candidates.empty()) candidates = free_in_store(network_id, pool, skip, window);
    if (candidates.empty()) break;
    core::Ipv4 ip =
        candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(random)];
    if (!take(ip)) return ip;
    held.insert(ip);
  }
  throw core::UserError(
      fmt::format("no available IPv4 addresses on this network's address pools: {} ({})",
                  network.name, network.id));
}

std::optional<std::vector<core::Ipv4>> ClusterRegistry::free_candidates(
    const std::string& network_id, const core::Cidr& pool,
    const std::function<bool(core::Ipv4)>& skip, size_t count) const {
  FreeAddresses source;
  {
    std::lock_guard lock(mutex_);
    source = free_addresses_;
  }
  if (!source) return std::nullopt;
  return source(network_id, pool, skip, count);
}

std::vector<core::Ipv4> ClusterRegistry::free_in_store(const std::string& network_id,
                                                       const core::Cidr& pool,
                                                       const std::function<bool(core::Ipv4)>& skip,
                                                       size_t count) {
  std::set<core::Ipv4> taken;
  for (const auto& kv : store_.range_prefix(keys::addresses_prefix(network_id)).kvs) {
    if (auto ip = core::Ipv4::try_parse(keys::parse(kv.key).second)) taken.insert(*ip);
  }
  std::vector<core::Ipv4> out;
  for (uint64_t i = 0; i < pool.size() && out.size() < count; ++i) {
    core::Ipv4 ip{static_cast<uint32_t>(pool.network().value + i)};
    if (!skip(ip) && !taken.contains(ip)) out.push_back(ip);
  }
  return out;
}

void ClusterRegistry::set_free_addresses(FreeAddresses source) {
  std::lock_guard lock(mutex_);
  free_addresses_ = std::move(source);
}

void ClusterRegistry::release_address(const std::string& network_id, core::Ipv4 ip) {
  const LeaseId lease = require_lease();
  const std::string key = keys::address(network_id, ip);
  store_.commit(Txn{{Compare{key, "", Compare::Target::kLease, Compare::Result::kEqual, lease}},
                    {Operation::erase(key)},
                    {}});
  std::lock_guard lock(mutex_);
  owned_.addresses.erase(key);
}

bool ClusterRegistry::holds_address(const std::string& network_id, core::Ipv4 ip) const {
  std::lock_guard lock(mutex_);
  return owned_.addresses.contains(keys::address(network_id, ip));
}

std::map<core::Ipv4, AddressRecord> ClusterRegistry::addresses(const std::string& network_id) {
  std::map<core::Ipv4, AddressRecord> out;
  const std::string prefix = keys::addresses_prefix(network_id);
  for (const auto& kv : store_.range_prefix(prefix).kvs) {
    auto ip = core::Ipv4::try_parse(std::string_view(kv.key).substr(prefix.size()));
    if (!ip) continue;  // not ours to judge: allocate_address skips it too
    try {
      out[*ip] = address_from_json(kv.key, kv.value);
    } catch (const core::UserError&) {
      out[*ip] = AddressRecord{};  // held, by whom unreadable
    }
  }
  return out;
}

}  // namespace bpfnet::store
