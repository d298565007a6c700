// Memory per member of a 1M-member sorted set of integer members, measured as jemalloc's
// allocated bytes before and after building it (the allocator podium-server runs with).
// Prints one line per load order; docs/benchmarks.md quotes them.
#include <jemalloc/jemalloc.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "storage/sorted_set.h"

namespace {

using podium::storage::MemberKey;
using podium::storage::SortedSet;

constexpr uint64_t kMembers = 1'000'000;

size_t AllocatedBytes() {
  uint64_t epoch = 1;
  size_t epoch_size = sizeof(epoch);
  mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size);
  size_t allocated = 0;
  size_t allocated_size = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &allocated_size, nullptr, 0) != 0) return 0;
  return allocated;
}

// Builds the set with members in `order` and scores from `score_of`, and prints the cost.
template <typename ScoreOf>
void Measure(const char* name, const std::vector<uint64_t>& order, ScoreOf score_of) {
  const size_t before = AllocatedBytes();
  auto set = std::make_unique<SortedSet>();
  for (uint64_t id : order) {
    if (!set->Set(MemberKey::FromInteger(id), score_of(id)).ok()) std::abort();
  }
  const size_t after = AllocatedBytes();
  std::printf("%-34s members=%zu allocated=%zu bytes  per_member=%.1f  self_reported=%.1f\n",
              name, set->size(), after - before,
              static_cast<double>(after - before) / static_cast<double>(set->size()),
              static_cast<double>(set->memory_bytes()) / static_cast<double>(set->size()));
}

}  // namespace

int main() {
  std::vector<uint64_t> ascending(kMembers);
  std::iota(ascending.begin(), ascending.end(), 0);
  std::vector<uint64_t> shuffled = ascending;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(7));
  std::mt19937_64 random(9);
  std::vector<double> random_scores(kMembers);
  for (double& score : random_scores) score = static_cast<double>(random() % 1'000'000) / 10;

  Measure("random order, random scores", shuffled, [&](uint64_t id) { return random_scores[id]; });
  Measure("random order, score = 0 (ties)", shuffled, [](uint64_t) { return 0.0; });
  Measure("ascending ids, score = id", ascending, [](uint64_t id) { return double(id); });
  return 0;
}
