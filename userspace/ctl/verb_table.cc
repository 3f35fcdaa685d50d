// The table assembled from the verbs_*.cc files, and the rows and builders
// that several groups share.
#include "ctl/verb_table.h"

#include <fmt/format.h>

#include "ctl/flags.h"
#include "ctl/render.h"

namespace bpfnet::ctl {

std::string_view VerbRow::group() const {
  const size_t space = name.rfind(' ');
  return space == std::string::npos ? std::string_view() : std::string_view(name).substr(0, space);
}

std::string_view VerbRow::word() const {
  const size_t space = name.rfind(' ');
  return space == std::string::npos ? std::string_view(name)
                                    : std::string_view(name).substr(space + 1);
}

const std::vector<VerbRow>& verb_table() {
  static const std::vector<VerbRow> table = [] {
    std::vector<VerbRow> rows;
    for (auto&& file : {network_verbs(), port_map_verbs(), service_verbs(), uplink_verbs(),
                        daemon_verbs(), monitor_verbs(), flows_verbs()}) {
      rows.insert(rows.end(), file.begin(), file.end());
    }
    return rows;
  }();
  return table;
}

const VerbRow* find_row(std::string_view group, std::string_view word) {
  for (const VerbRow& row : verb_table()) {
    if (row.group() == group && (row.word() == word || (!row.alias.empty() && row.alias == word))) {
      return &row;
    }
  }
  return nullptr;
}

void build_request_without_args(const VerbArgs& given, Command& cmd) {
  cmd.requests.push_back(given.request(""));
}

void build_request_per_name(const VerbArgs& given, Command& cmd) {
  for (const std::string& name : given.positional()) {
    Request req = given.request(name);
    req.args["name"] = name;
    cmd.requests.push_back(std::move(req));
  }
}

namespace {

// `GROUP WORD NAME [NAME...]`: one request per name.
VerbRow per_name_verb(std::string_view group, std::string_view word, VerbHelp help,
                      std::string_view arg, Sends sends,
                      std::string (*render)(const Command&, const Json&)) {
  return VerbRow{.name = fmt::format("{} {}", group, word),
                 .help = std::move(help),
                 .args = {{std::string(arg)}, Arity::kVariadic},
                 .call = {fmt::format("{}.{}", group, word), build_request_per_name, render},
                 .sends = sends};
}

}  // namespace

VerbRow inspect_verb(std::string_view group, std::string_view arg, std::string notes) {
  const std::string listed = fmt::format("Display detailed information on one or more {}s", group);
  return per_name_verb(group, "inspect", {listed, listed + ", as a JSON array.", std::move(notes)},
                       arg, Sends::kInspectEach, render_inspected);
}

VerbRow rm_verb(std::string_view group, std::string_view arg, std::string notes) {
  const std::string listed = fmt::format("Remove one or more {}s", group);
  VerbRow row = per_name_verb(
      group, "rm", {listed, listed + ", printing each name as it is removed.", std::move(notes)},
      arg, Sends::kRemoveEach, render_removed);
  row.alias = "remove";
  return row;
}

}  // namespace bpfnet::ctl
