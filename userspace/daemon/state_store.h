// The persisted desired state: one JSON document under --state-dir, written
// crash-safely (temp file, fsync, rename, fsync of the directory), so a crash
// leaves either the old or the new state, never a torn one.
#pragma once

#include <optional>
#include <string>

#include "core/state.h"

namespace bpfnet::daemon {

class StateStore {
 public:
  explicit StateStore(std::string dir);
  // nullopt when there is no state file yet. Throws core::UserError naming
  // the file when it is unreadable or invalid.
  std::optional<core::State> load() const;
  void save(const core::State& state) const;
  std::string path() const { return dir_ + "/state.json"; }

 private:
  std::string dir_;
};

}  // namespace bpfnet::daemon
