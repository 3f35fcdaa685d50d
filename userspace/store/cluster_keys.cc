#include "store/cluster_keys.h"

#include <array>
#include <utility>

namespace bpfnet::store::keys {

namespace {

// The folders under kRoot, each with what its keys name and how many path
// parts follow the folder.
struct Folder {
  std::string_view name;
  ParsedKey::Kind kind;
  size_t parts;
};
constexpr std::array kFolders{
    Folder{"hosts/", ParsedKey::Kind::kHost, 1},
    Folder{"networks/", ParsedKey::Kind::kNetwork, 1},
    Folder{"vnis/", ParsedKey::Kind::kVni, 1},
    Folder{"ipam/", ParsedKey::Kind::kAddress, 2},
    Folder{"endpoints/", ParsedKey::Kind::kEndpoint, 2},
    Folder{"checks/", ParsedKey::Kind::kCheck, 2},
    Folder{"backends/", ParsedKey::Kind::kBackend, 2},
    Folder{"services/", ParsedKey::Kind::kService, 1},
};

std::string join(std::string_view folder, std::string_view first = {},
                 std::string_view second = {}) {
  std::string key(kRoot);
  key += folder;
  key += first;
  if (!second.empty()) {
    key += '/';
    key += second;
  }
  return key;
}

}  // namespace

std::string hosts_prefix() { return join("hosts/"); }
std::string host(std::string_view name) { return join("hosts/", name); }
std::string networks_prefix() { return join("networks/"); }
std::string network(std::string_view id) { return join("networks/", id); }
std::string vnis_prefix() { return join("vnis/"); }
std::string vni(uint32_t vni) { return join("vnis/", std::to_string(vni)); }
std::string addresses_prefix(std::string_view network_id) {
  return join("ipam/", network_id) + "/";
}
std::string address(std::string_view network_id, core::Ipv4 ip) {
  return join("ipam/", network_id, ip.to_string());
}
std::string all_endpoints_prefix() { return join("endpoints/"); }
std::string endpoints_prefix(std::string_view network_id) {
  return join("endpoints/", network_id) + "/";
}
std::string endpoint(std::string_view network_id, std::string_view endpoint_id) {
  return join("endpoints/", network_id, endpoint_id);
}
std::string check(std::string_view service_id, std::string_view endpoint_id) {
  return join("checks/", service_id, endpoint_id);
}
std::string backends_prefix(std::string_view service_id) {
  return join("backends/", service_id) + "/";
}
std::string backend(std::string_view service_id, std::string_view endpoint_id) {
  return join("backends/", service_id, endpoint_id);
}

std::string services_prefix() { return join("services/"); }
std::string service(std::string_view name) { return join("services/", name); }

ParsedKey parse(std::string_view key) {
  if (key.substr(0, kRoot.size()) != kRoot) return {};
  key.remove_prefix(kRoot.size());
  for (const Folder& folder : kFolders) {
    if (key.substr(0, folder.name.size()) != folder.name) continue;
    std::string_view rest = key.substr(folder.name.size());
    size_t slash = rest.find('/');
    if (folder.parts == 1) {
      if (rest.empty() || slash != std::string_view::npos) return {};
      return ParsedKey{folder.kind, std::string(rest), ""};
    }
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string_view::npos) {
      return {};
    }
    return ParsedKey{folder.kind, std::string(rest.substr(0, slash)),
                     std::string(rest.substr(slash + 1))};
  }
  return {};
}

}  // namespace bpfnet::store::keys
