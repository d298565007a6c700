// Rankings: a weight change re-scores the windows a part at a time (docs/rankings.md, "Scores
// and weights"); storage/ranking.h has the contract.
#include "storage/ranking.h"

namespace podium::storage {

const RankWeights& Rankings::WeightsFor(const Namespace& space, int32_t day, uint64_t product) {
  if (!space.rescore.has_value()) return space.weights;
  const Rescore& rescore = *space.rescore;
  const bool done =
      day < rescore.day ||
      (day == rescore.day && ShardedMap<ProductState>::ShardOf(product) < rescore.part);
  return done ? space.weights : rescore.old_weights;
}

void Rankings::StartRescoreLocked(Namespace& space, const RankWeights& weights) {
  space.rescore = Rescore{space.weights, INT32_MIN, 0};
  space.weights = weights;
}

void Rankings::RescorePartLocked(Namespace& space, int32_t day, size_t part) {
  Window* window = FindWindowLocked(space, day);
  space.rescore->day = day;
  space.rescore->part = part + 1;  // the part's products use the new weights from here on
  if (window == nullptr) return;
  const Window* previous = FindWindowLocked(space, day - 1);
  window->products.ForEachInShard(part, [&](uint64_t product, ProductState& state) {
    // The window before is re-scored already (oldest first). When it has expired, the carried
    // part stays as it was: it is frozen from then on, like every carried part of the oldest
    // window.
    if (previous != nullptr) {
      const ProductState* before = previous->products.Find(product);
      state.signals.carried = state.carried_in && before != nullptr
                                  ? space.weights.carry * before->signals.score
                                  : 0;
    }
    RescoreLocked(space.weights, *window, product, state);
  });
}

void Rankings::StepRescoreLocked(Namespace& space) {
  // The next part: this window's next one, or the first of the next window that exists.
  int32_t day = space.rescore->day;
  size_t part = space.rescore->part;
  if (part == kShardedHashShards) {
    ++day;
    part = 0;
  }
  const auto next = space.windows.lower_bound(day);
  if (next == space.windows.end()) {
    space.rescore.reset();
    rescore_ended_ = true;
    return;
  }
  if (next->first != day) part = 0;
  // Logged as the part's position and its products' final values (RescoreLocked notes them):
  // replay assigns them, so it never depends on what the state it replays on holds.
  RescorePartLocked(space, next->first, part);
  rescored_parts_.emplace_back(next->first, part);
}

Result<RankWeights> Rankings::WeightsOf(std::string_view ns, std::string_view window,
                                        uint64_t product) {
  const std::optional<int32_t> day = ParseRankDayName(window);
  if (!day.has_value()) return Status::InvalidArgument("window must be a day yyyyMMdd");
  std::lock_guard<std::mutex> lock(mutex_);
  return WeightsFor(NamespaceLocked(ns), *day, product);
}

}  // namespace podium::storage
