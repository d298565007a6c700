// Snapshots under crashes. The machine stops after k more changing calls (FaultInjectionEnv),
// for every k from 0 until a snapshot gets through all of its steps: its file written and
// synced, renamed, the directory synced, older snapshots and the segments it covers removed.
// Then a power cut drops whatever was not synced, and recovery must give back every write that
// was acknowledged (its record synced) before the snapshot began: exactly, and nothing else.
// The power cut undoes every directory change no SyncDir made durable, or, in the second test,
// lets every unsynced removal stand (a file system orders directory updates only at a sync).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "storage/crash_testing.h"
#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/effects.h"
#include "storage/fault_injection_file.h"
#include "storage/recovery.h"

namespace podium::storage {
namespace {

constexpr char kDir[] = "/data";
constexpr int64_t kNowMs = 1'800'000'000'000;
constexpr uint64_t kProducts = 40;
constexpr int kStringKeys = 40;
constexpr int kSetKeys = 8;
constexpr int kWritesPerRound = 150;

// What the acknowledged writes made.
struct Model {
  std::map<uint64_t, int64_t> stock;
  std::map<std::string, std::string> strings;
  std::map<std::string, std::map<uint64_t, double>> sets;
};

// `count` random writes to `db`, each logged as the server logs it, and mirrored in `model`.
void Write(Database& db, Model& model, std::mt19937_64& random, int count) {
  for (int i = 0; i < count; ++i) {
    switch (random() % 3) {
      case 0: {
        const uint64_t product = random() % kProducts;
        const int64_t units = static_cast<int64_t>(random() % 1000);
        db.WithStockOrder(product, [&] {
          ASSERT_TRUE(db.stock().Set(product, units).ok());
          LogStockSet(db.log(), product, units);
        });
        model.stock[product] = units;
        break;
      }
      case 1: {
        const std::string key = "s" + std::to_string(random() % kStringKeys);
        const std::string value = "v" + std::to_string(random());
        db.WithKey(key, [&](Keyspace& keys) {
          ASSERT_TRUE(keys.SetString(key, value, kNowMs, std::nullopt).ok());
          LogStringPut(db.log(), key, value, std::nullopt);
        });
        model.strings[key] = value;
        break;
      }
      default: {
        const std::string key = "z" + std::to_string(random() % kSetKeys);
        const uint64_t member = random() % 500;
        const double score = static_cast<double>(random() % 10'000);
        db.WithKey(key, [&](Keyspace& keys) {
          Result<SortedSet*> found = keys.FindSortedSet(key, kNowMs);
          ASSERT_TRUE(found.ok());
          const bool created = *found == nullptr;
          Result<SortedSet*> set = keys.FindOrCreateSortedSet(key, kNowMs);
          ASSERT_TRUE(set.ok());
          ASSERT_TRUE((*set)->Set(MemberKey::FromInteger(member), score).ok());
          const std::pair<MemberKey, double> change{MemberKey::FromInteger(member), score};
          LogSortedSetPut(db.log(), key, created, {&change, 1});
        });
        model.sets[key][member] = score;
        break;
      }
    }
  }
}

void ExpectEquals(Database& db, const Model& model) {
  ASSERT_NO_FATAL_FAILURE(crash_testing::ExpectStockAndStrings(db, model.stock, model.strings,
                                                               kProducts, kStringKeys, kNowMs));
  for (int k = 0; k < kSetKeys; ++k) {
    const std::string key = "z" + std::to_string(k);
    const auto it = model.sets.find(key);
    db.WithKey(key, [&](Keyspace& keys) {
      Result<SortedSet*> set = keys.FindSortedSet(key, kNowMs);
      ASSERT_TRUE(set.ok());
      ASSERT_EQ(*set != nullptr, it != model.sets.end()) << key;
      if (*set == nullptr) return;
      std::map<uint64_t, double> members;
      (*set)->RangeByRank(
          0, (*set)->size(), Order::kAscending,
          [&](const MemberKey& member, double score) { members[member.integer()] = score; });
      EXPECT_EQ(members, it->second) << key;
    });
  }
}

using crash_testing::Open;
using crash_testing::Stop;

// Recovers the directory into `open` and opens its log; a refused recovery fails the test.
void Start(FaultInjectionEnv& env, Open* open) {
  Result<RecoveryReport> report = Recover(&env, kDir, open->db.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EffectLogOptions options;
  options.fsync = FsyncPolicy::kAlways;
  ASSERT_NO_FATAL_FAILURE(crash_testing::OpenLog(env, kDir, *report, options, open));
}

// Crashes a snapshot after k changing calls, for every k until one gets through all of them;
// `removals` chooses the unsynced removals each power cut lets stand.
void CrashAtEveryStepOfASnapshot(const FaultInjectionEnv::RemovalPolicy& removals) {
  bool completed = false;
  int crashes = 0;
  for (uint64_t steps = 0; !completed; ++steps) {
    SCOPED_TRACE("crash after " + std::to_string(steps) + " changing calls");
    ASSERT_LT(steps, 200u) << "a snapshot never got through";
    FaultInjectionEnv env;
    ASSERT_TRUE(env.CreateDir(kDir).ok());
    std::mt19937_64 random(steps + 1);
    Model model;
    Open open;
    ASSERT_NO_FATAL_FAILURE(Start(env, &open));
    // A first snapshot, so that the second has an older one and covered segments to remove.
    Write(*open.db, model, random, kWritesPerRound);
    ASSERT_TRUE(open.log->Sync().ok());
    ASSERT_TRUE(WriteSnapshot(&env, kDir, *open.db, *open.log, kNowMs).ok());
    Write(*open.db, model, random, kWritesPerRound);
    ASSERT_TRUE(open.log->Sync().ok());  // every write so far acknowledged
    // The crash counts only the snapshot's own calls: the roll of its point, on the WAL thread,
    // is done first (a WAL thread that meets a failing disk stops the process, by design).
    Result<SnapshotResult> snapshot = WriteSnapshot(&env, kDir, *open.db, *open.log, kNowMs, [&] {
      open.log->WaitForRolls();
      env.CrashAfterOperations(steps);
    });
    completed = snapshot.ok();
    crashes += !completed;
    Stop(open);
    env.SimulateCrash(nullptr, removals);

    Open recovered;
    ASSERT_NO_FATAL_FAILURE(Start(env, &recovered));
    ExpectEquals(*recovered.db, model);
    // And it goes on: a write after recovery survives the next crash too.
    Write(*recovered.db, model, random, 10);
    ASSERT_TRUE(recovered.log->Sync().ok());
    Stop(recovered);
    env.SimulateCrash(nullptr, removals);
    Open again;
    ASSERT_NO_FATAL_FAILURE(Start(env, &again));
    ExpectEquals(*again.db, model);
    Stop(again);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(crashes, 5) << "the snapshot should take several changing calls";
}

TEST(SnapshotCrashTest, EveryAcknowledgedWriteSurvivesACrashAtEveryStepOfASnapshot) {
  CrashAtEveryStepOfASnapshot(nullptr);
}

// The snapshot's rename must be durable before anything it covers is removed: a removal may
// reach the disk before an earlier rename in the same directory unless a SyncDir came between.
TEST(SnapshotCrashTest, EveryAcknowledgedWriteSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfASnapshot([](const std::string&) { return true; });
}

// The image holds changes logged after its point S, and once renamed it is the base recovery
// starts from: every record it may hold must be durable by then, whatever the fsync policy.
// Else a power cut could keep a change in the image whose record is gone (half of an order's
// record: its book entry without its stock), and no replay would complete it.
TEST(SnapshotCrashTest, ASnapshotMakesDurableEveryRecordItsImageMayHold) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  Open open;
  Result<RecoveryReport> report = Recover(&env, kDir, open.db.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EffectLogOptions options;
  options.fsync = FsyncPolicy::kNo;
  ASSERT_NO_FATAL_FAILURE(crash_testing::OpenLog(env, kDir, *report, options, &open));
  std::mt19937_64 random(1);
  Model model;
  Write(*open.db, model, random, kWritesPerRound);
  uint64_t last_in_image = 0;
  Result<SnapshotResult> snapshot = WriteSnapshot(&env, kDir, *open.db, *open.log, kNowMs, [&] {
    Write(*open.db, model, random, 10);  // after the point, before the capture: in the image
    last_in_image = open.log->last_sequence();
  });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ(last_in_image, snapshot->wal_sequence + 10);
  EXPECT_GE(open.log->durable_sequence(), last_in_image);
  Stop(open);
}

}  // namespace
}  // namespace podium::storage
