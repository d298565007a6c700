// EffectLog with --fsync always: several appending threads, each waiting for its record to be
// durable, and segment rolls (by size and by snapshot marks) in between. What must hold: when
// the log reports a sequence durable, every record through it is in the synced bytes (what a
// power cut keeps), and the whole log reads back in sequence order with the right payloads.
#include "storage/effect_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/fault_injection_file.h"
#include "storage/wal_format.h"
#include "storage/wal_testing.h"

namespace podium::storage {
namespace {

constexpr char kDir[] = "/wal";
constexpr int kAppenders = 4;
constexpr int kRecordsPerAppender = 600;
constexpr uint64_t kSegmentBytes = 4096;  // a roll every few dozen records
constexpr int kCheckEvery = 7;            // durability claims checked (each re-reads the log)

// What the synced bytes were when the log said `durable`: per segment file, its synced prefix.
struct Claim {
  uint64_t durable;
  std::map<std::string, uint64_t> synced_bytes;
};

TEST(EffectLogTest, DurableMeansSyncedUnderConcurrentAppendsAndRolls) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  std::mutex claims_mutex;
  std::vector<Claim> claims;
  int calls = 0;

  EffectLogOptions options;
  options.fsync = FsyncPolicy::kAlways;
  options.writer.segment_bytes_max = kSegmentBytes;
  options.on_durable = [&](uint64_t durable) {
    std::lock_guard<std::mutex> lock(claims_mutex);
    if (++calls % kCheckEvery != 0) return;
    Claim claim{durable, {}};
    Result<std::vector<std::string>> names = env.GetChildren(kDir);
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) {
      const std::string path = std::string(kDir) + "/" + name;
      claim.synced_bytes[path] = env.SyncedBytes(path);
    }
    claims.push_back(std::move(claim));
  };
  Result<std::unique_ptr<EffectLog>> opened = EffectLog::Open(&env, kDir, 1, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<EffectLog> log = std::move(opened).value();

  // Each appender waits for its record to be durable before the next, as a client of the
  // server does; one more thread marks snapshot points (each rolls the log).
  std::mutex payloads_mutex;
  std::map<uint64_t, std::string> payload_of;
  std::atomic<bool> appending{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRecordsPerAppender; ++i) {
        const std::string payload = testing::PayloadFor(t * 100'000 + i, 20 + (i * 37) % 200);
        const uint64_t sequence = log->Append(kWalRecordTypeMin, payload);
        {
          std::lock_guard<std::mutex> lock(payloads_mutex);
          payload_of[sequence] = payload;
        }
        ASSERT_TRUE(log->Sync().ok());
        ASSERT_GE(log->durable_sequence(), sequence);
      }
    });
  }
  std::thread marker([&] {
    while (appending.load()) {
      log->MarkSnapshotPoint();
      std::this_thread::yield();
    }
  });
  for (std::thread& thread : threads) thread.join();
  appending.store(false);
  marker.join();
  ASSERT_TRUE(log->Close().ok());

  const uint64_t last = uint64_t{kAppenders} * kRecordsPerAppender;
  EXPECT_EQ(log->durable_sequence(), last);
  EXPECT_GT(env.sync_calls(), 10u);

  // Every claim: the log cut at the synced bytes of that moment reads back through it.
  ASSERT_GT(claims.size(), 20u);
  for (const Claim& claim : claims) {
    FaultInjectionEnv cut;
    ASSERT_TRUE(cut.CreateDir(kDir).ok());
    for (const auto& [path, synced] : claim.synced_bytes) {
      Result<std::unique_ptr<WritableFile>> file = cut.NewWritableFile(path);
      ASSERT_TRUE(file.ok());
      ASSERT_TRUE((*file)->Append(env.MutableContents(path).substr(0, synced)).ok());
      ASSERT_TRUE((*file)->Sync().ok());
      ASSERT_TRUE((*file)->Close().ok());
    }
    const testing::ReadOutcome outcome = testing::ReadLog(&cut, kDir);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    EXPECT_GE(outcome.last_sequence, claim.durable) << "reported durable, not synced";
  }

  // The whole log: every sequence once, in order, with the payload its Append was given.
  const testing::ReadOutcome outcome = testing::ReadLog(&env, kDir);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_EQ(outcome.records.size(), last);
  for (size_t i = 0; i < outcome.records.size(); ++i) {
    ASSERT_EQ(outcome.records[i].sequence, i + 1);
    ASSERT_EQ(outcome.records[i].payload, payload_of.at(i + 1)) << "sequence " << i + 1;
  }
}

// wal_bytes counts the segments' records, never the writer's reserve of zeros after them: what
// a snapshot by WAL size and INFO go by.
TEST(EffectLogTest, WalBytesCountRecordsNotTheReserve) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  EffectLogOptions options;
  options.fsync = FsyncPolicy::kAlways;
  Result<std::unique_ptr<EffectLog>> log = EffectLog::Open(&env, kDir, 1, options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->stats().wal_bytes, kWalSegmentHeaderBytes);
  const std::string payload(100, 'p');
  for (int i = 0; i < 10; ++i) (*log)->Append(1, payload);
  ASSERT_TRUE((*log)->Sync().ok());
  const uint64_t records = 10 * (kWalRecordHeaderBytes + payload.size());
  EXPECT_EQ((*log)->stats().wal_bytes, kWalSegmentHeaderBytes + records);

  const uint64_t mark = (*log)->MarkSnapshotPoint();  // the segment closes, its reserve cut
  (*log)->Append(1, payload);
  ASSERT_TRUE((*log)->Sync().ok());
  Result<uint64_t> removed = (*log)->RemoveSegmentsThrough(mark);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, kWalSegmentHeaderBytes + records);
  EXPECT_EQ((*log)->stats().wal_bytes, kWalSegmentHeaderBytes + kWalRecordHeaderBytes + 100);
  ASSERT_TRUE((*log)->Close().ok());
}

// A snapshot point with no write after it (an idle server whose WAL passed the snapshot size)
// still lets the segments it covers go, under every policy: the roll starts the next segment at
// once, and the removal waits for the roll. Otherwise the covered segment stays the last one,
// the WAL stays over the size, and a snapshot follows every second.
TEST(EffectLogTest, IdleSnapshotPointRemovesTheSegmentsItCovers) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverySecond, FsyncPolicy::kNo}) {
    SCOPED_TRACE(std::string(FsyncPolicyName(policy)));
    FaultInjectionEnv env;
    ASSERT_TRUE(env.CreateDir(kDir).ok());
    EffectLogOptions options;
    options.fsync = policy;
    Result<std::unique_ptr<EffectLog>> log = EffectLog::Open(&env, kDir, 1, options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const std::string payload(100, 'p');
    for (int i = 0; i < 10; ++i) (*log)->Append(1, payload);
    const uint64_t records = 10 * (kWalRecordHeaderBytes + payload.size());

    const uint64_t mark = (*log)->MarkSnapshotPoint();
    EXPECT_EQ(mark, 10u);
    Result<uint64_t> removed = (*log)->RemoveSegmentsThrough(mark);
    ASSERT_TRUE(removed.ok()) << removed.status().ToString();
    EXPECT_EQ(*removed, kWalSegmentHeaderBytes + records);
    EXPECT_EQ((*log)->stats().wal_bytes, kWalSegmentHeaderBytes);
    Result<std::vector<std::string>> names = env.GetChildren(kDir);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, std::vector<std::string>{WalSegmentFileName(mark + 1)});
    ASSERT_TRUE((*log)->Close().ok());
  }
}

// AppendGroup hands its payloads to the WAL thread as they are (no copy into the queue). What
// must hold: a group's records get consecutive sequences with nothing between them, in the
// log's order among the single appends of other threads, with the group's type, under every
// policy and across segment rolls.
TEST(EffectLogTest, GroupsStayWholeAndInOrder) {
  constexpr int kThreads = 3;
  constexpr int kAppendsPerThread = 300;
  constexpr uint8_t kSingleType = kWalRecordTypeMin;
  constexpr uint8_t kGroupType = kWalRecordTypeMin + 1;
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverySecond, FsyncPolicy::kNo}) {
    SCOPED_TRACE(std::string(FsyncPolicyName(policy)));
    FaultInjectionEnv env;
    ASSERT_TRUE(env.CreateDir(kDir).ok());
    EffectLogOptions options;
    options.fsync = policy;
    options.writer.segment_bytes_max = kSegmentBytes;
    Result<std::unique_ptr<EffectLog>> opened = EffectLog::Open(&env, kDir, 1, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<EffectLog> log = std::move(opened).value();

    std::mutex expected_mutex;
    std::map<uint64_t, WalRecord> expected;  // by sequence
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kAppendsPerThread; ++i) {
          const int id = t * 100'000 + i;
          const size_t group_size = static_cast<size_t>(i % 4);  // 0: a single append
          std::vector<std::string> payloads;
          for (size_t k = 0; k < std::max<size_t>(group_size, 1); ++k) {
            payloads.push_back(testing::PayloadFor(id * 10 + static_cast<int>(k), 30 + k * 50));
          }
          const std::vector<std::string> sent = payloads;
          const uint64_t last = group_size == 0 ? log->Append(kSingleType, payloads[0])
                                                : log->AppendGroup(kGroupType, std::move(payloads));
          std::lock_guard<std::mutex> lock(expected_mutex);
          for (size_t k = 0; k < sent.size(); ++k) {
            const uint64_t sequence = last - sent.size() + 1 + k;
            const uint8_t type = group_size == 0 ? kSingleType : kGroupType;
            ASSERT_TRUE(expected.emplace(sequence, WalRecord{type, sequence, sent[k]}).second)
                << "sequence " << sequence << " given twice";
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(log->AppendGroup(kGroupType, {}), log->last_sequence()) << "an empty group";
    ASSERT_TRUE(log->Close().ok());

    const testing::ReadOutcome outcome = testing::ReadLog(&env, kDir);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    ASSERT_EQ(outcome.records.size(), expected.size());
    ASSERT_EQ(expected.rbegin()->first, expected.size()) << "a sequence was skipped";
    for (const WalRecord& record : outcome.records) {
      ASSERT_EQ(record, expected.at(record.sequence)) << "sequence " << record.sequence;
    }
    EXPECT_GT(env.GetChildren(kDir)->size(), 2u) << "the groups should cross segment rolls";
  }
}

}  // namespace
}  // namespace podium::storage
