#include "storage/recovery.h"

#include <glog/logging.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "storage/book_effects.h"
#include "storage/effects.h"
#include "storage/snapshot_capture.h"
#include "storage/snapshot_writer.h"
#include "storage/wal_format.h"

namespace podium::storage {
namespace {

// Routes a snapshot's entries to the shards of a Database.
class DatabaseLoader final : public SnapshotVisitor {
 public:
  explicit DatabaseLoader(Database* db) : db_(db) {}
  // Counters are collected and created in one go (StockTable::CreateAll): a million of them
  // one by one cost a miss through every level of the growing table each.
  Status OnStock(uint64_t product, int64_t units) override {
    counters_.push_back({product, units});
    return Status::Ok();
  }
  Status OnStockEnd() override {
    Status status = db_->stock().CreateAll(counters_);
    counters_ = {};
    return status;
  }
  Status OnString(std::string_view key, std::string_view value,
                  std::optional<int64_t> deadline_ms) override {
    return db_->WithKey(key,
                        [&](Keyspace& keys) { return keys.RestoreString(key, value, deadline_ms); });
  }
  Status OnSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                     std::unique_ptr<SortedSet> set) override {
    return db_->WithKey(key, [&](Keyspace& keys) {
      return keys.RestoreSortedSet(key, std::move(set), deadline_ms);
    });
  }
  Status OnBookEntry(const BookEntry& entry) override {
    ApplyBookEntry(entry, db_);
    return Status::Ok();
  }
  Result<uint64_t> OnRankingChunk(std::string_view chunk) override {
    return db_->rankings().ApplyEntries(chunk);
  }

 private:
  Database* const db_;
  std::vector<StockTable::Counter> counters_;
};

// Segments that end before `sequence` + 1 while the log as a whole ends there or earlier are
// all covered by the snapshot; a new segment at sequence + 1 would not chain onto them.
Status RemoveAllSegments(Env* env, const std::string& dir) {
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (!ParseWalSegmentFileName(name).has_value()) continue;
    if (Status status = env->RemoveFile(JoinPath(dir, name)); !status.ok()) return status;
  }
  return env->SyncDir(dir);
}

}  // namespace

Result<RecoveryReport> Recover(Env* env, const std::string& dir, Database* db,
                               RecoveryOptions options) {
  if (Status status = env->CreateDir(dir); !status.ok()) return status;
  RecoveryReport report;

  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) return snapshots.status();
  uint64_t covered = 0;  // the snapshot holds every record <= covered
  if (!snapshots->empty()) {
    const SnapshotFile& newest = snapshots->front();
    DatabaseLoader loader(db);
    Result<SnapshotInfo> info = ReadSnapshot(env, newest.path, &loader);
    if (!info.ok()) {
      return Status::Corruption(info.status().message() +
                                " (the newest snapshot is damaged; see podium-check)");
    }
    report.snapshot_path = newest.path;
    report.snapshot = *info;
    covered = info->wal_sequence;
  }

  WalReaderOptions reader_options;
  reader_options.truncate_at_first_corruption = options.truncate_corrupt_wal;
  Result<std::unique_ptr<WalReader>> reader = WalReader::Open(env, dir, reader_options);
  if (!reader.ok()) return reader.status();
  EffectReplayer replayer(db);
  WalRecord record;
  bool first = true;
  WalReader::Position group_start;  // of the unfinished group's first record, while there is one
  uint64_t group_first_sequence = 0;
  for (;;) {
    Result<bool> next = (*reader)->Next(&record);
    if (!next.ok()) return next.status();
    if (!*next) break;
    if (record.sequence <= covered) {
      ++report.records_skipped;
      first = false;
      continue;
    }
    if (first && record.sequence > covered + 1) {
      return Status::Corruption("the log starts at record " + std::to_string(record.sequence) +
                                " but the snapshot ends at " + std::to_string(covered) +
                                ": records in between are missing");
    }
    first = false;
    const bool in_group = replayer.pending_group_records() > 0;
    if (Status status = replayer.Apply(record.type, record.payload); !status.ok()) {
      return Status::Corruption("WAL record " + std::to_string(record.sequence) + ": " +
                                status.message());
    }
    if (!in_group && replayer.pending_group_records() > 0) {
      group_start = (*reader)->record_position();
      group_first_sequence = record.sequence;
    }
    ++report.records_replayed;
  }
  report.group_records_dropped = replayer.pending_group_records();
  report.tail = (*reader)->tail();
  uint64_t last = (*reader)->last_sequence();
  if (report.group_records_dropped > 0) {
    // A crash came between the records of one effect (its command was never acknowledged).
    // They change nothing now, and must go: records logged after this start would otherwise
    // land inside the unfinished group at the next recovery.
    WalTail cut = (*reader)->CutBefore(group_start, "a group of records without its last one");
    if (report.tail.kind == WalTail::Kind::kCorruptionDropped) {
      cut.kind = WalTail::Kind::kCorruptionDropped;  // the operator's cut, moved earlier
      cut.reason += ", before " + report.tail.reason;
    }
    report.tail = std::move(cut);
    last = group_first_sequence - 1;
  }
  // Cuts a torn tail, a dropped corruption or group, or the zeros of a reserve left by a crash
  // (so that only the segment being written ever has one).
  if (Status status = TruncateWal(env, dir, report.tail); !status.ok()) return status;
  if (last <= covered) {
    // Every record in the log is in the snapshot (or there is no log): start afresh at
    // covered + 1, which must not follow segments that end earlier.
    if (Status status = RemoveAllSegments(env, dir); !status.ok()) return status;
    report.next_sequence = covered + 1;
  } else {
    report.next_sequence = last + 1;
  }
  return report;
}

Result<SnapshotResult> WriteSnapshot(Env* env, const std::string& dir, Database& db,
                                     EffectLog& log, int64_t now_unix_ms,
                                     const std::function<void()>& after_mark) {
  SnapshotResult result;
  result.wal_sequence = log.MarkSnapshotPoint();
  if (after_mark) after_mark();
  SnapshotWriter writer(env);
  Status status = writer.Begin(dir, result.wal_sequence, now_unix_ms);
  CaptureStats capture;
  if (status.ok()) status = CaptureDatabase(db, writer, &capture);
  result.longest_lock_us = capture.longest_lock_us;
  result.sliced_sets = capture.sliced_sets;
  if (!status.ok()) return status;
  Result<std::string> path = writer.Finish();
  if (!path.ok()) return path.status();
  result.path = *path;
  result.file_bytes = writer.file_bytes();

  // The new snapshot is durable: older snapshots and the segments it covers can go.
  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) return snapshots.status();
  for (const SnapshotFile& old : *snapshots) {
    if (old.wal_sequence >= result.wal_sequence) continue;
    if (Status removed = env->RemoveFile(old.path); !removed.ok()) return removed;
  }
  Result<uint64_t> removed = log.RemoveSegmentsThrough(result.wal_sequence);
  if (!removed.ok()) return removed.status();
  result.wal_bytes_removed = *removed;
  return result;
}

}  // namespace podium::storage
