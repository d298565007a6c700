#include "storage/recovery.h"

#include <glog/logging.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>
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

constexpr uint8_t kSortedSetPutType = static_cast<uint8_t>(EffectType::kSortedSetPut);

// A record of a sorted-set group that another record continues (storage/effects.h).
bool ContinuesGroup(const WalRecord& record) {
  return record.type == kSortedSetPutType && !record.payload.empty() &&
         (static_cast<uint8_t>(record.payload[0]) & kSortedSetPutContinued) != 0;
}

// Whether a group's records (`parts`, then `last`) replay, tried on a Database of their own:
// EffectReplayer applies a group's records one by one when its last one arrives, so a bad one
// would leave the records before it applied to the real state, which a cut then takes out of the
// log but not out of memory. Costs a second replay of the group (groups are rare: an effect too
// big for one record), only when the log may be cut.
Status GroupReplays(const std::vector<std::string>& parts, std::string_view last) {
  Database scratch;
  EffectReplayer replayer(&scratch);
  for (const std::string& part : parts) {
    if (Status status = replayer.Apply(kSortedSetPutType, part); !status.ok()) return status;
  }
  return replayer.Apply(kSortedSetPutType, last);
}

// ReplayWal's pass over the log: each record to the replayer, keeping what a cut needs.
class LogReplay {
 public:
  LogReplay(WalReader& reader, const std::string& dir, uint64_t covered, Database* db,
            bool truncate, RecoveryReport* report)
      : reader_(reader),
        dir_(dir),
        covered_(covered),
        truncate_(truncate),
        replayer_(db),
        report_(report) {}

  Status Run(const std::function<void(const WalRecord&)>& on_record) {
    WalRecord record;
    bool replaying = false;  // a record after covered_ came
    for (;;) {
      Result<bool> next = reader_.Next(&record);
      if (!next.ok()) return next.status();
      if (!*next) break;
      if (on_record) on_record(record);
      if (record.sequence <= covered_) {
        ++report_->records_skipped;
        continue;
      }
      if (!replaying && record.sequence > covered_ + 1) return Missing(record.sequence);
      replaying = true;
      Result<bool> applied = Apply(record);
      if (!applied.ok() || !*applied) return applied.status();
      ++report_->records_replayed;
    }
    uint64_t last = reader_.last_sequence();
    // A log with no record after covered_ may still start past it: its first segment is empty.
    if (!replaying && last > covered_) return Missing(last + 1);
    report_->group_records_dropped = replayer_.pending_group_records();
    report_->tail = reader_.tail();
    if (report_->group_records_dropped > 0) {
      // A crash came between the records of one effect (its command was never acknowledged).
      // They change nothing now, and must go: records logged after this start would otherwise
      // land inside the unfinished group at the next recovery.
      WalTail cut = reader_.CutBefore(group_start_, "a group of records without its last one");
      if (report_->tail.kind == WalTail::Kind::kCorruptionDropped) {
        cut.kind = WalTail::Kind::kCorruptionDropped;  // the operator's cut, moved earlier
        cut.reason += ", before " + report_->tail.reason;
      }
      report_->tail = std::move(cut);
      last = group_first_sequence_ - 1;
    }
    report_->log_last_sequence = last;
    report_->next_sequence = std::max(last, covered_) + 1;
    return Status::Ok();
  }

 private:
  Status Missing(uint64_t first) const {
    return Status::Corruption("the log starts at record " + std::to_string(first) +
                              " but the snapshot ends at " + std::to_string(covered_) +
                              ": records in between are missing");
  }

  // Replays one record after the snapshot. false: it does not decode, and the log is cut
  // before it (report_ says where; truncate_ only).
  Result<bool> Apply(const WalRecord& record) {
    const bool in_group = replayer_.pending_group_records() > 0;
    Status status = Status::Ok();
    if (truncate_ && in_group && record.type == kSortedSetPutType && !ContinuesGroup(record)) {
      status = GroupReplays(group_parts_, record.payload);
    }
    if (status.ok()) status = replayer_.Apply(record.type, record.payload);
    if (!status.ok()) return Undecodable(record, in_group, status);
    if (replayer_.pending_group_records() == 0) {
      group_parts_.clear();
      return true;
    }
    if (!in_group) {
      group_start_ = reader_.record_position();
      group_first_sequence_ = record.sequence;
    }
    if (truncate_) group_parts_.push_back(record.payload);
    return true;
  }

  // A record whose checksum is good but whose effect does not decode: corruption at its file
  // and offset, or, with truncate_, the cut before it (before its group, if it is in one).
  Result<bool> Undecodable(const WalRecord& record, bool in_group, const Status& why) {
    const WalReader::Position at = reader_.record_position();
    std::string reason = "record " + std::to_string(record.sequence) + ": " + why.message();
    if (in_group) {
      reason += " (in a group of records from record " + std::to_string(group_first_sequence_) +
                ", offset " + std::to_string(group_start_.offset) + " of " +
                reader_.segment_name(group_start_.segment_index) + ")";
    }
    if (!truncate_) {
      return Status::Corruption("WAL " + JoinPath(dir_, reader_.segment_name(at.segment_index)) +
                                " at offset " + std::to_string(at.offset) + ": " + reason);
    }
    report_->tail = reader_.CutBefore(in_group ? group_start_ : at, std::move(reason));
    report_->tail.kind = WalTail::Kind::kCorruptionDropped;
    const uint64_t first_dropped = in_group ? group_first_sequence_ : record.sequence;
    report_->log_last_sequence = first_dropped - 1;
    report_->next_sequence = std::max(first_dropped - 1, covered_) + 1;
    return false;
  }

  WalReader& reader_;
  const std::string& dir_;
  const uint64_t covered_;
  const bool truncate_;
  EffectReplayer replayer_;
  RecoveryReport* const report_;
  // The unfinished group, while there is one: its first record, and (truncate_ only) the
  // payloads of its records so far.
  WalReader::Position group_start_;
  uint64_t group_first_sequence_ = 0;
  std::vector<std::string> group_parts_;
};

}  // namespace

Result<uint64_t> LoadNewestSnapshot(Env* env, const std::string& dir, Database* db,
                                    RecoveryReport* report, uint64_t below) {
  CHECK(report != nullptr);
  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) return snapshots.status();
  for (const SnapshotFile& file : *snapshots) {
    if (file.wal_sequence >= below) continue;
    if (Status verified = VerifySnapshotFile(env, file.path); !verified.ok()) {
      if (verified.code() != StatusCode::kCorruption) return verified;
      report->damaged_snapshots.push_back({file.path, file.wal_sequence, verified.message()});
      continue;  // the previous generation, and the log since it, may stand in for it
    }
    DatabaseLoader loader(db);
    Result<SnapshotInfo> info = ReadSnapshot(env, file.path, &loader);
    if (!info.ok()) return Status::Corruption(info.status().message());  // whatever failed
    report->snapshot_path = file.path;
    report->snapshot = *info;
    return info->wal_sequence;
  }
  return uint64_t{0};  // none, or none whole: the log must then start at the first record
}

Status ReplayWal(Env* env, const std::string& dir, uint64_t covered, Database* db,
                 RecoveryOptions options, RecoveryReport* report,
                 const std::function<void(const WalRecord&)>& on_record) {
  CHECK(report != nullptr);
  WalReaderOptions reader_options;
  reader_options.truncate_at_first_corruption = options.truncate_corrupt_wal;
  reader_options.start_after = covered;
  Result<std::unique_ptr<WalReader>> reader = WalReader::Open(env, dir, reader_options);
  if (!reader.ok()) return reader.status();
  report->wal_segments = (*reader)->segment_count();
  LogReplay replay(**reader, dir, covered, db, options.truncate_corrupt_wal, report);
  Status status = replay.Run(on_record);
  report->stray_segments = (*reader)->stray_segments();
  if (!status.ok()) return status;
  // A damaged newer snapshot held every record up to its sequence, and they were all durable
  // before it was renamed into place: standing in for it, the log must reach that far.
  for (const RecoveryReport::DamagedSnapshot& damaged : report->damaged_snapshots) {
    if (report->log_last_sequence < damaged.wal_sequence) {
      return Status::Corruption("the log ends at record " +
                                std::to_string(report->log_last_sequence) + ", before record " +
                                std::to_string(damaged.wal_sequence) + " that " + damaged.path +
                                " held: records in between are missing");
    }
  }
  return status;
}

Result<RecoveryReport> Recover(Env* env, const std::string& dir, Database* db,
                               RecoveryOptions options) {
  if (Status status = env->CreateDir(dir); !status.ok()) return status;
  RecoveryReport report;
  Result<uint64_t> covered = LoadNewestSnapshot(env, dir, db, &report);
  if (!covered.ok() && covered.status().code() == StatusCode::kCorruption) {
    return Status::Corruption(covered.status().message() +
                              " (the newest snapshot is damaged; see podium-check)");
  }
  if (!covered.ok()) return covered.status();
  if (Status status = ReplayWal(env, dir, *covered, db, options, &report); !status.ok()) {
    if (report.damaged_snapshots.empty()) return status;
    return Status::Corruption(
        report.damaged_snapshots.front().path + " is damaged (" +
        report.damaged_snapshots.front().problem + "), and " +
        (report.snapshot_path.empty() ? std::string("no older snapshot") : report.snapshot_path) +
        " cannot stand in for it: " + status.message() + " (see podium-check)");
  }
  // Cuts a torn tail, a dropped corruption or group, or the zeros of a reserve left by a crash
  // (so that only the segment being written ever has one).
  if (Status status = TruncateWal(env, dir, report.tail); !status.ok()) return status;
  if (report.log_last_sequence < *covered) {
    // The log ends before the snapshot (or there is none): no snapshot can use it, and the
    // new segment at covered + 1 would not chain onto it. Start afresh.
    if (Status status = RemoveAllSegments(env, dir); !status.ok()) return status;
  }
  // A damaged snapshot goes aside, so that the next snapshot keeps the one recovery used as
  // its previous generation (WriteSnapshot) rather than this one.
  for (const RecoveryReport::DamagedSnapshot& damaged : report.damaged_snapshots) {
    if (Status status = env->RenameFile(damaged.path, damaged.path + kDamagedSuffix);
        !status.ok()) {
      return status;
    }
  }
  if (!report.damaged_snapshots.empty()) {
    if (Status status = env->SyncDir(dir); !status.ok()) return status;
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
  // The image may hold changes logged after S, some of whose records may not be durable yet:
  // a change under a shard, book or rankings lock queues its record under that lock, and a
  // stock change under its stripe, which the stock pass does not take. Once the snapshot is
  // renamed it is the base recovery starts from, so every record it may hold must be durable
  // first; else a crash could leave the image with half of a record's effect (an order's book
  // entry without its stock), which no replay completes.
  db.WaitForStockChanges();
  if (status = log.Sync(); !status.ok()) return status;
  Result<std::string> path = writer.Finish();
  if (!path.ok()) return path.status();
  result.path = *path;
  result.file_bytes = writer.file_bytes();

  // The new snapshot is durable. The newest older one stays as its previous generation, with
  // the segments after it (recovery's way around a damaged newest snapshot); what that one
  // makes unnecessary can go.
  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) return snapshots.status();
  const SnapshotFile* previous = nullptr;
  for (const SnapshotFile& old : *snapshots) {  // newest first
    if (old.wal_sequence >= result.wal_sequence) continue;
    if (previous == nullptr) {
      previous = &old;
      continue;
    }
    if (Status removed = env->RemoveFile(old.path); !removed.ok()) return removed;
  }
  if (previous != nullptr) {
    Result<uint64_t> removed = log.RemoveSegmentsThrough(previous->wal_sequence);
    if (!removed.ok()) return removed.status();
    result.wal_bytes_removed = *removed;
  }
  return result;
}

}  // namespace podium::storage
