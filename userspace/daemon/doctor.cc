// Controller::doctor: the state, the links and the maps checked against each
// other, read-only. After a crash at any point, the restart's reconcile
// must leave nothing for it to report (tests/e2e/crash.sh).
#include <fmt/format.h>

#include "core/error.h"
#include "core/maglev.h"
#include "core/service.h"
#include "daemon/controller.h"
#include "datapath/projection.h"

namespace bpfnet::daemon {

namespace {

// "3 missing, 1 extra, 2 different" for one table of the delta, or "".
template <typename Changes>
std::string table_drift(const Changes& c, size_t extra) {
  if (c.upserts.empty() && extra == 0) return "";
  return fmt::format("{} missing or different, {} extra", c.upserts.size(), extra);
}

}  // namespace

void Controller::check_links(std::vector<std::string>& problems) {
  for (const auto& net : state_.networks)
    if (!net.builtin && !plumbing_.host_link(net.dummy_ifname))
      problems.push_back(
          fmt::format("network {}: interface {} is missing", net.name, net.dummy_ifname));
  for (const auto& ep : state_.endpoints) {
    if (!ep.plumbed()) continue;
    std::optional<HostLink> link = plumbing_.host_link(ep.host_ifname);
    if (!link) {
      // A container whose namespace went keeps its endpoint until
      // `network disconnect`, as the log said: not drift.
      if (!ep.docker && !plumbing_.netns_exists(ep.netns)) continue;
      problems.push_back(
          fmt::format("container {}: host interface {} is missing", ep.container, ep.host_ifname));
      continue;
    }
    if (!datapath_->endpoint_attached(link->ifindex))
      problems.push_back(
          fmt::format("container {}: no bpfnet program on {}", ep.container, ep.host_ifname));
  }
  const std::set<std::string> wanted = wanted_links(state_);
  for (const auto& name : plumbing_.managed_links())
    if (!wanted.contains(name))
      problems.push_back(fmt::format("interface {} is bpfnet's but in no state: leaked", name));
}

void Controller::check_maps(std::vector<std::string>& problems) {
  const datapath::MapDelta delta =
      datapath::diff(datapath_->read_maps(), datapath::project(state_, links_, host_));
#define BPFNET_DOCTOR_TABLE(name, Key, Value)                                         \
  if (std::string d = table_drift(delta.name, delta.name.deletes.size()); !d.empty()) \
    problems.push_back(fmt::format("map table {}: {}", #name, d));
  BPFNET_CONFIG_TABLES(BPFNET_DOCTOR_TABLE)
#undef BPFNET_DOCTOR_TABLE
  std::set<uint32_t> tables;
  for (const auto& svc : state_.services) {
    tables.insert(svc.index);
    const std::vector<uint32_t> want =
        core::maglev_table(core::maglev_input(svc, unhealthy_backends()), svc.table_size);
    if (datapath_->read_maglev(svc.index) != want)
      problems.push_back(fmt::format("service {}: its Maglev table differs", svc.name));
  }
  for (uint32_t index : datapath_->maglev_indexes())
    if (!tables.contains(index))
      problems.push_back(fmt::format("Maglev table {} belongs to no service", index));
}

std::vector<std::string> Controller::doctor() {
  std::vector<std::string> problems;
  try {
    core::validate_state(state_);  // addresses given once, names unique, limits
  } catch (const core::UserError& e) {
    problems.push_back(std::string("state: ") + e.what());
  }
  check_links(problems);
  check_maps(problems);
  return problems;
}

}  // namespace bpfnet::daemon
