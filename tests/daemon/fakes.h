// Fakes for daemon tests: the kernel (links, maps) replaced by memory, so the
// real Controller, core and StateStore run without privileges.
#pragma once

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "core/id_source.h"
#include "core/portmap.h"
#include "core/state.h"
#include "daemon/controller.h"
#include "daemon/plumbing.h"
#include "fakes/fake_datapath.h"
#include "fakes/fake_ids.h"

namespace bpfnet::daemon::fakes {

using bpfnet::fakes::FakeDatapath;
using bpfnet::fakes::FakeIds;

// --- fakes ------------------------------------------------------------------------

// The host's links in memory. Every call is recorded as "<method> <arg>";
// `fail_on` names a method that throws instead of doing anything.
class FakePlumbing : public Plumbing {
 public:
  std::map<std::string, HostLink> links;      // by name: network dummies and host veths
  std::set<std::string> namespaces;           // the netns that exist
  std::map<std::string, bool> default_route;  // host veth -> plumbed with a default route
  std::map<std::string, UplinkInfo> uplinks;  // by name
  std::vector<core::Ipv4> addresses;          // the host's IPv4 addresses
  std::vector<std::string> calls;
  std::string fail_on;
  uint32_t next_ifindex = 100;

  std::vector<core::Cidr> routes;  // what host_routes() reports
  std::vector<core::Cidr> host_routes() override { return routes; }
  void check_netns(const std::string& netns) override {
    record("check_netns", netns);
    if (!namespaces.contains(netns)) {
      throw core::UserError(fmt::format("network namespace {} does not exist", netns));
    }
  }
  bool netns_exists(const std::string& netns) override { return namespaces.contains(netns); }
  void loopback_only(const std::string& netns) override {
    check_netns(netns);
    record("loopback_only", netns);
  }
  void ensure_network(const core::Network& network) override {
    record("ensure_network", network.dummy_ifname);
    if (!links.contains(network.dummy_ifname)) links[network.dummy_ifname] = new_link();
  }
  void remove_network(const core::Network& network) override {
    record("remove_network", network.dummy_ifname);
    links.erase(network.dummy_ifname);
  }
  std::optional<HostLink> host_link(const std::string& host_ifname) override {
    auto it = links.find(host_ifname);
    if (it == links.end()) return std::nullopt;
    return it->second;
  }
  HostLink plumb_endpoint(const core::Network&, const core::Endpoint& endpoint,
                          bool with_default_route) override {
    record("plumb_endpoint", endpoint.host_ifname);
    const HostLink link = new_link();
    links[endpoint.host_ifname] = link;
    default_route[endpoint.host_ifname] = with_default_route;
    return link;
  }
  HostLink plumb_docker_endpoint(const core::Network&, const core::Endpoint& endpoint) override {
    record("plumb_docker_endpoint", endpoint.host_ifname);
    const HostLink link = new_link();
    links[endpoint.host_ifname] = link;
    links[endpoint.ifname] = new_link();  // the container side, until Docker moves it
    return link;
  }
  void set_default_route(const core::Network&, const core::Endpoint& endpoint) override {
    record("set_default_route", endpoint.host_ifname);
    default_route[endpoint.host_ifname] = true;
  }
  void unplumb_endpoint(const core::Endpoint& endpoint) override {
    record("unplumb_endpoint", endpoint.host_ifname);
    links.erase(endpoint.host_ifname);
    if (endpoint.docker) links.erase(endpoint.ifname);  // the pair goes together
  }
  std::vector<std::string> managed_links() override {
    std::vector<std::string> out;
    for (const auto& [name, link] : links)
      if (name.starts_with("bn-") || name.starts_with("bnv") || name.starts_with("bnc"))
        out.push_back(name);
    return out;
  }
  void delete_link(const std::string& name) override {
    record("delete_link", name);
    links.erase(name);
  }
  uint32_t vxlan_mtu = 0;  // what ensure_vxlan_device was last given
  uint32_t ensure_vxlan_device(unsigned mtu) override {
    record("ensure_vxlan_device", std::to_string(mtu));
    vxlan_mtu = mtu;
    return kVxlanIfindex;
  }
  static constexpr uint32_t kVxlanIfindex = 900;
  UplinkInfo uplink(const std::string& name) override {
    record("uplink", name);
    auto it = uplinks.find(name);
    if (it == uplinks.end()) throw core::UserError(fmt::format("uplink {}: no such device", name));
    UplinkInfo info = it->second;
    if (info.name.empty()) info.name = name;
    return info;
  }
  std::vector<core::Ipv4> host_addresses() override { return addresses; }
  std::optional<daemon::AddressLink> underlay_link;  // what address_link finds, for any address
  std::optional<daemon::AddressLink> address_link(core::Ipv4) override { return underlay_link; }
  void enable_forwarding() override { record("enable_forwarding", ""); }
  uint64_t netns_cookie() override { return 1; }
  core::PortEnvironment port_environment() override { return {}; }

  // The recorded calls of one method, by argument.
  std::vector<std::string> calls_of(const std::string& method) const {
    std::vector<std::string> out;
    for (const std::string& call : calls)
      if (call.starts_with(method + " ")) out.push_back(call.substr(method.size() + 1));
    return out;
  }

 private:
  void record(const std::string& method, const std::string& arg) {
    calls.push_back(method + " " + arg);
    if (fail_on == method) throw std::runtime_error("fake: " + method + " failed");
  }
  HostLink new_link() {
    HostLink link;
    link.ifindex = next_ifindex++;
    link.mac = {0x0a,
                0x00,
                0x00,
                0x00,
                static_cast<uint8_t>(link.ifindex >> 8),
                static_cast<uint8_t>(link.ifindex)};
    return link;
  }
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/controller_tests.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

inline uint32_t ip(const char* text) { return core::Ipv4::parse(text).value; }

// Options of a daemon started without Docker's default `bridge` network, so
// that a test's own networks take index 1 and the maps hold only them
// (ControllerTest.DefaultBridge* checks the default).
inline ControllerOptions without_default_bridge(ControllerOptions options = {}) {
  options.default_bridge.enabled = false;
  return options;
}

}  // namespace bpfnet::daemon::fakes
