// Persistence: the server's data directory at run time. At start it recovers the Database
// (storage/recovery.h) and opens the write-ahead log; while the server runs it takes snapshots
// on request (SAVE, BGSAVE) and when the log grows past snapshot_wal_bytes; at shutdown it takes
// a last snapshot and closes the log. docs/operations.md is the operator's view of all this.
//
// Snapshots run on this object's own thread (BGSAVE, the WAL-size trigger) or on the caller's
// (SAVE runs on a libuv worker, shutdown on the main thread), one at a time.
//
// Thread-safety: every method may be called from any thread once Open has returned.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/file.h"
#include "storage/recovery.h"
#include "storage/status.h"

namespace podium::server {

struct PersistenceSettings {
  std::string dir;
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kEverySecond;
  bool truncate_corrupt_wal = false;
  // A snapshot starts by itself once the log has grown by this many bytes since the last one
  // (0: never); the segments kept for the previous generation do not count.
  uint64_t snapshot_wal_bytes = uint64_t{256} << 20;
};

struct SnapshotStats {
  bool in_progress = false;
  uint64_t taken = 0;
  uint64_t failed = 0;
  int64_t last_unix_ms = 0;  // when the last good one finished (0: none since start)
  int64_t last_duration_ms = 0;
  uint64_t last_bytes = 0;
  uint64_t last_sequence = 0;
  int64_t last_longest_lock_us = 0;
  std::string last_error;
};

class Persistence {
 public:
  // Locks settings.dir (another process holding it is an error), recovers `db` (which must be
  // empty) from it and opens the log; on_durable runs on the WAL thread after each fsync, with
  // the new durable sequence. The error names what failed and where.
  static storage::Result<std::unique_ptr<Persistence>> Open(
      PersistenceSettings settings, storage::Database* db,
      std::function<void(uint64_t)> on_durable);
  ~Persistence();  // Close()

  storage::EffectLog& log() { return *log_; }
  const storage::RecoveryReport& recovery() const { return recovery_; }
  int64_t recovery_ms() const { return recovery_ms_; }
  const PersistenceSettings& settings() const { return settings_; }

  // BGSAVE: starts a snapshot on the background thread; false if one is already running.
  bool StartSnapshot();
  // SAVE: takes a snapshot on the calling thread, after any running one.
  storage::Status SnapshotNow();
  SnapshotStats snapshot_stats() const;

  // Stops the background thread, takes a last snapshot, syncs and closes the log.
  void Close();

 private:
  Persistence(PersistenceSettings settings, storage::Database* db);
  void RunBackground();
  storage::Status TakeSnapshot();

  // At start: the bytes of the segments that hold only records <= covered (the recovered
  // snapshot's sequence), the previous generation's log, which the WAL-size trigger does not
  // count.
  uint64_t PreviousGenerationWalBytes(uint64_t covered);
  // Takes <dir>/LOCK with flock: one server per data directory, as LevelDB's LOCK file.
  storage::Status LockDirectory();

  const PersistenceSettings settings_;
  storage::Database* const db_;
  int lock_fd_ = -1;  // holds the directory's flock until destruction
  storage::PosixEnv env_;
  std::unique_ptr<storage::EffectLog> log_;
  storage::RecoveryReport recovery_;
  int64_t recovery_ms_ = 0;

  std::mutex snapshot_mutex_;  // one snapshot at a time
  mutable std::mutex mutex_;   // guards the fields below
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  SnapshotStats stats_;
  // The WAL's bytes in the directory when the last snapshot finished (0 before one): the
  // WAL-size trigger counts what the log grew by since.
  uint64_t wal_bytes_after_snapshot_ = 0;
  std::thread thread_;
};

}  // namespace podium::server
