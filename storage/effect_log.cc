#include "storage/effect_log.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "storage/coding.h"
#include "storage/wal_format.h"

namespace podium::storage {
namespace {

// Queue entries that are not records (record types are kWalRecordTypeMin..kWalRecordTypeMax).
constexpr uint8_t kRollMarker = 0;
constexpr uint8_t kGroupMarker = 255;
static_assert(kRollMarker < kWalRecordTypeMin && kGroupMarker > kWalRecordTypeMax);
constexpr size_t kQueueEntryHeaderBytes = 5;
constexpr auto kEverySecondInterval = std::chrono::seconds(1);
// fsync everysec / no: how often the WAL thread writes what is queued, and the queue size that
// wakes it sooner.
constexpr auto kWalBatchInterval = std::chrono::milliseconds(1);
constexpr size_t kWalWakeBytes = size_t{1} << 20;
// fsync always, under load: after a batch of at least kSpinBatchRecordsMin records (clients
// waiting in numbers), the WAL thread waits up to kSpinMax for the next record by polling
// instead of sleeping, which saves a futex wake-up on both sides of every fsync cycle
// (docs/benchmarks.md: about 4%). A single client's writes never make it spin.
constexpr auto kSpinMax = std::chrono::microseconds(30);
constexpr size_t kSpinBatchRecordsMin = 2;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySecond:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "?";
}

Result<std::unique_ptr<EffectLog>> EffectLog::Open(Env* env, std::string dir,
                                                   uint64_t next_sequence,
                                                   EffectLogOptions options) {
  Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(env, dir, next_sequence,
                                                              options.writer);
  if (!writer.ok()) return writer.status();
  std::unique_ptr<EffectLog> log(new EffectLog(env, std::move(dir), std::move(options),
                                               std::move(writer).value(), next_sequence));
  log->thread_ = std::thread([raw = log.get()] { raw->Run(); });
  return log;
}

EffectLog::EffectLog(Env* env, std::string dir, EffectLogOptions options,
                     std::unique_ptr<WalWriter> writer, uint64_t next_sequence)
    : env_(env),
      dir_(std::move(dir)),
      options_(std::move(options)),
      writer_(std::move(writer)),
      next_sequence_(next_sequence),
      last_sequence_(next_sequence - 1),
      durable_sequence_(next_sequence - 1) {
  wal_bytes_.store(CountWalBytes(), std::memory_order_relaxed);
}

EffectLog::~EffectLog() {
  if (Status status = Close(); !status.ok()) LOG(ERROR) << "WAL close: " << status.message();
}

uint64_t EffectLog::CountWalBytes() const {
  uint64_t total = 0;
  Result<std::vector<std::string>> names = env_->GetChildren(dir_);
  if (!names.ok()) return 0;
  for (const std::string& name : *names) {
    if (!ParseWalSegmentFileName(name).has_value()) continue;
    if (name == writer_->segment_name()) {
      total += writer_->segment_bytes();  // its records; a reserve of zeros follows them
      continue;
    }
    Result<uint64_t> size = env_->FileSize(JoinPath(dir_, name));
    if (size.ok()) total += *size;
  }
  return total;
}

void EffectLog::WaitForRoom(std::unique_lock<std::mutex>& lock, size_t bytes) {
  room_ready_.wait(lock, [&] {
    const size_t queued = QueuedBytesLocked();
    return queued == 0 || queued + bytes <= options_.queue_bytes_max || stopping_;
  });
}

void EffectLog::NotifyLocked(size_t bytes) {
  // With fsync always the WAL thread sleeps only on an empty queue and must start at once.
  // Otherwise it wakes by itself every kWalBatchInterval, and is woken early only for a big
  // queue: one wake-up per record would cost a futex call on both sides of every write.
  const size_t queued = QueuedBytesLocked();
  if (options_.fsync == FsyncPolicy::kAlways
          ? queued == 0
          : queued < kWalWakeBytes && queued + bytes >= kWalWakeBytes) {
    work_ready_.notify_one();
  }
}

void EffectLog::AppendLocked(uint8_t type, std::string_view payload) {
  NotifyLocked(payload.size());
  queue_.push_back(static_cast<char>(type));
  AppendU32(&queue_, static_cast<uint32_t>(payload.size()));
  queue_.append(payload);
  if (type != kRollMarker) ++next_sequence_;
}

uint64_t EffectLog::Append(uint8_t type, std::string_view payload) {
  CHECK(IsWalRecordType(type));
  CHECK_LE(payload.size(), kWalRecordPayloadBytesMax);
  std::unique_lock<std::mutex> lock(mutex_);
  CHECK(!stopping_) << "Append after Close";
  WaitForRoom(lock, kQueueEntryHeaderBytes + payload.size());
  AppendLocked(type, payload);
  const uint64_t sequence = next_sequence_ - 1;
  last_sequence_.store(sequence, std::memory_order_release);
  queued_bytes_.store(QueuedBytesLocked(), std::memory_order_relaxed);
  return sequence;
}

uint64_t EffectLog::AppendGroup(uint8_t type, std::vector<std::string> payloads) {
  CHECK(IsWalRecordType(type));
  size_t bytes = 0;
  for (const std::string& payload : payloads) {
    CHECK_LE(payload.size(), kWalRecordPayloadBytesMax);
    bytes += payload.size();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  CHECK(!stopping_) << "Append after Close";
  if (!payloads.empty()) {
    WaitForRoom(lock, bytes);
    NotifyLocked(bytes);
    queue_.push_back(static_cast<char>(kGroupMarker));
    AppendU32(&queue_, 0);
    next_sequence_ += payloads.size();
    group_bytes_ += bytes;
    groups_.push_back({type, std::move(payloads)});
  }
  const uint64_t sequence = next_sequence_ - 1;
  last_sequence_.store(sequence, std::memory_order_release);
  queued_bytes_.store(QueuedBytesLocked(), std::memory_order_relaxed);
  return sequence;
}

Status EffectLog::Sync() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = next_sequence_ - 1;
  if (durable_sequence() >= target) return Status::Ok();
  sync_requested_ = std::max(sync_requested_, target);
  work_ready_.notify_one();
  sync_done_.wait(lock, [&] { return durable_sequence() >= target; });
  return Status::Ok();
}

uint64_t EffectLog::MarkSnapshotPoint() {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t sequence = next_sequence_ - 1;
  AppendLocked(kRollMarker, {});
  ++rolls_queued_;
  return sequence;
}

void EffectLog::WaitForRolls() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t rolls = rolls_queued_;
  sync_done_.wait(lock, [&] { return rolls_done_ >= rolls; });
}

Result<uint64_t> EffectLog::RemoveSegmentsThrough(uint64_t sequence) {
  // The roll of the snapshot point must be done: until the next segment exists, the one
  // holding the point is the last, which is never removed.
  WaitForRolls();
  Result<std::vector<std::string>> names = env_->GetChildren(dir_);
  if (!names.ok()) return names.status();
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const std::string& name : *names) {
    if (std::optional<uint64_t> first = ParseWalSegmentFileName(name)) {
      segments.emplace_back(*first, name);
    }
  }
  std::sort(segments.begin(), segments.end());
  uint64_t removed = 0;
  // A segment holds only records <= sequence when the next one starts at or before
  // sequence + 1. The last segment is never removed: it may be the one being written.
  for (size_t i = 0; i + 1 < segments.size() && segments[i + 1].first <= sequence + 1; ++i) {
    const std::string path = JoinPath(dir_, segments[i].second);
    Result<uint64_t> size = env_->FileSize(path);
    if (Status status = env_->RemoveFile(path); !status.ok()) return status;
    if (size.ok()) removed += *size;
  }
  if (removed > 0) {
    if (Status status = env_->SyncDir(dir_); !status.ok()) return status;
    wal_bytes_.fetch_sub(std::min(removed, wal_bytes_.load()), std::memory_order_relaxed);
  }
  return removed;
}

EffectLogStats EffectLog::stats() const {
  EffectLogStats stats;
  stats.last_sequence = last_sequence();
  stats.durable_sequence = durable_sequence();
  stats.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  stats.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  stats.last_fsync_unix_ms = last_fsync_unix_ms_.load(std::memory_order_relaxed);
  stats.queued_bytes = queued_bytes_.load(std::memory_order_relaxed);
  stats.wal_bytes = wal_bytes_.load(std::memory_order_relaxed);
  return stats;
}

Status EffectLog::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return Status::Ok();
    closed_ = true;
    stopping_ = true;
    work_ready_.notify_one();
    room_ready_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  return writer_->Close();
}

void EffectLog::Die(const Status& status) {
  LOG(FATAL) << "write-ahead log in " << dir_ << ": " << status.message()
             << "; stopping (a restart recovers every acknowledged write)";
  std::abort();  // LOG(FATAL) does not return; this tells the compiler so
}

size_t EffectLog::WriteBatch(const std::string& batch, const std::vector<QueuedGroup>& groups,
                             size_t* rolls) {
  const uint64_t appended_before = writer_->bytes_appended();
  size_t offset = 0;
  size_t next_group = 0;
  uint64_t bytes = 0;
  size_t records = 0;
  *rolls = 0;
  const auto write = [&](uint8_t type, std::string_view payload) {
    const uint64_t expected = writer_->next_sequence();
    Result<uint64_t> sequence = writer_->Append(type, payload);
    if (!sequence.ok()) Die(sequence.status());
    CHECK_EQ(*sequence, expected);
    ++records;
    bytes += kWalRecordHeaderBytes + payload.size();
  };
  while (offset < batch.size()) {
    const uint8_t type = static_cast<uint8_t>(batch[offset]);
    const uint32_t length = LoadU32(batch.data() + offset + 1);
    const std::string_view payload(batch.data() + offset + kQueueEntryHeaderBytes, length);
    offset += kQueueEntryHeaderBytes + length;
    if (type == kRollMarker) {
      if (Status status = writer_->Roll(); !status.ok()) Die(status);
      ++*rolls;
    } else if (type == kGroupMarker) {
      CHECK_LT(next_group, groups.size());
      const QueuedGroup& group = groups[next_group++];
      for (const std::string& record : group.payloads) write(group.type, record);
    } else {
      write(type, payload);
    }
  }
  CHECK_EQ(next_group, groups.size());
  if (Status status = writer_->Flush(); !status.ok()) Die(status);
  bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
  // Records and the headers of segments started on the way.
  wal_bytes_.fetch_add(writer_->bytes_appended() - appended_before, std::memory_order_relaxed);
  return records;
}

void EffectLog::SpinForWork() const {
  const auto until = std::chrono::steady_clock::now() + kSpinMax;
  while (queued_bytes_.load(std::memory_order_relaxed) == 0 &&
         std::chrono::steady_clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void EffectLog::Run() {
  std::string batch;
  std::vector<QueuedGroup> groups;
  auto last_sync = std::chrono::steady_clock::now();
  size_t last_batch_records = 0;
  for (;;) {
    bool sync_wanted = false;
    bool stop = false;
    if (options_.fsync == FsyncPolicy::kAlways && last_batch_records >= kSpinBatchRecordsMin) {
      SpinForWork();
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (options_.fsync == FsyncPolicy::kAlways) {
        work_ready_.wait(lock, [&] {
          return !queue_.empty() || stopping_ || sync_requested_ > durable_sequence();
        });
      } else {
        work_ready_.wait_for(lock, kWalBatchInterval, [&] {
          return queue_.size() >= kWalWakeBytes || stopping_ ||
                 sync_requested_ > durable_sequence();
        });
      }
      batch.swap(queue_);
      groups.swap(groups_);
      group_bytes_ = 0;
      queued_bytes_.store(0, std::memory_order_relaxed);
      sync_wanted = sync_requested_ > durable_sequence();
      stop = stopping_;
    }
    room_ready_.notify_all();
    size_t rolls = 0;
    last_batch_records = WriteBatch(batch, groups, &rolls);
    batch.clear();
    groups.clear();  // a big group's memory goes back here, on the WAL thread
    if (batch.capacity() > options_.queue_bytes_max) std::string().swap(batch);

    const auto now = std::chrono::steady_clock::now();
    const bool due = options_.fsync == FsyncPolicy::kAlways ||
                     (options_.fsync == FsyncPolicy::kEverySecond &&
                      now - last_sync >= kEverySecondInterval);
    if ((due || sync_wanted || stop) &&
        writer_->synced_sequence() + 1 < writer_->next_sequence()) {
      if (Status status = writer_->Sync(); !status.ok()) Die(status);
      fsyncs_.fetch_add(1, std::memory_order_relaxed);
      last_fsync_unix_ms_.store(UnixMs(), std::memory_order_relaxed);
      last_sync = now;
    }
    const uint64_t durable = writer_->synced_sequence();  // never below durable_sequence_
    const bool advanced = durable > durable_sequence();
    if (advanced || rolls > 0) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        durable_sequence_.store(durable, std::memory_order_seq_cst);  // see durable_sequence()
        rolls_done_ += rolls;
      }
      sync_done_.notify_all();
      if (advanced && options_.on_durable) options_.on_durable(durable);
    }
    if (stop) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) return;
    }
  }
}

}  // namespace podium::storage
