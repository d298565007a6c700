// CaptureDatabase while writes go on, with the writes placed deterministically between its
// passes: an Env whose snapshot file runs a hook when the sorted-sets section starts, that is
// after the strings pass has copied every string and before the sorted-sets pass copies any set.
// The hook changes keys the way a client would (each change logged as the server logs it), and
// the snapshot is then loaded by a real start (Recover) and checked against what was written.
#include "storage/snapshot_capture.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/crash_testing.h"
#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/effects.h"
#include "storage/fault_injection_file.h"
#include "storage/recovery.h"
#include "storage/snapshot_format.h"

namespace podium::storage {
namespace {

constexpr char kDir[] = "/data";
constexpr int64_t kNowMs = 1'800'000'000'000;

// Appends go to `file`; the one-byte append that opens the sorted-sets section (the writer's
// StartSection) first runs `hook`.
class HookedFile final : public WritableFile {
 public:
  HookedFile(std::unique_ptr<WritableFile> file, std::function<void()>* hook)
      : file_(std::move(file)), hook_(hook) {}
  Status Append(std::string_view data) override {
    if (data.size() == 1 &&
        static_cast<uint8_t>(data[0]) ==
            static_cast<uint8_t>(snapshot_format::SectionType::kSortedSets) &&
        *hook_) {
      std::exchange(*hook_, nullptr)();  // once
    }
    return file_->Append(data);
  }
  Status Flush() override { return file_->Flush(); }
  Status Sync() override { return file_->Sync(); }
  Status Reserve(uint64_t bytes) override { return file_->Reserve(bytes); }
  Status Close() override { return file_->Close(); }
  uint64_t size() const override { return file_->size(); }

 private:
  std::unique_ptr<WritableFile> file_;
  std::function<void()>* const hook_;
};

// `base` with every new writable file a HookedFile; for the snapshot writer only.
class HookedEnv final : public EnvWrapper {
 public:
  HookedEnv(Env* base, std::function<void()> hook) : EnvWrapper(base), hook_(std::move(hook)) {}
  bool hook_ran() const { return !hook_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    Result<std::unique_ptr<WritableFile>> file = EnvWrapper::NewWritableFile(path);
    if (!file.ok()) return file.status();
    return std::unique_ptr<WritableFile>(new HookedFile(std::move(file).value(), &hook_));
  }

 private:
  std::function<void()> hook_;
};

void Start(FaultInjectionEnv& env, crash_testing::Open* open, RecoveryReport* report) {
  Result<RecoveryReport> recovered = Recover(&env, kDir, open->db.get());
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  *report = *recovered;
  ASSERT_NO_FATAL_FAILURE(crash_testing::OpenLog(env, kDir, *report, EffectLogOptions(), open));
}

// The server's SET with a TTL, DEL and ZADD of one member, each logged as the server logs it.
void Set(Database& db, const std::string& key, std::optional<int64_t> ttl_ms) {
  db.WithKey(key, [&](Keyspace& keys) {
    ASSERT_TRUE(keys.SetString(key, "value", kNowMs, ttl_ms).ok());
    LogStringPut(db.log(), key, "value", keys.Deadline(key, kNowMs));
  });
}
void Del(Database& db, const std::string& key, int64_t now_ms) {
  db.WithKey(key, [&](Keyspace& keys) {
    if (keys.Delete(key, now_ms)) LogKeyDelete(db.log(), key);
  });
}
void Zadd(Database& db, const std::string& key, uint64_t member, double score, int64_t now_ms) {
  db.WithKey(key, [&](Keyspace& keys) {
    Result<SortedSet*> found = keys.FindSortedSet(key, now_ms);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    const bool created = *found == nullptr;
    Result<SortedSet*> set = keys.FindOrCreateSortedSet(key, now_ms);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    ASSERT_TRUE((*set)->Set(MemberKey::FromInteger(member), score).ok());
    const std::pair<MemberKey, double> change{MemberKey::FromInteger(member), score};
    LogSortedSetPut(db.log(), key, created, {&change, 1});
  });
}

// Keys that are strings when the strings pass runs and sorted sets when the sorted-sets pass
// runs land in both sections of one snapshot; the next start loads it (keeping the sets) and
// replays what came after.
TEST(SnapshotCaptureTest, AKeyThatBecomesASortedSetBetweenThePassesLoadsAsTheSet) {
  FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  crash_testing::Open open;
  RecoveryReport report;
  ASSERT_NO_FATAL_FAILURE(Start(env, &open, &report));
  Database& db = *open.db;
  Set(db, "deleted", std::nullopt);
  Set(db, "expired", /*ttl_ms=*/10);  // copied by the strings pass although expired
  const int64_t later_ms = kNowMs + 1000;
  HookedEnv hooked(&env, [&] {
    Del(db, "deleted", later_ms);
    Zadd(db, "deleted", 1, 1.0, later_ms);
    Zadd(db, "expired", 2, 2.0, later_ms);  // lazy expiry drops the string first
  });
  Result<SnapshotResult> snapshot = WriteSnapshot(&hooked, kDir, db, *open.log, kNowMs);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  ASSERT_TRUE(hooked.hook_ran()) << "the writer no longer opens the sorted-sets section alone";
  Zadd(db, "deleted", 3, 3.0, later_ms);  // after the snapshot
  ASSERT_TRUE(open.log->Sync().ok());
  crash_testing::Stop(open);

  crash_testing::Open restarted;
  ASSERT_NO_FATAL_FAILURE(Start(env, &restarted, &report));
  // The race happened: both keys are in both sections.
  EXPECT_EQ(report.snapshot.strings, 2u);
  EXPECT_EQ(report.snapshot.sorted_sets, 2u);
  restarted.db->WithKey("deleted", [&](Keyspace& keys) {
    Result<SortedSet*> set = keys.FindSortedSet("deleted", later_ms);
    ASSERT_TRUE(set.ok() && *set != nullptr);
    EXPECT_EQ((*set)->size(), 2u);
    EXPECT_EQ((*set)->Score(MemberKey::FromInteger(1)), 1.0);
    EXPECT_EQ((*set)->Score(MemberKey::FromInteger(3)), 3.0);
  });
  restarted.db->WithKey("expired", [&](Keyspace& keys) {
    Result<SortedSet*> set = keys.FindSortedSet("expired", later_ms);
    ASSERT_TRUE(set.ok() && *set != nullptr);
    EXPECT_EQ((*set)->size(), 1u);
    EXPECT_EQ((*set)->Score(MemberKey::FromInteger(2)), 2.0);
    EXPECT_EQ(keys.TtlMs("expired", later_ms), -1);
  });
  crash_testing::Stop(restarted);
}

}  // namespace
}  // namespace podium::storage
