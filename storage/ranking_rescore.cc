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
    state.signals.carried = 0;
    if (previous != nullptr && state.carried_in) {
      // The window before is re-scored already (oldest first).
      if (const ProductState* before = previous->products.Find(product)) {
        state.signals.carried = space.weights.carry * before->signals.score;
      }
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
  // Logged as the part alone, not its products: replay re-scores the same part of the same
  // state.
  const size_t touched = touched_products_.size();
  RescorePartLocked(space, next->first, part);
  touched_products_.resize(touched);
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
