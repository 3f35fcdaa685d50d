// The control-plane façade: turns requests into a new desired state (core),
// brings interfaces and maps to it (plumbing, datapath), and persists it.
//
// Every mutating request: compute the next State on a copy (all validation
// happens here, nothing touched yet) -> converge interfaces and maps from the
// current State to it -> persist it atomically -> adopt it. If converging
// fails, the kernel side is converged back to the current State and the
// error is returned, so a failed request changes nothing. A crash between
// converge and persist leaves interfaces the next start removes (they are
// not in the persisted state) and maps it rewrites.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/state.h"
#include "daemon/plumbing.h"
#include "daemon/state_store.h"
#include "datapath/datapath.h"

namespace bpfnet::daemon {

class Controller {
 public:
  using Clock = std::function<std::string()>;  // RFC 3339 "now"

  Controller(StateStore& store, Plumbing& plumbing, core::IdSource& ids, Clock now);

  // The datapath is loaded only after load() has validated everything, so a
  // bad config or state file leaves even the pinned maps untouched.
  void set_datapath(datapath::DatapathPort& datapath) { datapath_ = &datapath; }

  // Loads the persisted state and applies `config` to it, all validated
  // before anything is touched. Throws core::UserError on invalid input.
  void load(const std::optional<core::Config>& config);
  // Brings interfaces and maps to the loaded state: reattaches programs on
  // every endpoint (atomic replace), recreates what is missing, removes what
  // bpfnet created that the state no longer has. Conntrack is left alone.
  void reconcile_all();

  // One control request (userspace/README.md). Throws core::UserError.
  nlohmann::json handle(const std::string& op, const nlohmann::json& args);

  const core::State& state() const { return state_; }

  // Desired map contents for a state, given the host veths that exist.
  static datapath::MapContents project(const core::State& state,
                                       const std::map<std::string, HostLink>& links);

 private:
  void commit(core::State next);
  void converge(const core::State& from, const core::State& to, bool reattach);
  nlohmann::json stats();
  std::vector<core::Cidr> routes_for_pools();

  StateStore& store_;
  Plumbing& plumbing_;
  datapath::DatapathPort* datapath_ = nullptr;
  core::IdSource& ids_;
  Clock now_;
  core::State state_;
  std::map<std::string, HostLink> links_;  // endpoint id -> its host veth
};

}  // namespace bpfnet::daemon
