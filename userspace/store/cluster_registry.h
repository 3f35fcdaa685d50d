// One host's writes to the cluster store: its registration, global networks,
// cluster-wide IPAM and its endpoints. Pure logic over Store; every rule that
// two hosts could race on is one etcd transaction.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/cluster_records.h"
#include "store/lease_keeper.h"
#include "store/store.h"

namespace bpfnet::store {

struct RegistryOptions {
  HostRecord host;
  std::chrono::seconds lease_ttl{10};
  // Refresh the lease from a thread (LeaseKeeper). Tests on a ManualClock
  // turn it off and call refresh_lease() themselves.
  bool keep_alive_thread = true;
};

class ClusterRegistry {
 public:
  ClusterRegistry(Store& store, RegistryOptions options);
  // Stops refreshing the lease, without revoking it (see stop()).
  ~ClusterRegistry();
  ClusterRegistry(const ClusterRegistry&) = delete;
  ClusterRegistry& operator=(const ClusterRegistry&) = delete;

  // Registers the host under a new lease. With `resume` (the lease of this
  // host's previous run, kept in its state dir), a lease that is still alive
  // and holds this host's record is taken over instead, so a restart keeps
  // its addresses and endpoints. Throws core::UserError `host name NAME is
  // taken by a live host at IP` while another live host has the name.
  void register_host(std::optional<LeaseId> resume = std::nullopt);
  // Graceful stop: revokes the lease, so the host's record, addresses and
  // endpoints go at once. With the store away it throws StoreUnavailable
  // and they go when the lease expires instead.
  void stop();
  LeaseId lease() const;
  const HostRecord& host() const { return options_.host; }
  // One refresh of the lease (keep_alive_thread off). False: the lease is gone.
  bool refresh_lease();
  // True once the store said the lease is gone (the host was cut off for
  // longer than the TTL): the others have dropped its records; renew().
  bool lease_lost() const;
  // A new lease, then the host's record, addresses and endpoints published
  // again. Returns the addresses another host took meanwhile (their
  // endpoints are not republished: the caller must reconnect them).
  std::vector<EndpointRecord> renew();
  // Publishes a new list of the host's local subnets (overlays avoid them).
  void set_local_subnets(std::vector<core::Cidr> subnets);

  // Creates a global network; `vni` and `created_by` are filled in. The
  // checks, against the whole cluster in one transaction: the name is
  // unique, the subnet overlaps no other overlay, no live host's local
  // subnet and none of `local_subnets`; the VNI (vxlanid_list, or the lowest
  // free from 4096) is free.
  NetworkRecord create_network(NetworkRecord network,
                               const std::vector<core::Cidr>& local_subnets = {});
  // Refused (`error while removing network: network NAME id ID has active
  // endpoints`) while any host has an endpoint or an address on it.
  void remove_network(const std::string& network_id);
  std::vector<NetworkRecord> networks();
  // By full ID, then name, as Docker looks networks up.
  std::optional<NetworkRecord> find_network(const std::string& name_or_id);

  // Takes `wanted`, or the lowest free address of the ip-range (else the
  // subnet) other than the network, broadcast and gateway addresses; one
  // create-if-absent per address, under this host's lease, so two hosts
  // never hold the same one.
  core::Ipv4 allocate_address(const std::string& network_id, const std::string& owner,
                              std::optional<core::Ipv4> wanted = std::nullopt);
  // Where automatic allocation finds its candidates: the lowest `count`
  // addresses of `pool` not taken and not `skip`ped, or nullopt when it
  // cannot say (then the network's ipam/ prefix is read from the store).
  // The daemon passes its ClusterView's, which watches ipam/ anyway, so a
  // connect costs no read of every address; the create-if-absent
  // transaction stays the arbiter (a candidate taken meanwhile: the next).
  using FreeAddresses = std::function<std::optional<std::vector<core::Ipv4>>(
      const std::string& network_id, const core::Cidr& pool,
      const std::function<bool(core::Ipv4)>& skip, size_t count)>;
  void set_free_addresses(FreeAddresses source);
  // Releases an address this host holds (another host's is left alone).
  void release_address(const std::string& network_id, core::Ipv4 ip);
  // Whether this host holds the address (as far as it knows: taken by it
  // and not released or lost since).
  bool holds_address(const std::string& network_id, core::Ipv4 ip) const;
  // Every address taken on the network, with who holds it.
  std::map<core::Ipv4, AddressRecord> addresses(const std::string& network_id);

  // Publishes an endpoint of this host (its `host` is set to this host);
  // its address must be one this host allocated.
  void publish_endpoint(EndpointRecord endpoint);
  // A joining host's endpoints (its state after a restart): each one's
  // address taken again and its record published, 64 endpoints per
  // transaction while their addresses are all free (the usual case after a
  // graceful stop or an expired lease), else one by one as
  // allocate_address(wanted) and publish_endpoint do. Returns the endpoints
  // refused (address taken by another host, network gone), with why.
  std::vector<std::pair<EndpointRecord, std::string>> republish(
      const std::vector<EndpointRecord>& endpoints);
  void withdraw_endpoint(const std::string& network_id, const std::string& endpoint_id);
  std::vector<EndpointRecord> endpoints(const std::string& network_id);

  // Services across hosts (store/cluster_backends.cc), each under this
  // host's lease, so they go with the host: the remote backends of this
  // host's services, for their hosts to probe (CheckRecord), and the health
  // of this host's containers that other hosts' services balance to.
  void publish_check(const std::string& service_id, const CheckRecord& check);
  void withdraw_check(const std::string& service_id, const std::string& endpoint_id);
  void publish_backend_health(const std::string& service_id, const std::string& endpoint_id,
                              BackendHealthRecord health);
  void withdraw_backend_health(const std::string& service_id, const std::string& endpoint_id);

  // Services of the cluster (Swarm's routing mesh, store/cluster_services.cc),
  // under no lease: they outlive the host that made them. create_service
  // writes the record and takes its VIP (for vip_owner(name), held by the
  // creating host's name) in one transaction, each only if absent and while
  // the network is there. Throws core::UserError `service with name api
  // already exists in the cluster (created on host h1)`, `Address already
  // in use: 10.0.0.2 is used by host h2` or `network ID not found`.
  void create_service(const ServiceRecord& record);
  // Removes service `name`'s record (while it is service `id`) and its VIP
  // in one transaction. False: there is no such record.
  bool remove_service(const std::string& name, const std::string& id);
  // `edit` applied to service `name`'s record (while it is service `id`) by
  // compare-and-swap, read and applied again after another host's change.
  // Throws core::UserError `service api is no longer in the cluster`.
  void update_service(const std::string& name, const std::string& id,
                      const std::function<void(ServiceRecord&)>& edit);

 private:
  struct Owned {
    std::map<std::string, std::string> addresses;     // key -> AddressRecord JSON
    std::map<std::string, EndpointRecord> endpoints;  // key -> record
    // Records that only need the lease (checks, backend health): key -> JSON.
    std::map<std::string, std::string> records;
  };
  void put_owned(const std::string& key, const std::string& value);
  void erase_owned(const std::string& key);
  LeaseId require_lease() const;
  // One transaction for `batch` when every address is free; false (nothing
  // written) otherwise.
  bool publish_batch(const std::vector<EndpointRecord>& batch);
  void start_keeper(LeaseId lease);
  std::pair<NetworkRecord, int64_t> get_network(const std::string& network_id);
  std::optional<std::vector<core::Ipv4>> free_candidates(
      const std::string& network_id, const core::Cidr& pool,
      const std::function<bool(core::Ipv4)>& skip, size_t count) const;
  std::vector<core::Ipv4> free_in_store(const std::string& network_id, const core::Cidr& pool,
                                        const std::function<bool(core::Ipv4)>& skip, size_t count);

  Store& store_;
  RegistryOptions options_;
  mutable std::mutex mutex_;
  LeaseId lease_ = 0;
  bool lease_lost_ = false;
  Owned owned_;
  std::unique_ptr<LeaseKeeper> keeper_;
  FreeAddresses free_addresses_;
};

}  // namespace bpfnet::store
