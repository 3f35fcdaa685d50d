// Simulated hosts on one FakeStore (or any Store) for the registry and view
// tests.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <string>

#include "store/cluster_registry.h"
#include "store/fake_store.h"

namespace bpfnet::store::testing {

inline std::unique_ptr<ClusterRegistry> make_host(
    Store& store, const std::string& name, const std::string& underlay,
    std::chrono::seconds ttl = std::chrono::seconds(10), bool keep_alive_thread = false) {
  RegistryOptions options{HostRecord{name, core::Ipv4::parse(underlay), {}}, ttl,
                          keep_alive_thread};
  auto registry = std::make_unique<ClusterRegistry>(store, options);
  registry->register_host();
  return registry;
}

// A network request as bpfnetd would send it: 64-hex ID, name, subnet.
inline NetworkRecord overlay(const std::string& name, const std::string& subnet,
                             std::map<std::string, std::string> options = {}) {
  static int counter = 0;
  NetworkRecord network;
  network.id = fmt::format("{:064x}", ++counter + (std::hash<std::string>{}(name) << 8));
  network.name = name;
  network.created = "2026-01-01T00:00:00Z";
  network.subnet = core::Cidr::parse(subnet);
  network.options = std::move(options);
  return network;
}

inline EndpointRecord endpoint_record(const NetworkRecord& network, const std::string& id,
                                      core::Ipv4 ip) {
  return EndpointRecord{network.id, id, "ctr-" + id, "", ip, core::mac_for_ip(ip)};
}

// Allocates an address and publishes an endpoint on it, as a connect does.
inline EndpointRecord connect(ClusterRegistry& host, const NetworkRecord& network,
                              const std::string& endpoint_id) {
  core::Ipv4 ip = host.allocate_address(network.id, endpoint_id);
  EndpointRecord endpoint = endpoint_record(network, endpoint_id, ip);
  host.publish_endpoint(endpoint);
  endpoint.host = host.host().name;
  return endpoint;
}

}  // namespace bpfnet::store::testing
