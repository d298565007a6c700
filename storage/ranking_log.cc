// Rankings durability: the ranking entries of WAL records (type kRanking) and of the
// snapshot's ranking section, and their replay. docs/wal_format.md, "Ranking entries", has the
// layout; storage/ranking.h the contract.
#include <algorithm>
#include <bit>
#include <chrono>
#include <climits>
#include <cmath>

#include "storage/coding.h"
#include "storage/effect_log.h"
#include "storage/effects.h"
#include "storage/limits.h"
#include "storage/ranking.h"

namespace podium::storage {
namespace {

enum class RankTag : uint8_t {
  kNamespace = 1,
  kWeights = 2,
  kWindow = 3,
  kDropWindow = 4,
  kEventId = 5,
  kProduct = 6,
  kArchivedProduct = 7,
  kDropArchive = 8,
  kPeriodBoard = 9,
  kRescorePart = 10,
  kRescoreEnd = 11,
  kRescoreState = 12,
  kWeightsChange = 13,
};

void AppendF64(std::string* out, double value) { AppendU64(out, std::bit_cast<uint64_t>(value)); }
void AppendDay(std::string* out, int32_t day) { AppendU32(out, static_cast<uint32_t>(day)); }

bool ReadU32(ByteReader& reader, uint32_t* value) {
  std::string_view bytes;
  if (!reader.ReadBytes(4, &bytes)) return false;
  *value = LoadU32(bytes.data());
  return true;
}
bool ReadDay(ByteReader& reader, int32_t* day) {
  uint32_t raw = 0;
  if (!ReadU32(reader, &raw)) return false;
  *day = static_cast<int32_t>(raw);
  return true;
}
bool ReadF64(ByteReader& reader, double* value) {
  uint64_t bits = 0;
  if (!reader.ReadU64(&bits)) return false;
  *value = std::bit_cast<double>(bits);
  return std::isfinite(*value);
}
bool ReadI64(ByteReader& reader, int64_t* value) {
  uint64_t raw = 0;
  if (!reader.ReadU64(&raw)) return false;
  *value = static_cast<int64_t>(raw);
  return true;
}

// A period board entry: name, count, then count (product, score) pairs in board order.
bool ReadPeriodBoard(ByteReader& reader, std::string* name,
                     std::unique_ptr<SortedSet>* board) {
  std::string_view text;
  uint32_t count = 0;
  if (!reader.ReadLengthPrefixed(&text) || text.empty() || text.size() > kNameBytesMax ||
      ParseRankDayName(text).has_value() || !ReadU32(reader, &count) ||
      count > kRankBoardMembersMax) {
    return false;
  }
  name->assign(text);
  *board = std::make_unique<SortedSet>();
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t product = 0;
    double score = 0;
    if (!reader.ReadU64(&product) || product > kProductIdMax || !ReadF64(reader, &score)) {
      return false;
    }
    Result<bool> added = (*board)->Set(MemberKey::FromInteger(product), score);
    if (!added.ok() || !*added) return false;  // a product twice
  }
  return true;
}

bool ReadWeights(ByteReader& reader, RankWeights* weights) {
  return ReadF64(reader, &weights->view) && ReadF64(reader, &weights->like) &&
         ReadF64(reader, &weights->order) && ReadF64(reader, &weights->carry) &&
         weights->carry >= 0 && weights->carry < 1;
}

}  // namespace

void Rankings::set_log(EffectLog* log) {
  std::lock_guard<std::mutex> lock(mutex_);
  log_ = log;
}

void Rankings::TouchProductLocked(int32_t day, uint64_t product) {
  touched_products_.emplace_back(day, product);
}

void Rankings::TouchWindowLocked(int32_t day) { touched_windows_.push_back(day); }

void Rankings::AppendProductEntry(int32_t day, uint64_t product, const ProductState& state,
                                  std::string* out) {
  out->push_back(static_cast<char>(RankTag::kProduct));
  AppendDay(out, day);
  AppendU64(out, product);
  AppendU64(out, static_cast<uint64_t>(state.signals.views));
  AppendU64(out, static_cast<uint64_t>(state.signals.likes));
  AppendF64(out, state.signals.order_sum);
  AppendF64(out, state.signals.carried);
  out->push_back(state.carried_in ? 1 : 0);
  AppendF64(out, state.signals.score);
}

void Rankings::AppendWindowEntry(const Window& window, std::string* out) {
  out->push_back(static_cast<char>(RankTag::kWindow));
  AppendDay(out, window.day.index);
  out->push_back(window.building ? 1 : 0);
  out->push_back(window.cursor_set ? 1 : 0);
  AppendF64(out, window.cursor_score);
  AppendU64(out, window.cursor_product);
}

namespace {
void AppendNamespaceEntry(std::string_view ns, std::string* out) {
  out->push_back(static_cast<char>(RankTag::kNamespace));
  AppendLengthPrefixed(out, ns);
}
void AppendWeights(const RankWeights& weights, std::string* out) {
  for (double weight : {weights.view, weights.like, weights.order, weights.carry}) {
    AppendF64(out, weight);
  }
}
void AppendWeightsEntry(const RankWeights& weights, std::string* out) {
  out->push_back(static_cast<char>(RankTag::kWeights));
  AppendWeights(weights, out);
}
// A change: the new weights and those they replace (which the products not re-scored yet keep).
void AppendWeightsChangeEntry(const RankWeights& weights, const RankWeights& old,
                              std::string* out) {
  out->push_back(static_cast<char>(RankTag::kWeightsChange));
  AppendWeights(weights, out);
  AppendWeights(old, out);
}
void AppendEventIdEntry(int32_t day, std::string_view id, std::string* out) {
  out->push_back(static_cast<char>(RankTag::kEventId));
  AppendDay(out, day);
  AppendLengthPrefixed(out, id);
}
// A re-score in progress (active), or none.
void AppendRescoreStateEntry(bool active, const RankWeights& old, int32_t day, size_t part,
                             std::string* out) {
  out->push_back(static_cast<char>(RankTag::kRescoreState));
  out->push_back(active ? 1 : 0);
  for (double weight : {old.view, old.like, old.order, old.carry}) AppendF64(out, weight);
  AppendDay(out, day);
  AppendU32(out, static_cast<uint32_t>(part));
}
void AppendArchivedEntry(int32_t day, const DaySignals& signals, std::string* out) {
  out->push_back(static_cast<char>(RankTag::kArchivedProduct));
  AppendDay(out, day);
  AppendU64(out, signals.product);
  AppendU64(out, static_cast<uint64_t>(signals.views));
  AppendU64(out, static_cast<uint64_t>(signals.likes));
  AppendF64(out, signals.order_sum);
}
void AppendPeriodEntry(std::string_view name, const SortedSet& board, std::string* out) {
  out->push_back(static_cast<char>(RankTag::kPeriodBoard));
  AppendLengthPrefixed(out, name);
  AppendU32(out, static_cast<uint32_t>(board.size()));
  for (SortedSet::Cursor cursor = board.SeekRank(0, Order::kDescending); cursor.valid();
       cursor.Next()) {
    AppendU64(out, cursor.member().integer());
    AppendF64(out, cursor.score());
  }
}
}  // namespace

void Rankings::LogPeriodLocked(std::string_view ns, std::string_view name,
                               const SortedSet& board) {
  if (log_ == nullptr) return;
  std::string record;
  AppendNamespaceEntry(ns, &record);
  AppendPeriodEntry(name, board, &record);
  log_->Append(static_cast<uint8_t>(EffectType::kRanking), record);
}

void Rankings::LogTouchedLocked(std::string_view ns, const Namespace& space) {
  const bool touched = weights_changed_ || !dropped_windows_.empty() ||
                       !dropped_archives_.empty() || !rescored_parts_.empty() ||
                       rescore_ended_ ||
                       !touched_windows_.empty() || !touched_event_id_.empty() ||
                       !touched_products_.empty();
  if (log_ != nullptr && touched) {
    std::string record;
    AppendNamespaceEntry(ns, &record);
    if (weights_changed_) {
      AppendWeightsChangeEntry(space.weights, space.rescore.value_or(Rescore{}).old_weights,
                               &record);
    }
    for (int32_t day : dropped_windows_) {
      record.push_back(static_cast<char>(RankTag::kDropWindow));
      AppendDay(&record, day);
    }
    for (int32_t day : dropped_archives_) {
      record.push_back(static_cast<char>(RankTag::kDropArchive));
      AppendDay(&record, day);
    }
    // Each re-scored part with the weights on both sides (its products follow as product
    // entries): replay takes the position from here, whatever the state it replays on says.
    for (const auto& [day, part] : rescored_parts_) {
      record.push_back(static_cast<char>(RankTag::kRescorePart));
      AppendWeights(space.weights, &record);
      AppendWeights(space.rescore.value_or(Rescore{}).old_weights, &record);
      AppendDay(&record, day);
      AppendU32(&record, static_cast<uint32_t>(part));
    }
    if (rescore_ended_) {
      record.push_back(static_cast<char>(RankTag::kRescoreEnd));
      AppendWeights(space.weights, &record);
    }
    std::sort(touched_windows_.begin(), touched_windows_.end());
    touched_windows_.erase(std::unique(touched_windows_.begin(), touched_windows_.end()),
                           touched_windows_.end());
    for (int32_t day : touched_windows_) {
      const auto it = space.windows.find(day);
      if (it != space.windows.end()) AppendWindowEntry(*it->second, &record);
    }
    if (!touched_event_id_.empty()) {
      AppendEventIdEntry(touched_event_day_, touched_event_id_, &record);
    }
    std::sort(touched_products_.begin(), touched_products_.end());
    touched_products_.erase(std::unique(touched_products_.begin(), touched_products_.end()),
                            touched_products_.end());
    for (const auto& [day, product] : touched_products_) {
      const auto window = space.windows.find(day);
      if (window == space.windows.end()) continue;
      if (const ProductState* state = window->second->products.Find(product)) {
        AppendProductEntry(day, product, *state, &record);
      }
    }
    log_->Append(static_cast<uint8_t>(EffectType::kRanking), record);
  }
  weights_changed_ = false;
  dropped_windows_.clear();
  dropped_archives_.clear();
  rescored_parts_.clear();
  rescore_ended_ = false;
  touched_windows_.clear();
  touched_event_id_.clear();
  touched_products_.clear();
}

Result<uint64_t> Rankings::ApplyEntries(std::string_view entries) {
  // Decoded in full first: a record that does not decode changes nothing.
  struct Decoded {
    RankTag tag;
    std::string text;
    int32_t day = 0;
    uint64_t product = 0;
    RankWeights weights;
    ProductState state;
    bool building = false;
    bool cursor_set = false;
    double cursor_score = 0;
    DaySignals archived;
    bool active = false;
    RankWeights old_weights;
    uint32_t part = 0;
    std::unique_ptr<SortedSet> board;  // kPeriodBoard, built while decoding
  };
  std::vector<Decoded> decoded;
  ByteReader reader(entries);
  while (!reader.empty()) {
    uint8_t tag = 0;
    if (!reader.ReadU8(&tag)) return Status::InvalidArgument("truncated ranking entry");
    Decoded& entry = decoded.emplace_back();
    entry.tag = static_cast<RankTag>(tag);
    std::string_view text;
    uint8_t flag = 0;
    uint8_t flag2 = 0;
    bool ok = false;
    switch (entry.tag) {
      case RankTag::kNamespace:
        ok = reader.ReadLengthPrefixed(&text) && !text.empty() && text.size() <= kNameBytesMax;
        entry.text.assign(text);
        break;
      case RankTag::kWeights:
        ok = ReadWeights(reader, &entry.weights);
        break;
      case RankTag::kWindow:
        ok = ReadDay(reader, &entry.day) && reader.ReadU8(&flag) && flag <= 1 &&
             reader.ReadU8(&flag2) && flag2 <= 1 && ReadF64(reader, &entry.cursor_score) &&
             reader.ReadU64(&entry.product);
        entry.building = flag == 1;
        entry.cursor_set = flag2 == 1;
        break;
      case RankTag::kDropWindow:
        ok = ReadDay(reader, &entry.day);
        break;
      case RankTag::kEventId:
        ok = ReadDay(reader, &entry.day) && reader.ReadLengthPrefixed(&text) && !text.empty() &&
             text.size() <= kIdBytesMax;
        entry.text.assign(text);
        break;
      case RankTag::kDropArchive:
        ok = ReadDay(reader, &entry.day);
        break;
      case RankTag::kWeightsChange:
        ok = ReadWeights(reader, &entry.weights) && ReadWeights(reader, &entry.old_weights);
        break;
      case RankTag::kRescorePart:
        ok = ReadWeights(reader, &entry.weights) && ReadWeights(reader, &entry.old_weights) &&
             ReadDay(reader, &entry.day) && ReadU32(reader, &entry.part) &&
             entry.part < kShardedHashShards;
        break;
      case RankTag::kRescoreEnd:
        ok = ReadWeights(reader, &entry.weights);
        break;
      case RankTag::kRescoreState:
        ok = reader.ReadU8(&flag) && flag <= 1 && ReadWeights(reader, &entry.weights) &&
             ReadDay(reader, &entry.day) && ReadU32(reader, &entry.part) &&
             entry.part <= kShardedHashShards;
        entry.active = flag == 1;
        break;
      case RankTag::kArchivedProduct:
        ok = ReadDay(reader, &entry.day) && reader.ReadU64(&entry.archived.product) &&
             entry.archived.product <= kProductIdMax && ReadI64(reader, &entry.archived.views) &&
             ReadI64(reader, &entry.archived.likes) &&
             ReadF64(reader, &entry.archived.order_sum);
        break;
      case RankTag::kPeriodBoard:
        ok = ReadPeriodBoard(reader, &entry.text, &entry.board);
        break;
      case RankTag::kProduct:
        ok = ReadDay(reader, &entry.day) && reader.ReadU64(&entry.product) &&
             entry.product <= kProductIdMax && ReadI64(reader, &entry.state.signals.views) &&
             ReadI64(reader, &entry.state.signals.likes) &&
             ReadF64(reader, &entry.state.signals.order_sum) &&
             ReadF64(reader, &entry.state.signals.carried) && reader.ReadU8(&flag) && flag <= 1 &&
             ReadF64(reader, &entry.state.signals.score);
        entry.state.carried_in = flag == 1;
        break;
      default:
        return Status::InvalidArgument("unknown ranking entry tag " + std::to_string(tag));
    }
    if (!ok) return Status::InvalidArgument("malformed ranking entry");
    if (decoded.size() == 1 && entry.tag != RankTag::kNamespace) {
      return Status::InvalidArgument("ranking entries must start with a namespace");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Namespace* space = nullptr;
  for (Decoded& entry : decoded) {
    switch (entry.tag) {
      case RankTag::kNamespace:
        space = &NamespaceLocked(entry.text);
        break;
      case RankTag::kWeights:  // a snapshot's: its re-score state follows (kRescoreState)
        space->weights = entry.weights;
        space->rescore.reset();
        break;
      case RankTag::kWeightsChange:  // as the live change did
        space->weights = entry.weights;
        space->rescore = Rescore{entry.old_weights, INT32_MIN, 0};
        break;
      case RankTag::kRescorePart:  // the part's products are product entries of their own
        space->weights = entry.weights;
        space->rescore = Rescore{entry.old_weights, entry.day, size_t{entry.part} + 1};
        break;
      case RankTag::kRescoreEnd:
        space->weights = entry.weights;
        space->rescore.reset();
        break;
      case RankTag::kRescoreState:
        space->rescore.reset();
        if (entry.active) space->rescore = Rescore{entry.weights, entry.day, entry.part};
        break;
      case RankTag::kWindow: {
        auto [it, created] = space->windows.try_emplace(entry.day);
        if (created) {
          it->second = std::make_unique<Window>();
          it->second->day = RankDayAt(entry.day);
        }
        it->second->building = entry.building;
        it->second->cursor_set = entry.cursor_set;
        it->second->cursor_score = entry.cursor_score;
        it->second->cursor_product = entry.product;
        break;
      }
      case RankTag::kDropWindow: {
        // As Step did: the window's raw signals go to the day's archive (converted at once).
        const auto it = space->windows.find(entry.day);
        if (it == space->windows.end()) break;
        std::unique_ptr<Window> window = std::move(it->second);
        space->windows.erase(it);
        ArchiveWindowLocked(*space, std::move(window));
        Archive& archive = *space->archives[entry.day];
        if (archive.source != nullptr) {
          ConvertArchiveLocked(archive, kShardedHashShards);
          Bury(std::move(archive.source));
        }
        break;
      }
      case RankTag::kDropArchive:
        space->archives.erase(entry.day);
        break;
      case RankTag::kArchivedProduct: {
        std::unique_ptr<Archive>& archive = space->archives[entry.day];
        if (archive == nullptr) archive = std::make_unique<Archive>();
        if (archive->source != nullptr) {
          ConvertArchiveLocked(*archive, kShardedHashShards);
          Bury(std::move(archive->source));
        }
        InsertArchived(*archive, entry.archived);
        break;
      }
      case RankTag::kPeriodBoard:
        space->periods[entry.text] = std::move(entry.board);
        break;
      case RankTag::kEventId:
      case RankTag::kProduct: {
        auto [it, created] = space->windows.try_emplace(entry.day);
        if (created) {  // an entry of a window whose own entry came earlier in the log
          it->second = std::make_unique<Window>();
          it->second->day = RankDayAt(entry.day);
        }
        Window& window = *it->second;
        if (entry.tag == RankTag::kEventId) {
          window.event_ids.Insert(entry.text);
        } else {
          // Final values, score included: nothing is recomputed from the state replayed on.
          window.products[entry.product] = entry.state;
          CHECK(window.board.Set(MemberKey::FromInteger(entry.product), entry.state.signals.score)
                    .ok());
        }
        break;
      }
    }
  }
  // Replay logs nothing; what the helpers noted is dropped.
  touched_products_.clear();
  touched_windows_.clear();
  return static_cast<uint64_t>(std::count_if(decoded.begin(), decoded.end(), [](const Decoded& e) {
    return e.tag != RankTag::kNamespace;
  }));
}

namespace {

// The engine's lock for one slice of a snapshot, timed.
class TimedHold {
 public:
  TimedHold(std::mutex& mutex, int64_t* longest_us)
      : lock_(mutex), start_(std::chrono::steady_clock::now()), longest_us_(longest_us) {}
  ~TimedHold() {
    const auto held = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start_)
                          .count();
    *longest_us_ = std::max<int64_t>(*longest_us_, held);
  }

 private:
  std::lock_guard<std::mutex> lock_;
  std::chrono::steady_clock::time_point start_;
  int64_t* longest_us_;
};

}  // namespace

uint64_t Rankings::AppendSnapshotChunks(std::vector<std::string>* chunks,
                                        int64_t* longest_hold_us) {
  uint64_t total = 0;
  const Status status = StreamSnapshotChunks(
      [&](std::string_view chunk, uint64_t entries) {
        chunks->emplace_back(chunk);
        total += entries;
        return Status::Ok();
      },
      longest_hold_us);
  CHECK(status.ok());
  return total;
}

Status Rankings::StreamSnapshotChunks(const ChunkSink& sink, int64_t* longest_hold_us) {
  int64_t unused_us = 0;
  int64_t* longest_us = longest_hold_us != nullptr ? longest_hold_us : &unused_us;
  // Chunks being filled; all but the last are complete and go to the sink between lock holds.
  std::vector<std::string> pending;
  std::vector<uint64_t> starts;  // the entry count when each pending chunk began
  std::vector<std::string>* const chunks = &pending;
  uint64_t count = 0;
  const auto begin_chunk = [&]() -> std::string& {
    starts.push_back(count);
    return pending.emplace_back();
  };
  Status status;
  const auto drain = [&](bool all) {
    while (status.ok() && (pending.size() > 1 || (all && !pending.empty()))) {
      const uint64_t end = pending.size() > 1 ? starts[1] : count;
      status = sink(pending.front(), end - starts.front());
      pending.erase(pending.begin());
      starts.erase(starts.begin());
    }
    return status.ok();
  };
  std::vector<std::string> names;
  {
    TimedHold hold(mutex_, longest_us);
    for (const auto& entry : namespaces_) names.push_back(entry.first);
  }
  for (const std::string& name : names) {
    if (!drain(false)) return status;
    // Each chunk names its namespace first, so the loader applies chunks one at a time.
    const auto chunk = [&]() -> std::string& {
      if (chunks->back().size() >= kRankingSnapshotChunkBytes) {
        AppendNamespaceEntry(name, &begin_chunk());
      }
      return chunks->back();
    };
    // Each slice finds its namespace, window or archive again: it may have gone meanwhile.
    const auto find_space = [&]() -> Namespace* {
      const auto it = namespaces_.find(name);
      return it == namespaces_.end() ? nullptr : &it->second;
    };
    {
      TimedHold hold(mutex_, longest_us);
      const Namespace* space = find_space();
      if (space == nullptr) continue;
      AppendNamespaceEntry(name, &begin_chunk());
      AppendWeightsEntry(space->weights, &chunks->back());
      const Rescore rescore = space->rescore.value_or(Rescore{});
      AppendRescoreStateEntry(space->rescore.has_value(), rescore.old_weights, rescore.day,
                              rescore.part, &chunks->back());
      count += 2;
    }
    // Windows, day by day; each window's event ids and products a shard per lock hold.
    for (int64_t after = INT64_MIN;;) {
      int32_t day = 0;
      {
        TimedHold hold(mutex_, longest_us);
        const Namespace* space = find_space();
        if (space == nullptr) break;
        const auto it = after == INT64_MIN ? space->windows.begin()
                                           : space->windows.upper_bound(static_cast<int32_t>(after));
        if (it == space->windows.end()) break;
        day = it->first;
        AppendWindowEntry(*it->second, &chunk());
        ++count;
      }
      after = day;
      // Slice 2s: shard s's event ids; slice 2s + 1: its products.
      for (size_t slice = 0; slice < 2 * kShardedHashShards; ++slice) {
        if (!drain(false)) return status;  // the sink writes: never under the lock
        TimedHold hold(mutex_, longest_us);
        Namespace* space = find_space();
        const Window* window = space == nullptr ? nullptr : FindWindowLocked(*space, day);
        if (window == nullptr) break;  // expired meanwhile: its drop is logged after S
        const size_t shard = slice / 2;
        if (slice % 2 == 0) {
          window->event_ids.ForEachInShard(shard, [&](const std::string& id) {
            AppendEventIdEntry(day, id, &chunk());
            ++count;
          });
        } else {
          window->products.ForEachInShard(shard,
                                          [&](uint64_t product, const ProductState& state) {
                                            AppendProductEntry(day, product, state, &chunk());
                                            ++count;
                                          });
        }
      }
    }
    // Archives, a part per lock hold.
    std::vector<DaySignals> part;
    for (int64_t after = INT64_MIN;;) {
      int32_t day = 0;
      {
        TimedHold hold(mutex_, longest_us);
        const Namespace* space = find_space();
        if (space == nullptr) break;
        const auto it = after == INT64_MIN
                            ? space->archives.begin()
                            : space->archives.upper_bound(static_cast<int32_t>(after));
        if (it == space->archives.end()) break;
        day = it->first;
      }
      after = day;
      for (size_t index = 0; index < kShardedHashShards; ++index) {
        part.clear();
        {
          TimedHold hold(mutex_, longest_us);
          const Namespace* space = find_space();
          if (space == nullptr) break;
          const auto it = space->archives.find(day);
          if (it == space->archives.end()) break;  // dropped meanwhile (logged after S)
          AppendPartSignals(*it->second, index, &part);
        }
        for (const DaySignals& signals : part) {
          AppendArchivedEntry(day, signals, &chunk());
          ++count;  // per entry: the chunk it lands in counts it
        }
        if (!drain(false)) return status;
      }
    }
    // Period boards: at most kRankBoardMembersMax entries each, one per lock hold.
    for (std::string after;;) {
      TimedHold hold(mutex_, longest_us);
      const Namespace* space = find_space();
      if (space == nullptr) break;
      const auto it = space->periods.upper_bound(after);
      if (it == space->periods.end()) break;
      AppendPeriodEntry(it->first, *it->second, &chunk());
      ++count;
      after = it->first;
    }
  }
  drain(true);
  return status;
}

}  // namespace podium::storage
