// The one exception type of the control plane.
#pragma once

#include <stdexcept>
#include <string>

namespace bpfnet::core {

// A mistake in what the user asked for (or in a file the user handed us). The
// message is shown verbatim, so it names the bad field or value and reuses
// Docker's wording where Docker has one.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace bpfnet::core
