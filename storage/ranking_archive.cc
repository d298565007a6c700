// Rankings: the archive of expired days' raw signals, the scan podium-batch reads them with,
// and the weekly and monthly boards it publishes. docs/rankings.md, "Raw signals" and
// "Weekly and monthly boards"; storage/ranking.h has the contract.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "storage/limits.h"
#include "storage/ranking.h"

namespace podium::storage {
namespace {

// A product carried into a day without events of its own there has no raw signals that day.
bool HasOwnSignals(const RankSignals& signals) {
  return signals.views != 0 || signals.likes != 0 || signals.order_sum != 0;
}

}  // namespace

int32_t Rankings::FirstKeptDay(int64_t now_ms) {
  using namespace std::chrono;
  const year_month_day today{sys_days{days{RankDayOf(now_ms).index}}};
  const year_month previous = year_month{today.year(), today.month()} - months{1};
  return static_cast<int32_t>(sys_days{previous / 1}.time_since_epoch().count());
}

void Rankings::ArchiveWindowLocked(Namespace& space, std::unique_ptr<Window> window) {
  auto [it, created] = space.archives.try_emplace(window->day.index);
  if (created) {
    it->second = std::make_unique<Archive>();
    it->second->source = std::move(window);
    it->second->parts_done = 0;
    return;
  }
  // A window for a day already archived (only from a damaged log): its products join.
  Archive& archive = *it->second;
  ConvertArchiveLocked(archive, kShardedHashShards);
  window->products.ForEach([&](uint64_t product, const ProductState& state) {
    if (!HasOwnSignals(state.signals)) return;
    InsertArchived(archive, {product, state.signals.views, state.signals.likes,
                             state.signals.order_sum});
  });
  Bury(std::move(window));
}

void Rankings::AppendPartSignals(const Archive& archive, size_t part,
                                 std::vector<DaySignals>* out) {
  if (part < archive.parts_done) {
    out->insert(out->end(), archive.parts[part].begin(), archive.parts[part].end());
    return;
  }
  const size_t first = out->size();
  archive.source->products.ForEachInShard(part, [&](uint64_t product, const ProductState& state) {
    if (!HasOwnSignals(state.signals)) return;
    out->push_back({product, state.signals.views, state.signals.likes, state.signals.order_sum});
  });
  std::sort(out->begin() + static_cast<ptrdiff_t>(first), out->end(),
            [](const DaySignals& a, const DaySignals& b) { return a.product < b.product; });
}

bool Rankings::ConvertArchiveLocked(Archive& archive, size_t parts) {
  for (; parts > 0 && archive.parts_done < kShardedHashShards; --parts) {
    const size_t part = archive.parts_done;
    archive.parts[part].reserve(archive.source->products.ShardSize(part));
    AppendPartSignals(archive, part, &archive.parts[part]);
    archive.parts_done = part + 1;
  }
  return archive.parts_done == kShardedHashShards;
}

void Rankings::InsertArchived(Archive& archive, const DaySignals& signals) {
  DCHECK_EQ(archive.parts_done, kShardedHashShards);
  std::vector<DaySignals>& part = archive.parts[ShardedMap<ProductState>::ShardOf(signals.product)];
  if (part.empty() || part.back().product < signals.product) {  // the loader's usual case
    part.push_back(signals);
    return;
  }
  const auto at = std::lower_bound(
      part.begin(), part.end(), signals.product,
      [](const DaySignals& entry, uint64_t product) { return entry.product < product; });
  if (at != part.end() && at->product == signals.product) {
    *at = signals;
  } else {
    part.insert(at, signals);
  }
}

Result<Rankings::SignalChunk> Rankings::ScanDay(std::string_view ns, std::string_view name,
                                                uint64_t cursor, size_t count,
                                                int64_t now_ms) {
  const std::optional<int32_t> day = ParseRankDayName(name);
  if (!day.has_value()) {
    return Status::InvalidArgument("day must be yyyyMMdd, got '" + std::string(name) + "'");
  }
  if (cursor >= kShardedHashShards) {
    return Status::InvalidArgument("cursor must be 0 or one a previous RANK.SCAN replied");
  }
  if (count < 1 || count > kRankScanCountMax) {
    return Status::InvalidArgument("count must be 1.." + std::to_string(kRankScanCountMax));
  }
  SignalChunk chunk;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto space = namespaces_.find(std::string(ns));
  const Window* window =
      space == namespaces_.end() ? nullptr : FindWindowLocked(space->second, *day);
  // A live window is read whatever its age (a retention of more than a month keeps windows
  // older than the archives' cut).
  if (window == nullptr && *day < FirstKeptDay(now_ms)) {
    return Status::InvalidArgument("the raw signals of day " + std::string(name) +
                                   " are no longer kept (kept: the current and the previous "
                                   "month)");
  }
  if (space == namespaces_.end()) return chunk;
  const auto archive = space->second.archives.find(*day);
  if (window == nullptr && archive == space->second.archives.end()) return chunk;
  size_t part = cursor;
  for (; part < kShardedHashShards && chunk.entries.size() < count; ++part) {
    if (window != nullptr) {
      const size_t first = chunk.entries.size();
      window->products.ForEachInShard(part, [&](uint64_t product, const ProductState& state) {
        if (!HasOwnSignals(state.signals)) return;
        chunk.entries.push_back(
            {product, state.signals.views, state.signals.likes, state.signals.order_sum});
      });
      std::sort(chunk.entries.begin() + static_cast<ptrdiff_t>(first), chunk.entries.end(),
                [](const DaySignals& a, const DaySignals& b) { return a.product < b.product; });
    } else {
      AppendPartSignals(*archive->second, part, &chunk.entries);
    }
  }
  chunk.next_cursor = part == kShardedHashShards ? 0 : part;
  return chunk;
}

Result<uint64_t> Rankings::Publish(std::string_view ns, std::string_view name,
                                   const std::vector<Entry>& entries) {
  if (name.empty() || name.size() > kNameBytesMax || ParseRankDayName(name).has_value()) {
    return Status::InvalidArgument("a period board needs a week yyyyWww or a month yyyyMM");
  }
  if (entries.size() > kRankBoardMembersMax) {
    return Status::InvalidArgument("a period board holds at most " +
                                   std::to_string(kRankBoardMembersMax) + " products");
  }
  // Built aside, without the lock; swapped in under it.
  auto board = std::make_unique<SortedSet>();
  for (const Entry& entry : entries) {
    if (entry.product > kProductIdMax || !std::isfinite(entry.score)) {
      return Status::InvalidArgument("product ids must be in range and scores finite");
    }
    Result<bool> added = board->Set(MemberKey::FromInteger(entry.product), entry.score);
    if (!added.ok()) return added.status();
    if (!*added) {
      return Status::InvalidArgument("product " + std::to_string(entry.product) +
                                     " is on the board twice");
    }
  }
  const uint64_t size = board->size();
  std::unique_ptr<SortedSet> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Namespace& space = NamespaceLocked(ns);
    std::unique_ptr<SortedSet>& slot = space.periods[std::string(name)];
    old = std::move(slot);
    slot = std::move(board);
    LogPeriodLocked(ns, name, *slot);
  }
  return size;
}

}  // namespace podium::storage
