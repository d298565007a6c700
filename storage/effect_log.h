// EffectLog: the server's write-ahead log, shared by every thread that changes state.
//
// Threads append effects (storage/effects.h) to an in-memory queue under one short mutex; each
// gets the next sequence number at once. One WAL thread owns the WalWriter: it takes the whole
// queue at a time, writes it with one write(2), and syncs according to the policy:
//  - kAlways: after every batch. Appenders wait for nothing here; the server holds each
//    reply until durable_sequence() passes what its command logged, and on_durable tells it
//    when. Every client whose records landed in one batch shares that batch's fsync: group
//    commit, with no timer: the batch is whatever queued while the previous fsync ran. After
//    a batch of several records the WAL thread polls briefly for the next one before it
//    sleeps (under load it comes within microseconds; a futex wake-up costs more).
//  - kEverySecond: what is queued is written every millisecond (or sooner past 1 MiB) and
//    synced once a second, as Redis's appendfsync everysec: a crash of the machine loses up to
//    a second of writes, a crash of the process what was queued (about a millisecond's worth).
//  - kNo: written the same way, never synced by us (the kernel flushes when it likes).
// The event loops never wait on the disk; they wait only if the queue passes queue_bytes_max
// (the disk cannot keep up), which bounds memory.
//
// An I/O error in the WAL thread is fatal (the process logs it and aborts): memory is then
// ahead of the log in a way no reply can undo, and a restart recovers every acknowledged
// write from the log. TigerBeetle treats a failing disk the same way.
//
// Thread-safety: every method may be called from any thread, except that Close and the
// destructor must not race with other calls.
#pragma once

#include <condition_variable>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/file.h"
#include "storage/status.h"
#include "storage/wal_writer.h"

namespace podium::storage {

enum class FsyncPolicy : uint8_t { kAlways, kEverySecond, kNo };
std::string_view FsyncPolicyName(FsyncPolicy policy);  // "always", "everysec", "no"

struct EffectLogOptions {
  FsyncPolicy fsync = FsyncPolicy::kEverySecond;
  WalWriterOptions writer;
  // Appenders wait while this many bytes are queued and not yet written.
  size_t queue_bytes_max = size_t{64} << 20;
  // Called on the WAL thread after each fsync with the new durable sequence.
  std::function<void(uint64_t durable_sequence)> on_durable;
};

struct EffectLogStats {
  uint64_t last_sequence = 0;
  uint64_t durable_sequence = 0;
  uint64_t bytes_written = 0;  // since start
  uint64_t fsyncs = 0;
  int64_t last_fsync_unix_ms = 0;
  uint64_t queued_bytes = 0;
  uint64_t wal_bytes = 0;  // in the directory's segments, as far as this log knows
};

class EffectLog {
 public:
  // Starts a WalWriter at next_sequence in `dir` (recovery has cut any torn tail) and the WAL
  // thread. `env` must outlive the log.
  static Result<std::unique_ptr<EffectLog>> Open(Env* env, std::string dir, uint64_t next_sequence,
                                                 EffectLogOptions options);
  EffectLog(const EffectLog&) = delete;
  EffectLog& operator=(const EffectLog&) = delete;
  ~EffectLog();  // Close()

  // Queues one record of `type` and returns its sequence.
  uint64_t Append(uint8_t type, std::string_view payload);
  // Queues records of one type with consecutive sequences, nothing between them; returns the
  // last sequence. Takes the payloads as they are: the WAL thread writes them from there, so a
  // big group (a union's destination, tens of megabytes) costs its caller no copy while it
  // holds the key's lock.
  uint64_t AppendGroup(uint8_t type, std::vector<std::string> payloads);

  uint64_t last_sequence() const { return last_sequence_.load(std::memory_order_acquire); }
  // Sequentially consistent, as is the WAL thread's store before on_durable: a thread that
  // publishes what it waits for and then reads this, while on_durable reads what was
  // published, cannot miss both (server/event_loop.cc, WaitForDurable).
  uint64_t durable_sequence() const { return durable_sequence_.load(std::memory_order_seq_cst); }
  FsyncPolicy fsync_policy() const { return options_.fsync; }

  // Makes every record queued so far durable, whatever the policy, and waits for it.
  Status Sync();

  // For a snapshot: returns the last sequence queued so far, S, and has the WAL thread start a
  // new segment at S + 1, so that once the snapshot of S is safe every older segment can go.
  uint64_t MarkSnapshotPoint();
  // Waits until the WAL thread has done the roll of every MarkSnapshotPoint so far.
  void WaitForRolls();
  // Removes every segment whose records are all <= sequence (never the one being written).
  // Waits first for the rolls (WaitForRolls). Returns the bytes removed.
  Result<uint64_t> RemoveSegmentsThrough(uint64_t sequence);
  EffectLogStats stats() const;

  // Writes and syncs what is queued, stops the WAL thread and closes the segment.
  Status Close();

 private:
  EffectLog(Env* env, std::string dir, EffectLogOptions options,
            std::unique_ptr<WalWriter> writer, uint64_t next_sequence);

  struct QueuedGroup {
    uint8_t type;
    std::vector<std::string> payloads;
  };

  size_t QueuedBytesLocked() const { return queue_.size() + group_bytes_; }
  // Before `bytes` more are queued: wakes the WAL thread if the policy wants it woken for them.
  void NotifyLocked(size_t bytes);
  void AppendLocked(uint8_t type, std::string_view payload);
  void WaitForRoom(std::unique_lock<std::mutex>& lock, size_t bytes);
  void Run();
  // Returns the records written; *rolls, the segment rolls done.
  size_t WriteBatch(const std::string& batch, const std::vector<QueuedGroup>& groups,
                    size_t* rolls);
  // Polls for queued records for a short while (fsync always under load).
  void SpinForWork() const;
  [[noreturn]] void Die(const Status& status);
  uint64_t CountWalBytes() const;

  Env* const env_;
  const std::string dir_;
  const EffectLogOptions options_;
  std::unique_ptr<WalWriter> writer_;  // the WAL thread's alone after Open

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;   // WAL thread: queue non-empty, sync asked, stop
  std::condition_variable room_ready_;   // appenders: the queue shrank
  std::condition_variable sync_done_;    // Sync() and RemoveSegmentsThrough() callers
  // Queued entries: type u8, payload length u32, payload. Two types are not records: a roll
  // marker starts a new segment, and a group marker (no payload) stands for the next of
  // groups_, in order.
  std::string queue_;
  std::vector<QueuedGroup> groups_;
  size_t group_bytes_ = 0;        // the payload bytes of groups_
  uint64_t next_sequence_;        // guarded by mutex_
  uint64_t sync_requested_ = 0;   // a Sync() wants everything through this sequence durable
  uint64_t rolls_queued_ = 0;     // MarkSnapshotPoint calls
  uint64_t rolls_done_ = 0;       // of them, those the WAL thread has done
  bool stopping_ = false;
  std::atomic<uint64_t> last_sequence_;
  std::atomic<uint64_t> durable_sequence_;
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<int64_t> last_fsync_unix_ms_{0};
  std::atomic<uint64_t> queued_bytes_{0};
  std::atomic<uint64_t> wal_bytes_{0};
  std::thread thread_;
  bool closed_ = false;
};

}  // namespace podium::storage
