// Crash recovery of the WAL on FaultInjectionEnv: thousands of random crash points over a
// workload of appends and syncs. The model is the list of records acknowledged by a completed
// Sync: after every crash, recovery must give back a prefix of what was appended that holds
// at least every acknowledged record, in order, and nothing else (no garbage after the tail).
// A crash must never read as corruption.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "storage/fault_injection_file.h"
#include "storage/wal_format.h"
#include "storage/wal_testing.h"

namespace podium::storage {
namespace {

using testing::PayloadFor;
using testing::ReadLog;
using testing::ReadOutcome;

constexpr char kDir[] = "/wal";
constexpr int kCrashPoints = 3000;
constexpr int kRoundsPerCrashPoint = 3;  // crash, recover, continue, crash again...
constexpr int kOperationsPerRoundMax = 60;

class CrashingWorkload {
 public:
  explicit CrashingWorkload(uint32_t seed) : random_(seed) { CHECK(env_.CreateDir(kDir).ok()); }

  // Runs one round: open a writer after the recovered log, append and sync until the machine
  // dies, crash, recover, check against the model.
  void Round() {
    WalWriterOptions options;
    options.segment_bytes_max = Pick(200, 800);
    env_.CrashAfterOperations(Pick(0, kOperationsPerRoundMax));
    Result<std::unique_ptr<WalWriter>> writer =
        WalWriter::Open(&env_, kDir, recovered_.size() + 1, options);
    std::vector<WalRecord> appended = recovered_;
    size_t acknowledged = recovered_.size();
    if (writer.ok()) {
      while (true) {
        if (Pick(0, 3) == 0) {
          if (!(*writer)->Sync().ok()) break;
          acknowledged = appended.size();
          continue;
        }
        const uint64_t sequence = appended.size() + 1;
        WalRecord record{static_cast<uint8_t>(Pick(1, 127)), sequence,
                         PayloadFor(sequence ^ random_(), Pick(0, 120))};
        Result<uint64_t> appended_at = (*writer)->Append(record.type, record.payload);
        if (!appended_at.ok()) break;
        ASSERT_EQ(*appended_at, sequence);
        appended.push_back(std::move(record));
      }
    }
    env_.SimulateCrash([&](const std::string&, uint64_t unsynced) {
      FaultInjectionEnv::UnsyncedSurvival survival;
      survival.bytes_kept = Pick(0, unsynced);
      survival.zero_bytes = Pick(0, 2) == 0 ? Pick(0, unsynced - survival.bytes_kept) : 0;
      return survival;
    });
    Recover(appended, acknowledged);
  }

 private:
  void Recover(const std::vector<WalRecord>& appended, size_t acknowledged) {
    const ReadOutcome read = ReadLog(&env_, kDir);
    ASSERT_TRUE(read.status.ok()) << "a crash read as " << read.status.ToString();
    ASSERT_GE(read.records.size(), acknowledged) << "an acknowledged record was lost";
    ASSERT_LE(read.records.size(), appended.size());
    for (size_t i = 0; i < read.records.size(); ++i) {
      ASSERT_TRUE(read.records[i] == appended[i]) << "record " << i << " is not what was written";
    }
    ASSERT_EQ(read.last_sequence, read.records.size());
    ASSERT_TRUE(TruncateWal(&env_, kDir, read.tail).ok());
    recovered_ = read.records;
  }

  uint64_t Pick(uint64_t low, uint64_t high) {
    return std::uniform_int_distribution<uint64_t>(low, high)(random_);
  }

  FaultInjectionEnv env_;
  std::mt19937_64 random_;
  std::vector<WalRecord> recovered_;
};

TEST(WalCrashTest, AcknowledgedRecordsSurviveEveryCrashPoint) {
  for (int point = 0; point < kCrashPoints; ++point) {
    CrashingWorkload workload(static_cast<uint32_t>(point));
    for (int round = 0; round < kRoundsPerCrashPoint; ++round) {
      ASSERT_NO_FATAL_FAILURE(workload.Round()) << "crash point " << point << " round " << round;
    }
  }
}

// Without a crash budget, a crash drops exactly the unsynced tail: what Sync acknowledged is
// all that is left, and the log reads cleanly after the cut.
TEST(WalCrashTest, PlainCrashKeepsExactlyTheSyncedRecords) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(&env, kDir, 1);  // one segment
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*writer)->Append(3, PayloadFor(i, 40)).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*writer)->Append(3, PayloadFor(i, 40)).ok());
  EXPECT_EQ((*writer)->synced_sequence(), 50u);
  env.SimulateCrash();
  const ReadOutcome read = ReadLog(&env, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records.size(), 50u);
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
}

}  // namespace
}  // namespace podium::storage
