#include "server/persistence.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/wal_format.h"

namespace podium::server {
namespace {

constexpr auto kWalSizeCheckInterval = std::chrono::seconds(1);

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LogRecovery(const std::string& dir, const storage::RecoveryReport& report, int64_t ms) {
  if (report.snapshot_path.empty()) {
    LOG(INFO) << "recovery: no snapshot in " << dir;
  } else {
    LOG(INFO) << "recovery: loaded " << report.snapshot_path << " (sequence "
              << report.snapshot.wal_sequence << ", " << report.snapshot.stock_counters
              << " stock counters, " << report.snapshot.strings << " strings, "
              << report.snapshot.sorted_sets << " sorted sets with "
              << report.snapshot.sorted_set_members << " members)";
  }
  LOG(INFO) << "recovery: replayed " << report.records_replayed << " WAL records ("
            << report.records_skipped << " already in the snapshot) in " << ms << " ms; next "
            << "sequence " << report.next_sequence;
  using Kind = storage::WalTail::Kind;
  if (report.tail.kind == Kind::kTornWrite) {
    LOG(WARNING) << "recovery: torn write at the end of " << report.tail.file << ", offset "
                 << report.tail.offset << " (" << report.tail.bytes_dropped
                 << " bytes cut: " << report.tail.reason << ")";
  } else if (report.tail.kind == Kind::kCorruptionDropped) {
    // Records and their bytes, as a torn tail's: the zeros of a writer's reserve held nothing.
    LOG(WARNING) << "recovery: --truncate_corrupt_wal: log cut at " << report.tail.file
                 << ", offset " << report.tail.offset << " (" << report.tail.reason << "); "
                 << report.tail.records_dropped << " records (" << report.tail.bytes_dropped
                 << " bytes) dropped, " << report.tail.segments_dropped
                 << " later segments removed";
  }
  for (const storage::RecoveryReport::DamagedSnapshot& damaged : report.damaged_snapshots) {
    LOG(ERROR) << "recovery: snapshot " << damaged.path << " is damaged (" << damaged.problem
               << "); recovered from "
               << (report.snapshot_path.empty() ? std::string("the log alone")
                                                : report.snapshot_path + " and the log")
               << ", and renamed the damaged file to " << damaged.path << storage::kDamagedSuffix;
  }
  for (const std::string& stray : report.stray_segments) {
    LOG(WARNING) << "recovery: skipped " << storage::JoinPath(dir, stray)
                 << ": its name falls inside records already read, so it is not part of this "
                    "log (a file copied in by mistake?); left in place";
  }
  if (report.group_records_dropped > 0) {
    LOG(WARNING) << "recovery: dropped an unfinished multi-record effect ("
                 << report.group_records_dropped << " records) at the end of the log";
  }
}

}  // namespace

storage::Result<std::unique_ptr<Persistence>> Persistence::Open(
    PersistenceSettings settings, storage::Database* db, std::function<void(uint64_t)> on_durable) {
  std::unique_ptr<Persistence> persistence(new Persistence(std::move(settings), db));
  if (storage::Status locked = persistence->LockDirectory(); !locked.ok()) return locked;
  const auto start = std::chrono::steady_clock::now();
  storage::RecoveryOptions options;
  options.truncate_corrupt_wal = persistence->settings_.truncate_corrupt_wal;
  storage::Result<storage::RecoveryReport> report =
      storage::Recover(&persistence->env_, persistence->settings_.dir, db, options);
  if (!report.ok()) return report.status();
  persistence->recovery_ = *report;
  persistence->recovery_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
  LogRecovery(persistence->settings_.dir, *report, persistence->recovery_ms_);

  storage::EffectLogOptions log_options;
  log_options.fsync = persistence->settings_.fsync;
  log_options.on_durable = std::move(on_durable);
  storage::Result<std::unique_ptr<storage::EffectLog>> log = storage::EffectLog::Open(
      &persistence->env_, persistence->settings_.dir, report->next_sequence, std::move(log_options));
  if (!log.ok()) return log.status();
  persistence->log_ = std::move(log).value();
  persistence->wal_bytes_after_snapshot_ = persistence->PreviousGenerationWalBytes(
      report->snapshot_path.empty() ? 0 : report->snapshot.wal_sequence);
  db->set_log(persistence->log_.get());
  persistence->thread_ = std::thread([raw = persistence.get()] { raw->RunBackground(); });
  return persistence;
}

uint64_t Persistence::PreviousGenerationWalBytes(uint64_t covered) {
  storage::Result<std::vector<std::string>> names = env_.GetChildren(settings_.dir);
  if (!names.ok()) return 0;
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const std::string& name : *names) {
    if (std::optional<uint64_t> first = storage::ParseWalSegmentFileName(name)) {
      segments.emplace_back(*first, name);
    }
  }
  std::sort(segments.begin(), segments.end());
  uint64_t bytes = 0;
  // As EffectLog::RemoveSegmentsThrough judges: a segment holds only records <= covered when
  // the next one starts at or before covered + 1.
  for (size_t i = 0; i + 1 < segments.size() && segments[i + 1].first <= covered + 1; ++i) {
    storage::Result<uint64_t> size =
        env_.FileSize(storage::JoinPath(settings_.dir, segments[i].second));
    if (size.ok()) bytes += *size;
  }
  return bytes;
}

storage::Status Persistence::LockDirectory() {
  if (storage::Status status = env_.CreateDir(settings_.dir); !status.ok()) return status;
  const std::string path = storage::JoinPath(settings_.dir, "LOCK");
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return storage::Status::IoError("open " + path + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    return storage::Status::IoError(
        error == EWOULDBLOCK ? settings_.dir + " is in use by another podium-server (" + path +
                                   " is locked)"
                             : "flock " + path + ": " + std::strerror(error));
  }
  return storage::Status::Ok();
}

Persistence::Persistence(PersistenceSettings settings, storage::Database* db)
    : settings_(std::move(settings)), db_(db) {}

Persistence::~Persistence() {
  Close();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

bool Persistence::StartSnapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stats_.in_progress || requested_ || stopping_) return false;
  requested_ = true;
  wake_.notify_one();
  return true;
}

storage::Status Persistence::SnapshotNow() { return TakeSnapshot(); }

SnapshotStats Persistence::snapshot_stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

storage::Status Persistence::TakeSnapshot() {
  std::lock_guard<std::mutex> one_at_a_time(snapshot_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_progress = true;
  }
  const auto start = std::chrono::steady_clock::now();
  storage::Result<storage::SnapshotResult> result =
      storage::WriteSnapshot(&env_, settings_.dir, *db_, *log_, UnixMs());
  const int64_t duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.in_progress = false;
  if (!result.ok()) {
    ++stats_.failed;
    stats_.last_error = result.status().message();
    LOG(ERROR) << "snapshot failed: " << result.status().message();
    return result.status();
  }
  ++stats_.taken;
  wal_bytes_after_snapshot_ = log_->stats().wal_bytes;
  stats_.last_unix_ms = UnixMs();
  stats_.last_duration_ms = duration_ms;
  stats_.last_bytes = result->file_bytes;
  stats_.last_sequence = result->wal_sequence;
  stats_.last_longest_lock_us = result->longest_lock_us;
  stats_.last_error.clear();
  LOG(INFO) << "snapshot " << result->path << ": " << result->file_bytes << " bytes in "
            << duration_ms << " ms (longest shard lock " << result->longest_lock_us
            << " us); " << result->wal_bytes_removed << " WAL bytes removed";
  return storage::Status::Ok();
}

void Persistence::RunBackground() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kWalSizeCheckInterval, [&] { return requested_ || stopping_; });
    if (stopping_) break;
    // The segments since the previous generation stay after a snapshot (storage/recovery.h):
    // what counts is what the log grew by since the last one.
    const uint64_t wal_bytes = log_->stats().wal_bytes;
    const bool wal_full = settings_.snapshot_wal_bytes > 0 &&
                          wal_bytes >= wal_bytes_after_snapshot_ + settings_.snapshot_wal_bytes;
    if (!requested_ && !wal_full) continue;
    requested_ = false;
    lock.unlock();
    if (wal_full) LOG(INFO) << "the WAL passed " << settings_.snapshot_wal_bytes << " bytes";
    (void)TakeSnapshot();  // failures are counted and logged; the next trigger retries
    lock.lock();
  }
}

void Persistence::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (log_ == nullptr) return;
  if (storage::Status status = TakeSnapshot(); !status.ok()) {
    LOG(ERROR) << "no snapshot at shutdown; the WAL still holds everything";
  }
  if (storage::Status status = log_->Close(); !status.ok()) {
    LOG(ERROR) << "closing the WAL: " << status.message();
  }
  db_->set_log(nullptr);
}

}  // namespace podium::server
