// Pinned maps across builds. Maps outlive bpfnetd (that is how forwarding
// survives restarts), and libbpf reuses a pinned map by name only if it
// matches the new build's definition exactly; otherwise the whole load fails
// with EINVAL. So before a program object loads, every pinned map whose
// type, sizes, flags or layout (its key and value types, as the BTF pinned
// with it describes them) differ from this build's is set aside: libbpf then
// creates it anew, the reconcile refills it from the state, and the start
// says what that cost (flows, counters). Programs still attached keep the
// old map until the reconcile swaps them, so forwarding never stops.
#pragma once

#include <string>
#include <vector>

struct bpf_map;
struct bpf_object;

namespace bpfnet::datapath {

struct ReplacedPin {
  std::string name;      // "bpfnet_uplinks"
  std::string pin_path;  // where it was pinned, and the new map will be
  std::string aside;     // where the old one waits until the load succeeds ("..__set_aside")
  std::string why;       // "value 12 -> 16 bytes", "value layout changed"
  std::string cost;      // "refilled from the state", "its flows are lost: ..."
};

// Call after open (pin paths set) and before load.
std::vector<ReplacedPin> set_aside_incompatible_pins(struct bpf_object* obj);
// After every object loaded: the old maps are unpinned (programs still
// attached hold them until they are replaced).
void drop_set_aside(const std::vector<ReplacedPin>& replaced);
// The load failed: the old pins go back, nothing changed.
void restore_set_aside(const std::vector<ReplacedPin>& replaced);

// The key => value layout of a map as set_aside_incompatible_pins compares
// it (tests, and `bpfnetctl doctor`).
std::string map_layout(const struct bpf_map* map, const struct bpf_object* obj);

}  // namespace bpfnet::datapath
