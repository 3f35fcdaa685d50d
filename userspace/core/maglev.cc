#include "core/maglev.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/numbers.h"

namespace bpfnet::core {
namespace {

// SplitMix64's finalizer: a bijection on 64 bits with full avalanche, so
// neighbouring ids get unrelated permutations. Fixed here (not std::hash) so
// tables are the same on every build and every restart.
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr uint64_t kOffsetSeed = 0x6a09e667f3bcc908ULL;  // sqrt(2), sqrt(3) fractions
constexpr uint64_t kSkipSeed = 0xbb67ae8584caa73bULL;

uint64_t hash_id(uint32_t id, uint64_t seed) { return mix64(mix64(id) ^ seed); }

// Where a backend is in its permutation of the slots.
struct Walker {
  uint32_t id;
  uint64_t weight;
  uint64_t slot;   // the next preferred slot
  uint64_t skip;   // 1..size-1: with a prime size, every slot comes up once
  uint64_t turns;  // slots claimed so far
};

// The next slot of the permutation: (slot + skip) mod size, without a
// division (both are below size).
void advance(Walker& walker, uint64_t size) {
  walker.slot += walker.skip;
  if (walker.slot >= size) walker.slot -= size;
}

// The round of a backend's k-th turn (k >= 1): ceil(k * max / weight).
uint64_t round_of_turn(uint64_t k, uint64_t max_weight, uint64_t weight) {
  return (k * max_weight + weight - 1) / weight;
}

}  // namespace

MaglevPermutation maglev_permutation(uint32_t id, uint32_t size) {
  return MaglevPermutation{static_cast<uint32_t>(hash_id(id, kOffsetSeed) % size),
                           static_cast<uint32_t>(hash_id(id, kSkipSeed) % (size - 1) + 1)};
}

void check_maglev_table_size(uint32_t size) {
  if (size < kMinMaglevTableSize || size > kMaxMaglevTableSize || !is_prime(size)) {
    throw UserError(fmt::format("invalid table size {}: must be a prime between {} and {}", size,
                                kMinMaglevTableSize, kMaxMaglevTableSize));
  }
}

std::vector<uint32_t> maglev_table(const std::vector<MaglevBackend>& backends, uint32_t size) {
  check_maglev_table_size(size);
  std::set<uint32_t> seen;
  std::vector<MaglevBackend> active;
  for (const MaglevBackend& backend : backends) {
    if (backend.id == kNoBackend) {
      throw UserError(
          fmt::format("invalid backend id {}: it is the empty-slot marker", backend.id));
    }
    if (!seen.insert(backend.id).second) {
      throw UserError(fmt::format("duplicate backend id {}", backend.id));
    }
    if (backend.weight > 0) active.push_back(backend);
  }
  std::vector<uint32_t> table(size, kNoBackend);
  if (active.empty()) return table;
  std::sort(active.begin(), active.end(),
            [](const MaglevBackend& a, const MaglevBackend& b) { return a.id < b.id; });

  uint64_t max_weight = 0;
  std::vector<Walker> walkers;
  walkers.reserve(active.size());
  for (const MaglevBackend& backend : active) {
    max_weight = std::max<uint64_t>(max_weight, backend.weight);
    MaglevPermutation permutation = maglev_permutation(backend.id, size);
    walkers.push_back(Walker{backend.id, backend.weight, permutation.offset, permutation.skip, 0});
  }

  // Turns in order of (round, position by id): the order in which Katran's
  // cumulative-weight loop hands them out, without visiting every backend
  // in every round (a light backend may wait many rounds for a turn).
  using Turn = std::pair<uint64_t, size_t>;
  std::priority_queue<Turn, std::vector<Turn>, std::greater<>> turns;
  for (size_t i = 0; i < walkers.size(); ++i) {
    turns.emplace(round_of_turn(1, max_weight, walkers[i].weight), i);
  }
  for (uint32_t filled = 0; filled < size; ++filled) {
    auto [round, i] = turns.top();
    turns.pop();
    Walker& walker = walkers[i];
    // Terminates: the permutation visits every slot, and one is still free.
    while (table[walker.slot] != kNoBackend) advance(walker, size);
    table[walker.slot] = walker.id;
    advance(walker, size);
    ++walker.turns;
    turns.emplace(round_of_turn(walker.turns + 1, max_weight, walker.weight), i);
  }
  return table;
}

std::vector<SlotChange> maglev_delta(const std::vector<uint32_t>& before,
                                     const std::vector<uint32_t>& after) {
  std::vector<SlotChange> changes;
  bool full = before.size() != after.size();
  for (size_t slot = 0; slot < after.size(); ++slot) {
    if (full || before[slot] != after[slot]) {
      changes.push_back(SlotChange{static_cast<uint32_t>(slot), after[slot]});
    }
  }
  return changes;
}

}  // namespace bpfnet::core
