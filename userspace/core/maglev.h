// Weighted Maglev consistent hashing (Eisenbud et al., NSDI 2016): the
// lookup table a service's datapath indexes with a flow hash. Built here in
// userspace, written to the kernel as deltas.
//
// Each backend walks its own permutation of the slots, (offset + j * skip)
// mod size, where offset and skip come from a 64-bit hash of the backend's
// stable id alone, so a backend's preferences do not depend on the other
// backends. Backends take turns claiming their next free preferred slot until
// the table is full. Weights decide how often a backend gets a turn: with
// W the largest weight, a backend of weight w takes its k-th turn in round
// ceil(k * W / w) (Katran's MaglevHashV2 scheme), and within a round turns go
// by ascending id. So equal weights give plain Maglev's round robin (slot
// counts differ by at most one) and slot counts follow the weights.
#pragma once

#include <cstdint>
#include <vector>

namespace bpfnet::core {

// A slot with no backend: every backend is drained, unhealthy or absent.
inline constexpr uint32_t kNoBackend = 0xffffffff;

// The table sizes the control plane accepts: primes in Cilium's range.
inline constexpr uint32_t kMinMaglevTableSize = 251;
inline constexpr uint32_t kMaxMaglevTableSize = 131071;
inline constexpr uint32_t kDefaultMaglevTableSize = 16381;

struct MaglevBackend {
  uint32_t id = 0;      // stable backend number, never kNoBackend
  uint32_t weight = 0;  // 0: not in the table

  bool operator==(const MaglevBackend&) const = default;
};

// One slot of a table and the backend it now holds.
struct SlotChange {
  uint32_t slot = 0;
  uint32_t backend = 0;

  bool operator==(const SlotChange&) const = default;
};

// Where a backend's walk over the slots starts and how far it steps:
// slot j of its preference list is (offset + j * skip) mod size. A function
// of the id and size alone.
struct MaglevPermutation {
  uint32_t offset = 0;  // 0..size-1
  uint32_t skip = 0;    // 1..size-1

  bool operator==(const MaglevPermutation&) const = default;
};

// For size >= 2 (any prime table size).
MaglevPermutation maglev_permutation(uint32_t id, uint32_t size);

// Throws UserError `invalid table size 1000: must be a prime between 251
// and 131071` unless `size` is a prime in [kMinMaglevTableSize,
// kMaxMaglevTableSize].
void check_maglev_table_size(uint32_t size);

// The lookup table: `size` backend ids. Deterministic, and independent of
// the order of `backends` (they are taken by ascending id). Backends of
// weight 0 are left out; with none left every slot is kNoBackend. More
// backends than slots is allowed (the last in turn order get nothing).
// Throws UserError for a bad size (check_maglev_table_size), a duplicate id
// or the id kNoBackend.
std::vector<uint32_t> maglev_table(const std::vector<MaglevBackend>& backends, uint32_t size);

// The slots whose backend differs between two tables of the same size, in
// slot order, with the backend of `after`: applying them to `before` gives
// `after`. Tables of different sizes (before empty for a new table, or a
// resize) give every slot of `after`: a full rewrite.
std::vector<SlotChange> maglev_delta(const std::vector<uint32_t>& before,
                                     const std::vector<uint32_t>& after);

}  // namespace bpfnet::core
