#include "storage/snapshot_capture.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/limits.h"

namespace podium::storage {
namespace {

using Clock = std::chrono::steady_clock;

// Runs fn(Keyspace&) under shard `index`'s lock, recording how long the lock was held.
template <typename Fn>
void WithShardTimed(Database& db, size_t index, CaptureStats* stats, Fn&& fn) {
  db.WithShard(index, [&](Keyspace& keys) {
    const Clock::time_point start = Clock::now();
    fn(keys);
    const int64_t held_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    stats->longest_lock_us = std::max(stats->longest_lock_us, held_us);
    ++stats->lock_holds;
  });
}

// Byte strings copied out of a shard, in one arena.
class CopiedStrings {
 public:
  void Clear() {
    entries_.clear();
    bytes_.clear();
  }
  void Add(std::string_view key, std::string_view value, std::optional<int64_t> deadline_ms) {
    entries_.push_back({bytes_.size(), key.size(), value.size(), deadline_ms});
    bytes_.append(key);
    bytes_.append(value);
  }
  template <typename Visit>
  Status ForEach(Visit&& visit) const {
    const std::string_view bytes(bytes_);
    for (const Entry& entry : entries_) {
      const std::string_view key = bytes.substr(entry.offset, entry.key_size);
      const std::string_view value = bytes.substr(entry.offset + entry.key_size, entry.value_size);
      if (Status status = visit(key, value, entry.deadline_ms); !status.ok()) return status;
    }
    return Status::Ok();
  }

 private:
  struct Entry {
    size_t offset;
    size_t key_size;
    size_t value_size;
    std::optional<int64_t> deadline_ms;
  };
  std::vector<Entry> entries_;
  std::string bytes_;
};

// Up to kSnapshotSliceMembers members of one set, copied in ascending order.
class MemberSlice {
 public:
  void Clear() {
    entries_.clear();
    bytes_.clear();
  }
  void Add(const MemberKey& member, double score) {
    if (member.is_integer()) {
      entries_.push_back({score, member.integer(), 0, false});
    } else {
      entries_.push_back({score, bytes_.size(), member.bytes().size(), true});
      bytes_.append(member.bytes());
    }
  }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  double score(size_t i) const { return entries_[i].score; }
  // Valid until the next Clear or Add.
  MemberKey member(size_t i) const {
    const Entry& entry = entries_[i];
    if (!entry.is_string) return MemberKey::FromInteger(entry.integer_or_offset);
    return MemberKey::FromNonIntegerBytes(
        std::string_view(bytes_).substr(entry.integer_or_offset, entry.size));
  }

 private:
  struct Entry {
    double score;
    uint64_t integer_or_offset;  // the integer member, or where a string member's bytes start
    size_t size;
    bool is_string;
  };
  std::vector<Entry> entries_;
  std::string bytes_;
};

Status CaptureStrings(Database& db, SnapshotWriter& writer, CaptureStats* stats) {
  CopiedStrings copied;
  for (size_t shard = 0; shard < Database::kShardCount; ++shard) {
    copied.Clear();
    WithShardTimed(db, shard, stats, [&](Keyspace& keys) {
      keys.ForEachString([&](std::string_view key, std::string_view value,
                             std::optional<int64_t> deadline_ms) {
        copied.Add(key, value, deadline_ms);
      });
    });
    Status status = copied.ForEach(
        [&](std::string_view key, std::string_view value, std::optional<int64_t> deadline_ms) {
          return writer.AddString(key, value, deadline_ms);
        });
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

// Writes the set at `key` (in `shard`) as one part per slice; nothing if it is gone.
Status CaptureSortedSet(Database& db, size_t shard, const std::string& key, MemberSlice& slice,
                        SnapshotWriter& writer, CaptureStats* stats) {
  slice.Clear();
  for (uint64_t part = 0;; ++part) {
    std::optional<int64_t> deadline_ms;
    bool more = false;
    WithShardTimed(db, shard, stats, [&](Keyspace& keys) {
      const SortedSet* set = keys.PeekSortedSet(key, &deadline_ms);
      if (set == nullptr) {
        slice.Clear();
        return;
      }
      const size_t last = slice.size() - 1;
      SortedSet::Cursor cursor = slice.empty() ? set->SeekRank(0, Order::kAscending)
                                               : set->SeekAfter(slice.score(last), slice.member(last));
      slice.Clear();
      for (; cursor.valid() && slice.size() < kSnapshotSliceMembers; cursor.Next()) {
        slice.Add(cursor.member(), cursor.score());
      }
      more = cursor.valid();
    });
    if (slice.empty()) return Status::Ok();
    if (part == 1) ++stats->sliced_sets;
    const bool continues = part > 0;
    if (Status status = writer.BeginSortedSet(key, deadline_ms, slice.size(), continues);
        !status.ok()) {
      return status;
    }
    for (size_t i = 0; i < slice.size(); ++i) {
      if (Status status = writer.AddMember(slice.member(i), slice.score(i)); !status.ok()) {
        return status;
      }
    }
    if (Status status = writer.EndSortedSet(); !status.ok()) return status;
    if (!more) return Status::Ok();
  }
}

Status CaptureSortedSets(Database& db, SnapshotWriter& writer, CaptureStats* stats) {
  std::vector<std::string> keys_of_shard;
  MemberSlice slice;
  for (size_t shard = 0; shard < Database::kShardCount; ++shard) {
    keys_of_shard.clear();
    WithShardTimed(db, shard, stats, [&](Keyspace& keys) {
      keys.ForEachSortedSet([&](std::string_view key, const SortedSet&, std::optional<int64_t>) {
        keys_of_shard.emplace_back(key);
      });
    });
    for (const std::string& key : keys_of_shard) {
      if (Status status = CaptureSortedSet(db, shard, key, slice, writer, stats); !status.ok()) {
        return status;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status CaptureDatabase(Database& db, SnapshotWriter& writer, CaptureStats* stats) {
  Status status = Status::Ok();
  db.stock().ForEach([&](uint64_t product, int64_t units) {
    if (status.ok()) status = writer.AddStock(product, units);
  });
  // The strings pass over all shards ends before the sorted-sets pass starts, and the loader
  // relies on it. A key whose type changes in between (DEL then ZADD, ZADD after lazy expiry,
  // ZUNIONSTORE into it) is copied by both passes, so it is in both sections; either copy is a
  // valid base for replaying the changes logged after S, and the loader keeps the sorted set
  // as the later copy (docs/snapshot_format.md, "A key in both sections"). The reverse, a
  // string copied after a sorted set of the same key (SET over a set), cannot happen: every
  // string is copied before any set is. A capture that copied sets first would need the
  // opposite rule.
  if (status.ok()) status = writer.BeginStrings();
  if (status.ok()) status = CaptureStrings(db, writer, stats);
  if (status.ok()) status = writer.BeginSortedSets();
  if (status.ok()) status = CaptureSortedSets(db, writer, stats);
  if (status.ok()) status = writer.BeginBook();
  if (status.ok()) {
    // The book is copied whole under its lock (its records are small; see the header).
    std::string entries;
    const Clock::time_point start = Clock::now();
    const uint64_t count = db.orders().AppendSnapshotEntries(&entries);
    const int64_t held_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    stats->longest_lock_us = std::max(stats->longest_lock_us, held_us);
    status = writer.AddBookEntries(entries, count);
  }
  if (status.ok()) status = writer.BeginRankings();
  if (status.ok()) {
    // Rankings are encoded a slice per lock hold (a window's shard, an archive's part), each
    // chunk written as soon as it is complete, with the lock released.
    int64_t held_us = 0;
    status = db.rankings().StreamSnapshotChunks(
        [&](std::string_view chunk, uint64_t entries) {
          return writer.AddRankingChunk(chunk, entries);
        },
        &held_us);
    stats->longest_lock_us = std::max(stats->longest_lock_us, held_us);
  }
  return status;
}

}  // namespace podium::storage
