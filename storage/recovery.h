// Recovery: rebuilding a Database from its data directory at start, and writing snapshots.
//
// Recover loads the newest valid snapshot (sequence S), then replays every WAL record after S
// (storage/effects.h says why replaying over a snapshot that may already hold some of them is
// right). A torn last record (a crash mid-write) is cut off and reported; corruption anywhere
// else stops recovery with an error naming the file and offset, unless the caller asked to
// truncate there (podium-server --truncate_corrupt_wal), which drops everything after it and
// reports how much. Corruption is whatever the WAL reader refuses (checksums, framing, the
// sequence chain) and a record whose effect does not decode (EffectReplayer refuses it). A log
// that does not continue the snapshot (its first record, or its first segment when it has no
// record, is past S + 1) stops recovery too, with or without truncation: a cut cannot bring the
// missing records back.
//
// Two generations. A snapshot removes only the snapshots and segments that the one before it,
// its previous generation P, makes unnecessary: P stays, with every segment after P. So when
// the newest snapshot is damaged (its file checksum fails: a write that never completed is
// impossible, since it is renamed only once synced, so this is rot or a bad copy), recovery
// loads P and replays the log from P + 1, which covers everything the damaged one held; it
// then renames the damaged file aside (kDamagedSuffix) and reports it. With no snapshot whole,
// the log must start at the first record. Anything else stops the start, naming the damaged
// file. Recovery changes nothing in the directory before it knows it will succeed.
//
// LoadNewestSnapshot and ReplayWal are Recover's two reading steps, which change nothing on
// disk: podium-check runs them on a scratch Database, so that it calls damage exactly what
// would stop the server's start, and finds the cut --truncate_corrupt_wal would make.
//
// WriteSnapshot writes one snapshot of a live Database while writes continue: it asks the log
// for its snapshot point S (every record <= S is queued; the log rolls to a new segment at
// S + 1), then captures the state in bounded slices while writes go on (CaptureDatabase),
// streams it through a SnapshotWriter, makes the log durable through every record the image
// may hold, and, once the file is renamed and synced, removes what its previous generation
// makes unnecessary: the snapshots older than that one, and the WAL segments it covers.
//
// Thread-safety: Recover runs before anything else uses the Database. WriteSnapshot may run on
// any thread alongside the event loops; at most one at a time (the caller serializes them).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/file.h"
#include "storage/snapshot_reader.h"
#include "storage/status.h"
#include "storage/wal_reader.h"

namespace podium::storage {

struct RecoveryOptions {
  // Corruption before the tail of the log: drop the log from there instead of failing.
  bool truncate_corrupt_wal = false;
};

// A damaged snapshot recovery set aside is renamed to its name plus this suffix (which
// ListSnapshots does not list), and kept for the operator.
inline constexpr char kDamagedSuffix[] = ".damaged";

struct RecoveryReport {
  std::string snapshot_path;  // the snapshot loaded; empty if none was
  SnapshotInfo snapshot;
  // Newer snapshots whose file checksum failed, passed over for the previous generation.
  struct DamagedSnapshot {
    std::string path;
    uint64_t wal_sequence = 0;  // what its name says it held
    std::string problem;
  };
  std::vector<DamagedSnapshot> damaged_snapshots;
  uint64_t records_replayed = 0;
  uint64_t records_skipped = 0;        // already covered by the snapshot
  uint64_t group_records_dropped = 0;  // an unfinished multi-record effect at the end
  WalTail tail;                        // where the log was cut, if it was
  uint64_t next_sequence = 1;          // for the EffectLog
  uint64_t log_last_sequence = 0;      // of the last record the log keeps (0: none)
  uint64_t wal_segments = 0;           // segments in the directory before any cut
  // Segments skipped as not part of the log (WalReader::stray_segments): left in place, for
  // the operator to look at; a later snapshot that covers them removes them.
  std::vector<std::string> stray_segments;
};

// `db` must be empty. Creates `dir` if it does not exist.
Result<RecoveryReport> Recover(Env* env, const std::string& dir, Database* db,
                               RecoveryOptions options = {});

// Loads the newest snapshot of `dir` whose file checksum holds (VerifySnapshotFile) into `db`
// (empty), lists the newer ones that failed in report->damaged_snapshots, and sets
// report->snapshot_path and report->snapshot. Returns the sequence it holds every record up to
// (0: no snapshot whole); Corruption naming the file if the one chosen still cannot be read
// whole (`db` then holds part of it); or an I/O error.
// Only snapshots whose sequence is below `below` are considered (podium-check's look at the
// previous generation).
Result<uint64_t> LoadNewestSnapshot(Env* env, const std::string& dir, Database* db,
                                    RecoveryReport* report, uint64_t below = UINT64_MAX);

// Reads the log of `dir` and replays every record after `covered` into `db` (which holds the
// snapshot of `covered`), as Recover does, changing nothing on disk. Sets report's record
// counts, wal_segments, tail (the cut TruncateWal must make before the log goes on: a torn
// tail, an unfinished group, a reserve's zeros, or, with truncate_corrupt_wal, the first
// corruption) and next_sequence. An error is what stops a start: Corruption naming the file and
// offset (or the missing records, also those of a damaged newer snapshot listed in
// report->damaged_snapshots that the log does not reach), or IoError. `on_record`, if set,
// sees every record read, those at or before `covered` included.
Status ReplayWal(Env* env, const std::string& dir, uint64_t covered, Database* db,
                 RecoveryOptions options, RecoveryReport* report,
                 const std::function<void(const WalRecord&)>& on_record = nullptr);

struct SnapshotResult {
  std::string path;
  uint64_t wal_sequence = 0;
  uint64_t file_bytes = 0;
  uint64_t wal_bytes_removed = 0;
  // The longest any shard lock was held while keys were captured (storage/snapshot_capture.h).
  int64_t longest_lock_us = 0;
  uint64_t sliced_sets = 0;  // sorted sets captured in more than one slice
};

// `after_mark`, for tests: runs between taking the snapshot point and the capture, as a write
// that lands there would (the image holds it, and the log has it after the point).
Result<SnapshotResult> WriteSnapshot(Env* env, const std::string& dir, Database& db,
                                     EffectLog& log, int64_t now_unix_ms,
                                     const std::function<void()>& after_mark = nullptr);

}  // namespace podium::storage
