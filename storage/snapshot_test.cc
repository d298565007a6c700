// Snapshot round trips and file handling: what goes in through SnapshotWriter comes back out
// of LoadSnapshot entry by entry, and only finished snapshot files are ever listed.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "storage/limits.h"
#include "storage/snapshot_format.h"
#include "storage/snapshot_testing.h"
#include "storage/wal_format.h"

namespace podium::storage {
namespace {

using snapshot_testing::DumpState;
using snapshot_testing::ScratchDir;
using snapshot_testing::WriteState;

constexpr int64_t kNow = 1'700'000'000'000;

void ExpectSameState(const StockTable& stock_a, const Keyspace& keys_a, const StockTable& stock_b,
                     const Keyspace& keys_b) {
  const snapshot_testing::Dump a = DumpState(stock_a, keys_a);
  const snapshot_testing::Dump b = DumpState(stock_b, keys_b);
  EXPECT_EQ(a.stock, b.stock);
  EXPECT_EQ(a.strings, b.strings);
  EXPECT_EQ(a.set_deadlines, b.set_deadlines);
  ASSERT_EQ(a.sets.size(), b.sets.size());
  for (const auto& [key, members] : a.sets) {
    ASSERT_TRUE(b.sets.contains(key)) << key;
    ASSERT_EQ(members.size(), b.sets.at(key).size()) << key;
    EXPECT_TRUE(members == b.sets.at(key)) << key;
  }
}

SortedSet* Zset(Keyspace& keys, std::string_view key) {
  Result<SortedSet*> set = keys.FindOrCreateSortedSet(key, kNow);
  CHECK(set.ok());
  return *set;
}

void FillMixedState(StockTable* stock, Keyspace* keys) {
  for (uint64_t product = 1; product <= 3000; ++product) {
    ASSERT_TRUE(stock->Set(product * 7919, static_cast<int64_t>(product % 50)).ok());
  }
  ASSERT_TRUE(stock->Set(kProductIdMax, kStockUnitsMax).ok());
  ASSERT_TRUE(keys->SetString("plain", "value", kNow, std::nullopt).ok());
  ASSERT_TRUE(keys->SetString("with-ttl", "soon gone", kNow, 60'000).ok());
  ASSERT_TRUE(keys->SetString("empty", "", kNow, std::nullopt).ok());
  ASSERT_TRUE(
      keys->SetString(std::string("bin\0ary", 7), std::string("\0\xff\n", 3), kNow, {}).ok());
  ASSERT_TRUE(keys->SetString(std::string(kKeySizeBytesMax, 'k'), "long key", kNow, 1).ok());
  std::string big(300'000, '\0');  // spans several blocks
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) ^ (i >> 7));
  ASSERT_TRUE(keys->SetString("big", big, kNow, std::nullopt).ok());

  std::mt19937_64 random(7);
  SortedSet* ints = Zset(*keys, "board:int");
  for (uint64_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(ints->Set(MemberKey::FromInteger(random() % 100'000), double(random() % 97)).ok());
  }
  SortedSet* special = Zset(*keys, "board:special");
  const double scores[] = {0.0,
                           -0.0,
                           1e-300,
                           -1e300,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           3.25,
                           -7.5};
  for (size_t i = 0; i < std::size(scores); ++i) {
    ASSERT_TRUE(special->Set(MemberKey::FromInteger(i), scores[i]).ok());
  }
  ASSERT_TRUE(special->Set(MemberKey::FromInteger(kProductIdMax), 1).ok());
  SortedSet* strings = Zset(*keys, "board:strings");
  const std::string long_member(kMemberSizeBytesMax, 'm');
  for (const std::string_view member :
       {std::string_view("alice"), std::string_view(""), std::string_view("042"),
        std::string_view("-1"), std::string_view("12"), std::string_view(long_member)}) {
    ASSERT_TRUE(strings->Set(MemberKey::FromBytes(member), double(member.size()) / 3).ok());
  }
  ASSERT_TRUE(Zset(*keys, "board:ttl")->Set(MemberKey::FromBytes("x"), 1).ok());
  ASSERT_TRUE(keys->Expire("board:ttl", 5'000, kNow).ok());
}

TEST(SnapshotTest, MixedStateRoundTrip) {
  ScratchDir dir;
  PosixEnv env;
  StockTable stock;
  Keyspace keys;
  FillMixedState(&stock, &keys);
  Result<std::string> path = WriteState(&env, dir.path(), 42, stock, keys);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, dir.path() + "/snapshot-00000000000000000042.snap");

  StockTable loaded_stock;
  Keyspace loaded_keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env, *path, &loaded_stock, &loaded_keys);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->wal_sequence, 42u);
  EXPECT_EQ(info->stock_counters, 3001u);
  EXPECT_EQ(info->strings, 6u);
  EXPECT_EQ(info->sorted_sets, 4u);
  EXPECT_EQ(info->file_bytes, std::filesystem::file_size(*path));
  ExpectSameState(stock, keys, loaded_stock, loaded_keys);
  // TTLs came back as deadlines: the same time left at the same now.
  EXPECT_EQ(loaded_keys.TtlMs("with-ttl", kNow), 60'000);
  EXPECT_EQ(loaded_keys.TtlMs("board:ttl", kNow), 5'000);
  EXPECT_EQ(loaded_keys.TtlMs("plain", kNow), -1);
  // A key that expired meanwhile is loaded and then expires as it would have.
  EXPECT_FALSE(loaded_keys.Exists(std::string(kKeySizeBytesMax, 'k'), kNow + 1));
  loaded_keys.strings().CheckInvariants();
}

TEST(SnapshotTest, EmptyStateRoundTrip) {
  ScratchDir dir;
  PosixEnv env;
  StockTable stock;
  Keyspace keys;
  Result<std::string> path = WriteState(&env, dir.path(), 0, stock, keys);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  StockTable loaded_stock;
  Keyspace loaded_keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env, *path, &loaded_stock, &loaded_keys);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(loaded_stock.size() + loaded_keys.string_count() + loaded_keys.sorted_set_count(), 0u);
  // Header, five empty sections (type + terminator), end marker, footer.
  EXPECT_EQ(info->file_bytes, 32u + 5 * 17 + 1 + 56);
}

// Builds an integer board of `members` random product ids (unique) with the given scores.
template <typename Score>
void FillBoard(SortedSet* set, size_t members, Score score) {
  std::mt19937_64 random(members);
  while (set->size() < members) {
    CHECK(set->Set(MemberKey::FromInteger(random() % (members * 4)), score(random)).ok());
  }
}

TEST(SnapshotTest, BigBoardRoundTrip) {
  ScratchDir dir;
  PosixEnv env;
  StockTable stock;
  Keyspace keys;
  FillBoard(Zset(keys, "board"), 200'000, [](std::mt19937_64& r) { return double(r() % 10'000); });
  Result<std::string> path = WriteState(&env, dir.path(), 7, stock, keys);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  StockTable loaded_stock;
  Keyspace loaded_keys;
  ASSERT_TRUE(LoadSnapshot(&env, *path, &loaded_stock, &loaded_keys).ok());
  ExpectSameState(stock, keys, loaded_stock, loaded_keys);
  (*loaded_keys.FindSortedSet("board", kNow))->CheckInvariants();
}

// A set written in parts (as a live capture writes a big set a slice at a time) loads as one
// set: parts merge, a member in two parts takes the later score, the last deadline holds.
TEST(SnapshotTest, SetPartsMergeIntoOneSet) {
  ScratchDir dir;
  PosixEnv env;
  SnapshotWriter writer(&env);
  ASSERT_TRUE(writer.Begin(dir.path(), 3, kNow).ok());
  ASSERT_TRUE(writer.BeginStrings().ok());
  ASSERT_TRUE(writer.BeginSortedSets().ok());
  ASSERT_TRUE(writer.BeginSortedSet("a", std::nullopt, 2).ok());
  ASSERT_TRUE(writer.AddMember(MemberKey::FromInteger(1), 1).ok());
  ASSERT_TRUE(writer.AddMember(MemberKey::FromBytes("x"), 2).ok());
  ASSERT_TRUE(writer.EndSortedSet().ok());
  ASSERT_TRUE(writer.BeginSortedSet("a", kNow + 9, 2, /*continues=*/true).ok());
  ASSERT_TRUE(writer.AddMember(MemberKey::FromInteger(1), 5).ok());  // moved meanwhile
  ASSERT_TRUE(writer.AddMember(MemberKey::FromInteger(3), 3).ok());
  ASSERT_TRUE(writer.EndSortedSet().ok());
  ASSERT_TRUE(writer.BeginSortedSet("b", std::nullopt, 1).ok());
  ASSERT_TRUE(writer.AddMember(MemberKey::FromInteger(1), 7).ok());
  ASSERT_TRUE(writer.EndSortedSet().ok());
  ASSERT_TRUE(writer.BeginBook().ok());
  ASSERT_TRUE(writer.BeginRankings().ok());
  Result<std::string> path = writer.Finish();
  ASSERT_TRUE(path.ok()) << path.status().ToString();

  StockTable stock;
  Keyspace keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env, *path, &stock, &keys);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sorted_sets, 2u);
  EXPECT_EQ(info->sorted_set_members, 5u);  // every part's members, as written
  const SortedSet* a = *keys.FindSortedSet("a", kNow);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->size(), 3u);
  EXPECT_EQ(a->Score(MemberKey::FromInteger(1)), 5.0);
  EXPECT_EQ(a->Score(MemberKey::FromInteger(3)), 3.0);
  EXPECT_EQ(keys.TtlMs("a", kNow), 9);
  EXPECT_EQ(keys.TtlMs("b", kNow), -1);
}

// A capture copies every string before any sorted set, so a key that became a set in between
// is in both sections (snapshot_format.md, "A key in both sections"): it loads as the set, the
// later copy, whether the string had expired or not.
TEST(SnapshotTest, AKeyInBothSectionsLoadsAsTheSortedSet) {
  ScratchDir dir;
  PosixEnv env;
  SnapshotWriter writer(&env);
  ASSERT_TRUE(writer.Begin(dir.path(), 3, kNow).ok());
  ASSERT_TRUE(writer.BeginStrings().ok());
  ASSERT_TRUE(writer.AddString("k", "deleted, then ZADD", std::nullopt).ok());
  ASSERT_TRUE(writer.AddString("e", "expired, then ZADD", kNow - 10).ok());
  ASSERT_TRUE(writer.AddString("s", "a string throughout", kNow + 10).ok());
  ASSERT_TRUE(writer.BeginSortedSets().ok());
  SortedSet set;
  ASSERT_TRUE(set.Set(MemberKey::FromBytes("m"), 1).ok());
  ASSERT_TRUE(writer.AddSortedSet("k", std::nullopt, set).ok());
  ASSERT_TRUE(writer.AddSortedSet("e", kNow + 20, set).ok());
  ASSERT_TRUE(writer.BeginBook().ok());
  ASSERT_TRUE(writer.BeginRankings().ok());
  Result<std::string> path = writer.Finish();
  ASSERT_TRUE(path.ok()) << path.status().ToString();

  StockTable stock;
  Keyspace keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env, *path, &stock, &keys);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->strings, 3u);  // the entries in the file
  EXPECT_EQ(keys.string_count(), 1u);
  EXPECT_EQ(keys.sorted_set_count(), 2u);
  for (const char* key : {"k", "e"}) {
    EXPECT_EQ(keys.Type(key, kNow), KeyType::kSortedSet) << key;
    EXPECT_EQ((*keys.FindSortedSet(key, kNow))->Score(MemberKey::FromBytes("m")), 1.0) << key;
  }
  EXPECT_EQ(keys.TtlMs("k", kNow), -1);
  EXPECT_EQ(keys.TtlMs("e", kNow), 20);
  EXPECT_EQ(*keys.strings().Get("s", kNow), "a string throughout");
}

// The size figure for docs: 1M integer members (ids below 4M) with random scores. Redis's RDB
// for such a board measured 22.9 MB. bench/snapshot_size.cc times the same for larger runs.
TEST(SnapshotTest, MillionMemberBoardSize) {
  ScratchDir dir;
  PosixEnv env;
  StockTable stock;
  Keyspace keys;
  constexpr size_t kMembers = 1'000'000;
  FillBoard(Zset(keys, "board"), kMembers,
            [](std::mt19937_64& r) { return double(r() % 1'000'000); });
  const auto start = std::chrono::steady_clock::now();
  Result<std::string> path = WriteState(&env, dir.path(), 1, stock, keys);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  const auto written = std::chrono::steady_clock::now();
  StockTable loaded_stock;
  Keyspace loaded_keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env, *path, &loaded_stock, &loaded_keys);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const auto loaded = std::chrono::steady_clock::now();
  using Ms = std::chrono::milliseconds;
  std::printf(
      "1M-member integer board, random integer scores in [0, 1e6): %llu bytes "
      "(%.2f bytes/member), write %lld ms, load %lld ms\n",
      static_cast<unsigned long long>(info->file_bytes), double(info->file_bytes) / kMembers,
      static_cast<long long>(std::chrono::duration_cast<Ms>(written - start).count()),
      static_cast<long long>(std::chrono::duration_cast<Ms>(loaded - written).count()));
  EXPECT_EQ((*loaded_keys.FindSortedSet("board", kNow))->size(), kMembers);
  EXPECT_LT(info->file_bytes, 8u * kMembers);  // under 8 bytes a member: a third of RDB's
}

TEST(SnapshotTest, ListsOnlyFinishedSnapshotsNewestFirst) {
  ScratchDir dir;
  PosixEnv env;
  StockTable stock;
  Keyspace keys;
  ASSERT_TRUE(WriteState(&env, dir.path(), 5, stock, keys).ok());
  ASSERT_TRUE(WriteState(&env, dir.path(), 120, stock, keys).ok());
  ASSERT_TRUE(WriteState(&env, dir.path(), 9, stock, keys).ok());
  {
    SnapshotWriter abandoned(&env);  // a crash mid-write leaves a .tmp file
    ASSERT_TRUE(abandoned.Begin(dir.path(), 500, kNow).ok());
    std::filesystem::copy_file(dir.path() + "/snapshot-00000000000000000500.snap.tmp",
                               dir.path() + "/snapshot-00000000000000000600.snap.tmp");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/snapshot-00000000000000000500.snap.tmp"));
  for (const char* junk : {"snapshot-123.snap", "snapshot-0000000000000000000x.snap", "wal-1.log",
                           "snapshot-00000000000000000700.snapx"}) {
    std::ofstream(dir.path() + "/" + junk) << "junk";
  }
  Result<std::vector<SnapshotFile>> files = ListSnapshots(&env, dir.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].wal_sequence, 120u);
  EXPECT_EQ((*files)[1].wal_sequence, 9u);
  EXPECT_EQ((*files)[2].wal_sequence, 5u);
  EXPECT_EQ((*files)[0].path, dir.path() + "/snapshot-00000000000000000120.snap");
}

// The bound on listed snapshots counts snapshots only: a long log's segments beside them are
// not snapshots, and a start must still find the newest one.
TEST(SnapshotTest, ManySegmentsBesideASnapshotDoNotHideIt) {
  ScratchDir dir;
  PosixEnv env;
  StockTable stock;
  Keyspace keys;
  ASSERT_TRUE(WriteState(&env, dir.path(), 7, stock, keys).ok());
  for (uint64_t first = 1; first <= kSnapshotFilesListedMax + 10; ++first) {
    std::ofstream(dir.path() + "/" + WalSegmentFileName(first * 1000));
  }
  Result<std::vector<SnapshotFile>> files = ListSnapshots(&env, dir.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].wal_sequence, 7u);
}

TEST(SnapshotTest, FileNames) {
  EXPECT_EQ(snapshot_format::FileName(UINT64_MAX), "snapshot-18446744073709551615.snap");
  EXPECT_EQ(snapshot_format::ParseFileName("snapshot-18446744073709551615.snap"), UINT64_MAX);
  EXPECT_EQ(snapshot_format::ParseFileName("snapshot-99999999999999999999.snap"), std::nullopt);
  EXPECT_EQ(snapshot_format::ParseFileName("snapshot-00000000000000000001.snap.tmp"), std::nullopt);
}

TEST(SnapshotTest, ScoreKeysOrderAndRoundTrip) {
  const double ordered[] = {-std::numeric_limits<double>::infinity(),
                            -1e300,
                            -1,
                            -0.0,
                            0.0,
                            std::numeric_limits<double>::denorm_min(),
                            1,
                            1e300,
                            std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i < std::size(ordered); ++i) {
    const uint64_t key = snapshot_format::ScoreKey(ordered[i]);
    EXPECT_EQ(std::bit_cast<uint64_t>(snapshot_format::ScoreFromKey(key)),
              std::bit_cast<uint64_t>(ordered[i]));
    if (i > 0) {
      EXPECT_LT(snapshot_format::ScoreKey(ordered[i - 1]), key) << ordered[i];
    }
    const uint64_t delta = key - snapshot_format::kFirstScoreKey;
    EXPECT_EQ(snapshot_format::UnZigZag(snapshot_format::ZigZag(delta)), delta);
  }
}

}  // namespace
}  // namespace podium::storage
