// Crashes during recovery's own repairs. A start changes the data directory before the log goes
// on: it cuts a torn tail off the last WAL segment; with --truncate_corrupt_wal it cuts the log
// at the first bad record and removes every later segment; when the log ends before the
// snapshot it removes every segment (segments that reach the snapshot stay: the previous
// generation's log); then the log goes on in a new segment. Each of those steps can be the
// last one the machine takes.
//
// The directory is first damaged through the real write path (an EffectLog with small segments,
// every write acknowledged by a sync; a WalWriter for the record a crash tears). Then, for every
// k from 0 until a start gets through all of its changing calls, a copy of it starts with the
// machine dying after k of them (FaultInjectionEnv), a power cut drops what was not durable, and
// the next start must keep exactly the acknowledged writes the repair keeps: every synced record
// for a torn tail, every record before the bad one for a cut. And the log must go on from there:
// a write after that start survives the next crash too.
//
// What every crash point must leave is the damaged directory (perhaps with some of the segments
// the cut removes already gone) or the repaired one, never a third state. So a start without
// --truncate_corrupt_wal either recovers exactly or refuses naming the original damage (file
// and offset): a segment that came back after the cut would read as misplaced, new damage. And
// a recovery that reported success has made its repair durable, whether or not the log's first
// segment followed: the next start finds the cut made and the segments it removed gone.
//
// Each power cut undoes every directory change no SyncDir made durable, or, in the tests named
// so, lets every unsynced removal stand (a file system orders directory updates only at a sync).
#include <glog/logging.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/crash_testing.h"
#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/effects.h"
#include "storage/fault_injection_file.h"
#include "storage/recovery.h"
#include "storage/wal_format.h"
#include "storage/wal_writer.h"

namespace podium::storage {
namespace {

constexpr char kDir[] = "/data";
constexpr int64_t kNowMs = 1'800'000'000'000;
constexpr uint64_t kProducts = 20;
constexpr int kStringKeys = 20;
// Small segments, so that the acknowledged writes spread over several of them.
constexpr uint64_t kSegmentBytesMax = 512;
constexpr int kAcknowledgedWrites = 60;
constexpr int kTailWrites = 3;  // synced in the last segment, before the torn record
constexpr int kWritesAfterRecovery = 10;
constexpr size_t kBadSegmentIndex = 1;    // the segment with a bad checksum: the second
constexpr size_t kLaterSegmentsMin = 2;   // segments after it, which the cut removes
constexpr uint64_t kTornZeroBytes = 8;    // zeros after a torn record's kept prefix
constexpr uint64_t kStartCallsMax = 100;  // a start that needs more never gets through
constexpr uint32_t kSeed = 20'261'122;

// One write as the server makes it: a stock counter's units or a string key's value. Each is
// logged as one record, so the i-th write of a log that starts at 1 is record i + 1.
struct Write {
  bool stock = true;
  uint64_t product = 0;
  int64_t units = 0;
  std::string key;
  std::string value;
};

Write RandomWrite(std::mt19937_64& random) {
  Write write;
  write.stock = random() % 2 == 0;
  write.product = random() % kProducts;
  write.units = static_cast<int64_t>(random() % 1000);
  write.key = "s" + std::to_string(random() % kStringKeys);
  write.value = "v" + std::to_string(random());
  return write;
}

// Applies `write` to `db` and logs it as the server does.
void Apply(Database& db, const Write& write) {
  if (write.stock) {
    db.WithStockOrder(write.product, [&] {
      ASSERT_TRUE(db.stock().Set(write.product, write.units).ok());
      LogStockSet(db.log(), write.product, write.units);
    });
    return;
  }
  db.WithKey(write.key, [&](Keyspace& keys) {
    ASSERT_TRUE(keys.SetString(write.key, write.value, kNowMs, std::nullopt).ok());
    LogStringPut(db.log(), write.key, write.value, std::nullopt);
  });
}

// The record the server logs for `write`: its type and payload.
std::pair<uint8_t, std::string> RecordOf(const Write& write) {
  std::string payload;
  if (write.stock) {
    EncodeStockSet(write.product, write.units, &payload);
    return {static_cast<uint8_t>(EffectType::kStockSet), payload};
  }
  EncodeStringPut(write.key, write.value, std::nullopt, &payload);
  return {static_cast<uint8_t>(EffectType::kStringPut), payload};
}

// What a list of writes made.
struct Model {
  std::map<uint64_t, int64_t> stock;
  std::map<std::string, std::string> strings;

  void Add(const Write& write) {
    if (write.stock) {
      stock[write.product] = write.units;
    } else {
      strings[write.key] = write.value;
    }
  }
};

Model ModelOf(const std::vector<Write>& writes, size_t count) {
  CHECK_LE(count, writes.size());
  Model model;
  for (size_t i = 0; i < count; ++i) model.Add(writes[i]);
  return model;
}

void ExpectEquals(Database& db, const Model& model) {
  ASSERT_NO_FATAL_FAILURE(crash_testing::ExpectStockAndStrings(db, model.stock, model.strings,
                                                               kProducts, kStringKeys, kNowMs));
}

EffectLogOptions LogOptions() {
  EffectLogOptions options;
  options.fsync = FsyncPolicy::kAlways;
  options.writer.segment_bytes_max = kSegmentBytesMax;
  return options;
}

using crash_testing::Open;
using crash_testing::Stop;

// Opens the log after a recovery that gave `report` and hands it to open->db.
void OpenLog(FaultInjectionEnv& env, const RecoveryReport& report, Open* open) {
  ASSERT_NO_FATAL_FAILURE(crash_testing::OpenLog(env, kDir, report, LogOptions(), open));
}

// A plain start (no --truncate_corrupt_wal); a refused one fails the test.
void Start(FaultInjectionEnv& env, Open* open) {
  Result<RecoveryReport> report = Recover(&env, kDir, open->db.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_NO_FATAL_FAILURE(OpenLog(env, *report, open));
}

// `count` random writes through `open`, acknowledged (synced) before it returns.
void WriteAcknowledged(Open& open, std::mt19937_64& random, int count, std::vector<Write>* writes) {
  for (int i = 0; i < count; ++i) {
    writes->push_back(RandomWrite(random));
    ASSERT_NO_FATAL_FAILURE(Apply(*open.db, writes->back()));
  }
  ASSERT_TRUE(open.log->Sync().ok());
}

std::vector<std::string> SegmentNames(FaultInjectionEnv& env) {
  Result<std::vector<std::string>> names = env.GetChildren(kDir);
  CHECK(names.ok()) << names.status().ToString();
  std::vector<std::string> segments;
  for (const std::string& name : *names) {
    if (ParseWalSegmentFileName(name).has_value()) segments.push_back(name);
  }
  std::sort(segments.begin(), segments.end());  // fixed width: byte order is sequence order
  return segments;
}

enum class Damage {
  kTornTail,                // the last record half written when the power went
  kBadChecksum,             // a record amid others, in a segment that is not the last
  kBadChecksumFirstRecord,  // the first record of a segment that is not the last
  kBadSegmentHeader,        // the header of a segment that is not the last
  kTornTailAfterSnapshot,   // the torn record is the first after the snapshot
  // The snapshot is durable, and the segments it covers are still there (a crash came before
  // their removals were): recovery removes them all, as nothing is left after the snapshot.
  kSegmentsCoveredBySnapshot,
};

// A damaged data directory, every byte and name on it durable, and what recovery keeps of it.
struct DamagedDirectory {
  std::unique_ptr<FaultInjectionEnv> env = std::make_unique<FaultInjectionEnv>();
  RecoveryOptions options;    // what the operator starts with
  std::vector<Write> writes;  // every acknowledged write, in log order
  size_t kept = 0;            // how many of them recovery keeps: a prefix
  WalTail::Kind cut_kind = WalTail::Kind::kClean;
  std::string cut_file;  // where recovery cuts the log
  uint64_t cut_offset = 0;
  uint64_t later_segments = 0;  // segments after cut_file, which the cut removes
  uint64_t segments_kept = 0;   // segments the repair leaves
  uint64_t changes_min = 0;     // the changes the repair must make, at the least
};

// Appends records to a new segment after the acknowledged writes (kTailWrites synced ones, for
// kTornTail), then one that a power cut tears: half of its bytes reach the disk, then zeros.
void TearTheLastRecord(Damage damage, std::mt19937_64& random, DamagedDirectory* out) {
  FaultInjectionEnv& env = *out->env;
  WalWriterOptions options;
  options.segment_bytes_max = kSegmentBytesMax;
  Result<std::unique_ptr<WalWriter>> writer =
      WalWriter::Open(&env, kDir, out->writes.size() + 1, options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const int synced = damage == Damage::kTornTail ? kTailWrites : 0;
  for (int i = 0; i < synced; ++i) {
    out->writes.push_back(RandomWrite(random));
    const auto [type, payload] = RecordOf(out->writes.back());
    ASSERT_TRUE((*writer)->Append(type, payload).ok());
  }
  ASSERT_TRUE((*writer)->Sync().ok());
  out->cut_file = (*writer)->segment_name();
  out->cut_offset = (*writer)->segment_bytes();
  const auto [type, payload] = RecordOf(RandomWrite(random));
  const uint64_t record_bytes = kWalRecordHeaderBytes + payload.size();
  ASSERT_LE(out->cut_offset + record_bytes, kSegmentBytesMax) << "the torn record must not roll";
  ASSERT_TRUE((*writer)->Append(type, payload).ok());
  ASSERT_TRUE((*writer)->Flush().ok());
  env.SimulateCrash([&](const std::string& path, uint64_t unsynced_bytes) {
    EXPECT_EQ(path, JoinPath(kDir, out->cut_file));
    FaultInjectionEnv::UnsyncedSurvival survival;
    survival.bytes_kept = record_bytes / 2;
    survival.zero_bytes = std::min(kTornZeroBytes, unsynced_bytes - survival.bytes_kept);
    return survival;
  });
  out->kept = out->writes.size();
  out->cut_kind = WalTail::Kind::kTornWrite;
}

// Flips a byte of segment kBadSegmentIndex under a checksum: of its header, or of the payload of
// its first record or of its second (which has records on both sides).
void BreakAChecksum(Damage damage, DamagedDirectory* out) {
  FaultInjectionEnv& env = *out->env;
  const std::vector<std::string> segments = SegmentNames(env);
  ASSERT_GE(segments.size(), kBadSegmentIndex + 1 + kLaterSegmentsMin);
  out->cut_file = segments[kBadSegmentIndex];
  out->later_segments = segments.size() - kBadSegmentIndex - 1;
  out->cut_kind = WalTail::Kind::kCorruptionDropped;
  out->options.truncate_corrupt_wal = true;
  std::string& contents = env.MutableContents(JoinPath(kDir, out->cut_file));
  if (damage == Damage::kBadSegmentHeader) {
    contents[kWalSegmentHeaderBytes - 1] ^= 0x01;  // the header's checksum
    out->cut_offset = 0;
    out->kept = *ParseWalSegmentFileName(out->cut_file) - 1;
    out->segments_kept = kBadSegmentIndex;  // a cut inside the header removes the segment
    return;
  }
  out->segments_kept = kBadSegmentIndex + 1;  // the cut is past its header
  std::vector<uint64_t> offsets;  // of its records (a closed segment is exactly its records)
  for (uint64_t offset = kWalSegmentHeaderBytes; offset < contents.size();) {
    offsets.push_back(offset);
    const WalRecordHeader header = DecodeWalRecordHeader(std::string_view(contents).substr(offset));
    offset += kWalRecordHeaderBytes + header.payload_bytes;
  }
  ASSERT_GE(offsets.size(), 3u) << "the second record needs one after it";
  out->cut_offset = damage == Damage::kBadChecksumFirstRecord ? offsets[0] : offsets[1];
  const WalRecordHeader bad =
      DecodeWalRecordHeader(std::string_view(contents).substr(out->cut_offset));
  ASSERT_GT(bad.payload_bytes, 0u);
  contents[out->cut_offset + kWalRecordHeaderBytes] ^= 0x01;
  out->kept = bad.sequence - 1;
}

// Writes a file and its name durably.
void WriteDurably(FaultInjectionEnv& env, const std::string& path, const std::string& contents) {
  Result<std::unique_ptr<WritableFile>> file = env.NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(contents).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(env.SyncDir(kDir).ok());
}

// Builds the damaged directory: acknowledged writes over several segments (and a snapshot of
// them for the damages after a snapshot), the log closed, then the damage.
void Damaged(Damage damage, DamagedDirectory* out) {
  FaultInjectionEnv& env = *out->env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  std::mt19937_64 random(kSeed);
  Open open;
  ASSERT_NO_FATAL_FAILURE(Start(env, &open));
  ASSERT_NO_FATAL_FAILURE(WriteAcknowledged(open, random, kAcknowledgedWrites, &out->writes));
  std::map<std::string, std::string> covered;  // the segments the snapshot removes
  if (damage == Damage::kTornTailAfterSnapshot || damage == Damage::kSegmentsCoveredBySnapshot) {
    Result<SnapshotResult> snapshot = WriteSnapshot(&env, kDir, *open.db, *open.log, kNowMs, [&] {
      open.log->WaitForRolls();  // every segment but the new last one is closed
      for (const std::string& name : SegmentNames(env)) {
        if (name == WalSegmentFileName(out->writes.size() + 1)) continue;
        covered[name] = env.MutableContents(JoinPath(kDir, name));
      }
    });
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    ASSERT_EQ(snapshot->wal_sequence, out->writes.size());
  }
  Stop(open);
  switch (damage) {
    case Damage::kTornTail:
      ASSERT_NO_FATAL_FAILURE(TearTheLastRecord(damage, random, out));
      out->segments_kept = SegmentNames(env).size();
      out->changes_min = 1;  // the cut
      break;
    case Damage::kTornTailAfterSnapshot:
      ASSERT_NO_FATAL_FAILURE(TearTheLastRecord(damage, random, out));
      // The segments before the snapshot stay: they are its previous generation's log (here,
      // the log from the first record), the stand-in for a damaged snapshot.
      out->segments_kept = SegmentNames(env).size();
      out->changes_min = 1;  // the cut, which leaves the last segment its header
      break;
    case Damage::kSegmentsCoveredBySnapshot:
      ASSERT_GE(covered.size(), kLaterSegmentsMin);
      for (const auto& [name, contents] : covered) {
        ASSERT_NO_FATAL_FAILURE(WriteDurably(env, JoinPath(kDir, name), contents));
      }
      out->kept = out->writes.size();
      // Kept, not removed: the previous generation's log (storage/recovery.h); the start
      // changes no segment, and only the log's new segment follows.
      out->segments_kept = covered.size() + 1;
      out->changes_min = 0;
      break;
    case Damage::kBadChecksum:
    case Damage::kBadChecksumFirstRecord:
    case Damage::kBadSegmentHeader:
      ASSERT_NO_FATAL_FAILURE(BreakAChecksum(damage, out));
      out->changes_min = out->later_segments + 1;  // the removals and the cut
      break;
  }
}

// A fresh machine whose disk holds `from`'s directory, every byte and name durable.
void CopyDirectory(FaultInjectionEnv& from, FaultInjectionEnv& to) {
  ASSERT_TRUE(to.CreateDir(kDir).ok());
  Result<std::vector<std::string>> names = from.GetChildren(kDir);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  for (const std::string& name : *names) {
    const std::string path = JoinPath(kDir, name);
    ASSERT_NO_FATAL_FAILURE(WriteDurably(to, path, from.MutableContents(path)));
  }
}

// How far a start under test got before the machine died.
enum class Reached {
  kNothing,    // recovery failed
  kRecovered,  // recovery reported success: its repair must be durable
  kLogOpen,    // the log's first segment too: the start got through
};

// The start under test, with the machine dying after `calls` changing calls: recovery, then the
// log's first segment. An error must be the crash's IoError.
Reached CrashingStart(FaultInjectionEnv& env, const DamagedDirectory& damaged, uint64_t calls,
                      Open* open) {
  env.CrashAfterOperations(calls);
  Result<RecoveryReport> report = Recover(&env, kDir, open->db.get(), damaged.options);
  if (!report.ok()) {
    EXPECT_EQ(report.status().code(), StatusCode::kIoError) << report.status().ToString();
    return Reached::kNothing;
  }
  // It cut where the damage is, and memory holds what the cut keeps.
  EXPECT_EQ(report->tail.kind, damaged.cut_kind) << report->tail.reason;
  EXPECT_EQ(report->tail.file, damaged.cut_file);
  EXPECT_EQ(report->tail.offset, damaged.cut_offset);
  EXPECT_EQ(report->tail.segments_dropped, damaged.later_segments);
  EXPECT_EQ(report->next_sequence, damaged.kept + 1);
  ExpectEquals(*open->db, ModelOf(damaged.writes, damaged.kept));
  Result<std::unique_ptr<EffectLog>> log =
      EffectLog::Open(&env, kDir, report->next_sequence, LogOptions());
  if (!log.ok()) {
    EXPECT_EQ(log.status().code(), StatusCode::kIoError) << log.status().ToString();
    return Reached::kRecovered;
  }
  open->log = std::move(log).value();
  open->db->set_log(open->log.get());
  return Reached::kLogOpen;
}

// The start after the power cut that followed a start under test. A plain start recovers, or
// refuses naming the original damage (the operator then starts with the option again), never
// anything else; once a recovery reported success, it recovers and finds its repair done (the
// cut made, the segments it removes gone); once a start got through, it finds nothing to cut.
void Restart(FaultInjectionEnv& env, const DamagedDirectory& damaged, Reached reached, Open* open) {
  Result<RecoveryReport> report = Recover(&env, kDir, open->db.get());
  if (!report.ok()) {
    ASSERT_EQ(reached, Reached::kNothing)
        << "a recovery that reported success left the damage: " << report.status().ToString();
    ASSERT_TRUE(damaged.options.truncate_corrupt_wal) << report.status().ToString();
    ASSERT_EQ(report.status().code(), StatusCode::kCorruption) << report.status().ToString();
    const std::string original =
        JoinPath(kDir, damaged.cut_file) + " at offset " + std::to_string(damaged.cut_offset) + ":";
    ASSERT_NE(report.status().message().find(original), std::string::npos)
        << "the refusal should name the original damage (" << original
        << "), not new damage: " << report.status().ToString();
    open->db = std::make_unique<Database>();
    report = Recover(&env, kDir, open->db.get(), damaged.options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  } else if (reached != Reached::kNothing) {
    const WalTail& tail = report->tail;
    if (damaged.cut_kind != WalTail::Kind::kClean) {
      EXPECT_FALSE(tail.kind == damaged.cut_kind && tail.file == damaged.cut_file &&
                   tail.offset == damaged.cut_offset)
          << "a recovery that reported success did not make its cut durable: " << tail.reason;
    }
    // The log's first segment may have followed, under a new name.
    EXPECT_GE(report->wal_segments, damaged.segments_kept);
    EXPECT_LE(report->wal_segments, damaged.segments_kept + 1)
        << "a recovery that reported success did not make its removals durable";
    if (reached == Reached::kLogOpen) {
      EXPECT_EQ(tail.kind, WalTail::Kind::kClean) << "a start got through, leaving " << tail.reason;
    }
  }
  ASSERT_NO_FATAL_FAILURE(OpenLog(env, *report, open));
}

// Crashes the start on `damage` after k changing calls, for every k until one gets through;
// `removals` chooses the unsynced removals each power cut lets stand.
void CrashAtEveryStepOfTheRepair(Damage damage, const FaultInjectionEnv::RemovalPolicy& removals) {
  DamagedDirectory damaged;
  ASSERT_NO_FATAL_FAILURE(Damaged(damage, &damaged));
  bool completed = false;
  uint64_t crashes = 0;
  for (uint64_t calls = 0; !completed; ++calls) {
    SCOPED_TRACE("crash after " + std::to_string(calls) + " changing calls");
    ASSERT_LT(calls, kStartCallsMax) << "a start never got through";
    FaultInjectionEnv env;
    ASSERT_NO_FATAL_FAILURE(CopyDirectory(*damaged.env, env));
    Open crashed;
    const Reached reached = CrashingStart(env, damaged, calls, &crashed);
    completed = reached == Reached::kLogOpen;
    crashes += !completed;
    Stop(crashed);
    env.SimulateCrash(nullptr, removals);

    Model model = ModelOf(damaged.writes, damaged.kept);
    Open recovered;
    ASSERT_NO_FATAL_FAILURE(Restart(env, damaged, reached, &recovered));
    ExpectEquals(*recovered.db, model);
    // And the log goes on from the cut: writes after it survive the next crash too.
    std::mt19937_64 random(kSeed + calls);
    std::vector<Write> more;
    ASSERT_NO_FATAL_FAILURE(WriteAcknowledged(recovered, random, kWritesAfterRecovery, &more));
    for (const Write& write : more) model.Add(write);
    Stop(recovered);
    env.SimulateCrash(nullptr, removals);
    Open again;
    ASSERT_NO_FATAL_FAILURE(Start(env, &again));
    ExpectEquals(*again.db, model);
    Stop(again);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GE(crashes, damaged.changes_min) << "a crash point per change the repair makes, at least";
}

bool EveryRemovalStands(const std::string&) { return true; }

TEST(RecoveryCrashTest, TornTailCutSurvivesACrashAtEveryStep) {
  CrashAtEveryStepOfTheRepair(Damage::kTornTail, nullptr);
}

TEST(RecoveryCrashTest, TornTailCutSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfTheRepair(Damage::kTornTail, EveryRemovalStands);
}

// The removals of the later segments must be durable before the cut: once the cut is, a later
// segment back from the dead would start past it and read as misplaced.
TEST(RecoveryCrashTest, TruncateAtCorruptionSurvivesACrashAtEveryStep) {
  CrashAtEveryStepOfTheRepair(Damage::kBadChecksum, nullptr);
}

// Some of the later segments gone, the others still there: the reader stops at the damage first.
TEST(RecoveryCrashTest, TruncateAtCorruptionSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfTheRepair(Damage::kBadChecksum, EveryRemovalStands);
}

// The cut leaves the segment its header only, and the log goes on under the same name.
TEST(RecoveryCrashTest, TruncateAtASegmentsFirstRecordSurvivesACrashAtEveryStep) {
  CrashAtEveryStepOfTheRepair(Damage::kBadChecksumFirstRecord, nullptr);
}

TEST(RecoveryCrashTest, TruncateAtASegmentsFirstRecordSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfTheRepair(Damage::kBadChecksumFirstRecord, EveryRemovalStands);
}

// The cut is inside a segment's header: the segment goes, and the log goes on under its name.
TEST(RecoveryCrashTest, TruncateAtABadSegmentHeaderSurvivesACrashAtEveryStep) {
  CrashAtEveryStepOfTheRepair(Damage::kBadSegmentHeader, nullptr);
}

TEST(RecoveryCrashTest, TruncateAtABadSegmentHeaderSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfTheRepair(Damage::kBadSegmentHeader, EveryRemovalStands);
}

// No record is left after the snapshot: recovery removes the segment too, and the log starts
// afresh at the snapshot's sequence + 1.
TEST(RecoveryCrashTest, TornTailAfterASnapshotSurvivesACrashAtEveryStep) {
  CrashAtEveryStepOfTheRepair(Damage::kTornTailAfterSnapshot, nullptr);
}

TEST(RecoveryCrashTest, TornTailAfterASnapshotSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfTheRepair(Damage::kTornTailAfterSnapshot, EveryRemovalStands);
}

// A crash kept the segments a durable snapshot covers: recovery removes every one of them.
TEST(RecoveryCrashTest, RemovingSegmentsCoveredBySnapshotSurvivesACrashAtEveryStep) {
  CrashAtEveryStepOfTheRepair(Damage::kSegmentsCoveredBySnapshot, nullptr);
}

TEST(RecoveryCrashTest, RemovingSegmentsCoveredBySnapshotSurvivesUnsyncedRemovalsReachingTheDisk) {
  CrashAtEveryStepOfTheRepair(Damage::kSegmentsCoveredBySnapshot, EveryRemovalStands);
}

}  // namespace
}  // namespace podium::storage
