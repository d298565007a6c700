// Recover on logs damaged in the ways only recovery (not the WAL reader) can see: a log that
// does not continue the snapshot, and a record whose checksum is good but whose effect does not
// decode. Both stop the start naming the file and the offset and change nothing; an operator's
// --truncate_corrupt_wal cuts an undecodable record like a bad checksum. What a cut drops is
// counted in records and their bytes, never in the zeros of a writer's reserve. And a snapshot
// that holds a key in both its strings and its sorted-sets section (a live capture makes one)
// starts from the sorted set and replays the log over it.
#include "storage/recovery.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storage/effects.h"
#include "storage/fault_injection_file.h"
#include "storage/snapshot_format.h"
#include "storage/snapshot_writer.h"
#include "storage/wal_format.h"
#include "storage/wal_testing.h"
#include "storage/wal_writer.h"

namespace podium::storage {
namespace {

using testing::ReadLog;

constexpr char kDir[] = "/data";
constexpr uint8_t kStockSet = static_cast<uint8_t>(EffectType::kStockSet);
constexpr uint8_t kStringPut = static_cast<uint8_t>(EffectType::kStringPut);
constexpr uint8_t kSortedSetPut = static_cast<uint8_t>(EffectType::kSortedSetPut);
constexpr uint8_t kKeyDelete = static_cast<uint8_t>(EffectType::kKeyDelete);
constexpr uint64_t kReserveBytes = 1 << 20;  // what a killed writer leaves after its records

std::string StockPayload(uint64_t product) {
  std::string payload;
  EncodeStockSet(product, static_cast<int64_t>(product * 10), &payload);
  return payload;
}

// A string put whose key is empty: framed and checksummed like any record, refused by replay.
std::string UndecodablePayload() {
  std::string payload;
  EncodeStringPut("k", "value", std::nullopt, &payload);
  payload[0] = '\0';  // the key's length: 0 is out of 1..1024
  return payload;
}

std::string PathOf(const std::string& file) { return JoinPath(kDir, file); }

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDir(kDir).ok()); }

  // Appends records (type, payload) to a new segment at `first_sequence` and closes it.
  void Write(uint64_t first_sequence, const std::vector<std::pair<uint8_t, std::string>>& records) {
    Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(&env_, kDir, first_sequence);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (const auto& [type, payload] : records) {
      ASSERT_TRUE((*writer)->Append(type, payload).ok());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }

  // Stock sets of products first..last, one record each.
  static std::vector<std::pair<uint8_t, std::string>> StockRecords(uint64_t first, uint64_t last) {
    std::vector<std::pair<uint8_t, std::string>> records;
    for (uint64_t product = first; product <= last; ++product) {
      records.emplace_back(kStockSet, StockPayload(product));
    }
    return records;
  }

  // Recover with --truncate_corrupt_wal.
  Result<RecoveryReport> RecoverTruncating(Database* db) {
    RecoveryOptions options;
    options.truncate_corrupt_wal = true;
    return Recover(&env_, kDir, db, options);
  }

  // The log's files and their bytes, to show that a refused start changed nothing.
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> files;
    const Result<std::vector<std::string>> names = env_.GetChildren(kDir);
    CHECK(names.ok());
    for (const std::string& name : *names) {
      files[name] = env_.MutableContents(PathOf(name));
    }
    return files;
  }

  FaultInjectionEnv env_;
};

uint64_t RecordBytes(const std::string& payload) { return kWalRecordHeaderBytes + payload.size(); }

std::string KeyDeletePayload(std::string_view key) {
  std::string payload;
  EncodeKeyDelete(key, &payload);
  return payload;
}

std::string SortedSetPutPayload(std::string_view key, bool replace, std::string_view member,
                                double score) {
  std::string payload;
  EncodeSortedSetPutHeader(key, replace ? kSortedSetPutReplace : 0, &payload);
  AppendPutMember(MemberKey::FromBytes(member), score, &payload);
  return payload;
}

std::string StringPutPayload(std::string_view key, std::string_view value) {
  std::string payload;
  EncodeStringPut(key, value, std::nullopt, &payload);
  return payload;
}

// Each key was a string when the capture's strings pass copied it and a sorted set {m: 1} when
// its sorted-sets pass did (DEL, then ZADD in between); the log after the snapshot's point
// holds those changes and what came after. The start loads the set and replays them all.
TEST_F(RecoveryTest, AKeyInBothSnapshotSectionsStartsFromTheSortedSet) {
  constexpr uint64_t kSnapshotSequence = 5;
  constexpr int64_t kCreatedMs = 1'800'000'000'000;
  SortedSet copied;
  ASSERT_TRUE(copied.Set(MemberKey::FromBytes("m"), 1).ok());
  SnapshotWriter writer(&env_);
  ASSERT_TRUE(writer.Begin(kDir, kSnapshotSequence, kCreatedMs).ok());
  ASSERT_TRUE(writer.BeginStrings().ok());
  for (const char* key : {"grown", "gone", "string again"}) {
    ASSERT_TRUE(writer.AddString(key, "old", std::nullopt).ok());
  }
  ASSERT_TRUE(writer.BeginSortedSets().ok());
  for (const char* key : {"grown", "gone", "string again"}) {
    ASSERT_TRUE(writer.AddSortedSet(key, std::nullopt, copied).ok());
  }
  ASSERT_TRUE(writer.BeginBook().ok());
  ASSERT_TRUE(writer.BeginRankings().ok());
  ASSERT_TRUE(writer.Finish().ok());
  std::vector<std::pair<uint8_t, std::string>> records;
  for (const char* key : {"grown", "gone", "string again"}) {
    records.emplace_back(kKeyDelete, KeyDeletePayload(key));
    records.emplace_back(kSortedSetPut, SortedSetPutPayload(key, /*replace=*/true, "m", 1));
  }
  // After the sorted-sets pass: a ZADD, a DEL, a SET.
  records.emplace_back(kSortedSetPut, SortedSetPutPayload("grown", /*replace=*/false, "n", 3));
  records.emplace_back(kKeyDelete, KeyDeletePayload("gone"));
  records.emplace_back(kStringPut, StringPutPayload("string again", "new"));
  Write(kSnapshotSequence + 1, records);

  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->snapshot.strings, 3u);
  EXPECT_EQ(report->snapshot.sorted_sets, 3u);
  EXPECT_EQ(report->records_replayed, records.size());
  db.WithKey("grown", [&](Keyspace& keys) {
    Result<SortedSet*> set = keys.FindSortedSet("grown", kCreatedMs);
    ASSERT_TRUE(set.ok() && *set != nullptr) << set.status().ToString();
    EXPECT_EQ((*set)->size(), 2u);
    EXPECT_EQ((*set)->Score(MemberKey::FromBytes("m")), 1.0);
    EXPECT_EQ((*set)->Score(MemberKey::FromBytes("n")), 3.0);
  });
  db.WithKey("gone", [&](Keyspace& keys) { EXPECT_FALSE(keys.Exists("gone", kCreatedMs)); });
  db.WithKey("string again", [&](Keyspace& keys) {
    EXPECT_EQ(keys.Type("string again", kCreatedMs), KeyType::kString);
    EXPECT_EQ(keys.strings().Get("string again", kCreatedMs), "new");
  });
}

// A set with a deadline was changed after the snapshot's point (its record has no replace
// flag: the set existed), then expired and was removed, unlogged, before the capture reached
// it. Replaying the change must not bring the key back, with no deadline and part of its
// members. A set created after the point (replace) is replayed as ever.
TEST_F(RecoveryTest, ASortedSetThatExpiredBeforeTheCaptureStaysGone) {
  constexpr uint64_t kSnapshotSequence = 5;
  constexpr int64_t kCreatedMs = 1'800'000'000'000;
  SnapshotWriter writer(&env_);
  ASSERT_TRUE(writer.Begin(kDir, kSnapshotSequence, kCreatedMs).ok());
  ASSERT_TRUE(writer.BeginStrings().ok());
  ASSERT_TRUE(writer.BeginSortedSets().ok());
  ASSERT_TRUE(writer.BeginBook().ok());
  ASSERT_TRUE(writer.BeginRankings().ok());
  ASSERT_TRUE(writer.Finish().ok());
  const std::vector<std::pair<uint8_t, std::string>> records = {
      {kSortedSetPut, SortedSetPutPayload("expired", /*replace=*/false, "a", 5)},
      {kSortedSetPut, SortedSetPutPayload("created", /*replace=*/true, "a", 1)},
      {kSortedSetPut, SortedSetPutPayload("created", /*replace=*/false, "b", 2)},
  };
  Write(kSnapshotSequence + 1, records);

  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records_replayed, records.size());
  db.WithKey("expired",
             [&](Keyspace& keys) { EXPECT_EQ(keys.Type("expired", kCreatedMs), KeyType::kNone); });
  db.WithKey("created", [&](Keyspace& keys) {
    Result<SortedSet*> set = keys.FindSortedSet("created", kCreatedMs);
    ASSERT_TRUE(set.ok() && *set != nullptr) << set.status().ToString();
    EXPECT_EQ((*set)->size(), 2u);
  });
}

// Another log's first segment copied into a directory whose snapshot ends at 3: its records
// run past 4, where the real log starts. Reading starts in the real log's segment, so the
// start neither replays the other log nor refuses the real one (a repair would cut it all).
TEST_F(RecoveryTest, ASegmentBeforeTheSnapshotsLogIsNotRead) {
  constexpr uint64_t kSnapshotSequence = 3;
  SnapshotWriter writer(&env_);
  ASSERT_TRUE(writer.Begin(kDir, kSnapshotSequence, 0).ok());
  ASSERT_TRUE(writer.BeginStrings().ok());
  ASSERT_TRUE(writer.BeginSortedSets().ok());
  ASSERT_TRUE(writer.BeginBook().ok());
  ASSERT_TRUE(writer.BeginRankings().ok());
  ASSERT_TRUE(writer.Finish().ok());
  Write(1, StockRecords(1001, 1030));  // the other log: records 1..30
  Write(kSnapshotSequence + 1, StockRecords(1, 10));
  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records_replayed, 10u);
  EXPECT_EQ(report->next_sequence, kSnapshotSequence + 11);
  ASSERT_TRUE(db.stock().Get(10).ok());
  EXPECT_EQ(*db.stock().Get(10), 100);
  EXPECT_FALSE(db.stock().Get(1030).ok());
}

// An empty snapshot of `sequence`.
void WriteEmptySnapshot(FaultInjectionEnv& env, uint64_t sequence) {
  SnapshotWriter writer(&env);
  ASSERT_TRUE(writer.Begin(kDir, sequence, 0).ok());
  ASSERT_TRUE(writer.BeginStrings().ok());
  ASSERT_TRUE(writer.BeginSortedSets().ok());
  ASSERT_TRUE(writer.BeginBook().ok());
  ASSERT_TRUE(writer.BeginRankings().ok());
  ASSERT_TRUE(writer.Finish().ok());
}

// The newest snapshot (10) is damaged, and the log after the previous one (5) ends at 7: it
// cannot stand in for the damaged one, whose records 8..10 were durable. The start stops.
TEST_F(RecoveryTest, APreviousGenerationWhoseLogStopsShortDoesNotStandIn) {
  ASSERT_NO_FATAL_FAILURE(WriteEmptySnapshot(env_, 5));
  ASSERT_NO_FATAL_FAILURE(WriteEmptySnapshot(env_, 10));
  env_.MutableContents(PathOf(snapshot_format::FileName(10)))[40] ^= 1;
  Write(6, StockRecords(1, 2));  // records 6 and 7
  const std::map<std::string, std::string> before = Files();
  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("the log ends at record 7, before record 10"),
            std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(Files(), before) << "a refused start changes nothing";
  // With the log reaching 10, the previous generation stands in, and the damaged file goes
  // aside.
  Write(8, StockRecords(3, 5));  // records 8..10
  Database recovered;
  report = Recover(&env_, kDir, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->snapshot.wal_sequence, 5u);
  ASSERT_EQ(report->damaged_snapshots.size(), 1u);
  EXPECT_TRUE(Files().contains(snapshot_format::FileName(10) + kDamagedSuffix));
}

// The only snapshot is at 3 and the segment after it was being created when the machine died
// (its header cut short). The start cuts that file, and keeps the log before the snapshot: the
// previous generation's log (here from the first record), which stands in for the snapshot.
TEST_F(RecoveryTest, ATornHeaderAfterTheSnapshotKeepsThePreviousGenerationsLog) {
  ASSERT_NO_FATAL_FAILURE(WriteEmptySnapshot(env_, 3));
  Write(1, StockRecords(1, 3));
  {
    Result<std::unique_ptr<WritableFile>> torn =
        env_.NewWritableFile(PathOf(WalSegmentFileName(4)));
    ASSERT_TRUE(torn.ok());
    ASSERT_TRUE((*torn)->Append("PDWL").ok());  // a header cut short
    ASSERT_TRUE((*torn)->Sync().ok());
  }
  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->next_sequence, 4u);
  EXPECT_TRUE(Files().contains(WalSegmentFileName(1)));
}

// ZADD z 1 "": the empty member is a member, as in Redis, and its record replays.
TEST_F(RecoveryTest, TheEmptyMemberIsReplayed) {
  Write(1, {{kSortedSetPut, SortedSetPutPayload("z", /*replace=*/true, "", 1.5)}});
  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  db.WithKey("z", [&](Keyspace& keys) {
    Result<SortedSet*> set = keys.FindSortedSet("z", 0);
    ASSERT_TRUE(set.ok() && *set != nullptr) << set.status().ToString();
    EXPECT_EQ((*set)->Score(MemberKey::FromBytes("")), 1.5);
  });
}

TEST_F(RecoveryTest, ALogStartingPastTheFirstRecordWithoutASnapshotIsRefused) {
  Write(101, StockRecords(101, 150));
  const auto before = Files();
  for (const bool truncate : {false, true}) {
    Database db;
    RecoveryOptions options;
    options.truncate_corrupt_wal = truncate;
    Result<RecoveryReport> report = Recover(&env_, kDir, &db, options);
    ASSERT_FALSE(report.ok()) << "truncate " << truncate;
    EXPECT_EQ(report.status().code(), StatusCode::kCorruption);
    EXPECT_NE(report.status().message().find("records in between are missing"), std::string::npos)
        << report.status().message();
    EXPECT_EQ(Files(), before) << "a refused start changes nothing";
  }
}

TEST_F(RecoveryTest, AnEmptySegmentPastTheFirstRecordWithoutASnapshotIsRefused) {
  Write(101, {});
  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_FALSE(report.ok()) << "next sequence " << report->next_sequence;
  EXPECT_NE(report.status().message().find("records in between are missing"), std::string::npos)
      << report.status().message();
}

TEST_F(RecoveryTest, UndecodableRecordStopsTheStartNamingFileAndOffset) {
  auto records = StockRecords(1, 150);
  records.emplace_back(kStringPut, UndecodablePayload());
  for (const auto& record : StockRecords(152, 175)) records.push_back(record);
  Write(1, records);
  uint64_t offset = kWalSegmentHeaderBytes;
  for (size_t i = 0; i < 150; ++i) offset += RecordBytes(records[i].second);
  const auto before = Files();

  Database db;
  Result<RecoveryReport> report = Recover(&env_, kDir, &db);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kCorruption);
  const std::string& message = report.status().message();
  EXPECT_NE(message.find(PathOf(WalSegmentFileName(1))), std::string::npos) << message;
  EXPECT_NE(message.find("offset " + std::to_string(offset)), std::string::npos) << message;
  EXPECT_NE(message.find("record 151"), std::string::npos) << message;
  EXPECT_NE(message.find("bad string"), std::string::npos) << message;
  EXPECT_EQ(Files(), before) << "a refused start changes nothing";
}

TEST_F(RecoveryTest, TruncateCorruptWalCutsAtAnUndecodableRecord) {
  auto records = StockRecords(1, 150);
  records.emplace_back(kStringPut, UndecodablePayload());
  for (const auto& record : StockRecords(152, 175)) records.push_back(record);
  Write(1, records);
  const std::string name = WalSegmentFileName(1);
  env_.MutableContents(PathOf(name)).append(kReserveBytes, '\0');  // a killed writer's reserve
  uint64_t offset = kWalSegmentHeaderBytes;
  for (size_t i = 0; i < 150; ++i) offset += RecordBytes(records[i].second);
  uint64_t dropped_bytes = 0;
  for (size_t i = 150; i < records.size(); ++i) dropped_bytes += RecordBytes(records[i].second);

  Database db;
  Result<RecoveryReport> report = RecoverTruncating(&db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records_replayed, 150u);
  EXPECT_EQ(report->next_sequence, 151u);
  EXPECT_EQ(report->tail.kind, WalTail::Kind::kCorruptionDropped);
  EXPECT_EQ(report->tail.file, name);
  EXPECT_EQ(report->tail.offset, offset);
  EXPECT_NE(report->tail.reason.find("bad string"), std::string::npos) << report->tail.reason;
  EXPECT_EQ(report->tail.records_dropped, 25u);
  EXPECT_EQ(report->tail.bytes_dropped, dropped_bytes) << "the reserve's zeros are not data";
  EXPECT_EQ(*db.stock().Get(150), 1500);
  EXPECT_FALSE(db.stock().Get(152).ok()) << "nothing after the cut is applied";
  EXPECT_EQ(env_.MutableContents(PathOf(name)).size(), offset);
  const testing::ReadOutcome read = ReadLog(&env_, kDir);
  EXPECT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records.size(), 150u);
}

// A group whose last record does not decode: the cut goes before its first record, and none of
// its records reaches the state (they would otherwise be gone from the log but not from memory).
TEST_F(RecoveryTest, TruncateCorruptWalDropsAGroupWhoseLastRecordDoesNotDecode) {
  auto records = StockRecords(1, 10);
  std::string first_part;
  EncodeSortedSetPutHeader("board", kSortedSetPutReplace | kSortedSetPutContinued, &first_part);
  AppendPutMember(MemberKey::FromInteger(1), 1.0, &first_part);
  std::string last_part;
  EncodeSortedSetPutHeader("board", 0, &last_part);
  AppendPutMember(MemberKey::FromInteger(2), 2.0, &last_part);
  last_part.push_back('\x07');  // half a member: the payload does not parse
  records.emplace_back(kSortedSetPut, first_part);
  records.emplace_back(kSortedSetPut, last_part);
  Write(1, records);
  uint64_t group_offset = kWalSegmentHeaderBytes;
  for (size_t i = 0; i < 10; ++i) group_offset += RecordBytes(records[i].second);

  Database strict;
  Result<RecoveryReport> refused = Recover(&env_, kDir, &strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("record 12"), std::string::npos)
      << refused.status().message();

  Database db;
  Result<RecoveryReport> report = RecoverTruncating(&db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->tail.kind, WalTail::Kind::kCorruptionDropped);
  EXPECT_EQ(report->tail.offset, group_offset);
  EXPECT_EQ(report->tail.records_dropped, 2u);
  EXPECT_EQ(report->next_sequence, 11u);
  EXPECT_FALSE(db.WithKey("board", [](Keyspace& keys) { return keys.Exists("board", 0); }))
      << "no record of the dropped group is applied";
  EXPECT_EQ(ReadLog(&env_, kDir).records.size(), 10u);
}

// A bad checksum with intact records after it, in a segment a killed writer left its reserve
// in: --truncate_corrupt_wal drops the damaged record and the 24 after it, and says so in
// records and their bytes, not in the megabyte of zeros after them.
TEST_F(RecoveryTest, WhatACutDropsIsCountedWithoutTheReserve) {
  const auto records = StockRecords(1, 175);
  Write(1, records);
  const std::string name = WalSegmentFileName(1);
  std::string& contents = env_.MutableContents(PathOf(name));
  contents.append(kReserveBytes, '\0');
  uint64_t offset = kWalSegmentHeaderBytes;
  for (size_t i = 0; i < 150; ++i) offset += RecordBytes(records[i].second);
  uint64_t dropped_bytes = 0;
  for (size_t i = 150; i < records.size(); ++i) dropped_bytes += RecordBytes(records[i].second);
  contents[offset + kWalRecordHeaderBytes + 3] ^= 0x10;  // in record 151's payload

  Database db;
  Result<RecoveryReport> report = RecoverTruncating(&db);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->tail.kind, WalTail::Kind::kCorruptionDropped);
  EXPECT_EQ(report->tail.offset, offset);
  EXPECT_EQ(report->tail.records_dropped, 25u);
  EXPECT_EQ(report->tail.bytes_dropped, dropped_bytes);
  EXPECT_EQ(report->next_sequence, 151u);
}

}  // namespace
}  // namespace podium::storage
