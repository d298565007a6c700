// Damaged snapshot files: every flipped bit and every truncation is refused with a Corruption
// that names the file (and, where it is known, the offset), never a crash and never a success.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>

#include "storage/snapshot_format.h"
#include "storage/snapshot_testing.h"

namespace podium::storage {
namespace {

using snapshot_testing::ScratchDir;
using snapshot_testing::WriteState;

constexpr int64_t kNow = 1'700'000'000'000;
// The first block of the stock section starts after the header and the section type byte.
constexpr size_t kFirstBlockOffset = snapshot_format::kHeaderBytes + 1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class SnapshotCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StockTable stock;
    Keyspace keys;
    for (uint64_t product = 0; product < 200; ++product) {
      ASSERT_TRUE(stock.Set(product, static_cast<int64_t>(product)).ok());
    }
    ASSERT_TRUE(keys.SetString("a", "alpha", kNow, 1000).ok());
    // Compressible, so the file stays small, but spanning two blocks uncompressed.
    ASSERT_TRUE(keys.SetString("big", std::string(100'000, 'z'), kNow, std::nullopt).ok());
    SortedSet* set = *keys.FindOrCreateSortedSet("board", kNow);
    for (uint64_t member = 0; member < 300; ++member) {
      ASSERT_TRUE(set->Set(MemberKey::FromInteger(member * 13), double(member % 17)).ok());
    }
    ASSERT_TRUE(set->Set(MemberKey::FromBytes("name"), -2.5).ok());
    Result<std::string> path = WriteState(&env_, dir_.path(), 3, stock, keys);
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    path_ = *path;
    good_ = ReadFile(path_);
    ASSERT_TRUE(Load(good_).ok());
  }

  // Loads `bytes` as the snapshot file into fresh tables.
  Status Load(const std::string& bytes) {
    WriteFile(path_, bytes);
    StockTable stock;
    Keyspace keys;
    Result<SnapshotInfo> info = LoadSnapshot(&env_, path_, &stock, &keys);
    return info.ok() ? Status::Ok() : info.status();
  }

  ScratchDir dir_;
  PosixEnv env_;
  std::string path_;
  std::string good_;
};

TEST_F(SnapshotCorruptionTest, FlippedBitInABlockNamesFileAndOffset) {
  std::string bytes = good_;
  bytes[kFirstBlockOffset + snapshot_format::kBlockHeaderBytes + 5] ^= 0x10;
  const Status status = Load(bytes);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find(path_), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("block checksum mismatch at offset " +
                                  std::to_string(kFirstBlockOffset)),
            std::string::npos)
      << status.ToString();
}

TEST_F(SnapshotCorruptionTest, EveryFlippedBitIsRefused) {
  for (size_t offset = 0; offset < good_.size(); ++offset) {
    std::string bytes = good_;
    bytes[offset] ^= static_cast<char>(1 << (offset % 8));
    const Status status = Load(bytes);
    ASSERT_EQ(status.code(), StatusCode::kCorruption) << "offset " << offset;
    ASSERT_NE(status.message().find(path_), std::string::npos) << status.ToString();
  }
}

TEST_F(SnapshotCorruptionTest, EveryTruncationIsRefused) {
  for (size_t size = 0; size < good_.size(); ++size) {
    const Status status = Load(good_.substr(0, size));
    ASSERT_EQ(status.code(), StatusCode::kCorruption) << "size " << size;
    ASSERT_NE(status.message().find(path_), std::string::npos) << status.ToString();
  }
  EXPECT_NE(Load(good_.substr(0, 10)).message().find("truncated"), std::string::npos);
}

TEST_F(SnapshotCorruptionTest, TrailingBytesAreRefused) {
  const Status status = Load(good_ + "x");
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("after the footer"), std::string::npos) << status.ToString();
}

TEST_F(SnapshotCorruptionTest, WrongMagicIsRefused) {
  std::string bytes = good_;
  bytes[0] = 'X';
  const Status status = Load(bytes);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("bad magic"), std::string::npos) << status.ToString();
}

// A file from a newer writer (valid header checksum, unknown version) is refused, not guessed.
TEST_F(SnapshotCorruptionTest, UnknownVersionIsRefused) {
  std::string bytes = good_;
  StoreU16(bytes.data() + 4, snapshot_format::kVersion + 1);
  StoreU64(bytes.data() + snapshot_format::kHeaderChecksumOffset,
                            XXH3_64bits(bytes.data(), snapshot_format::kHeaderChecksumOffset));
  const Status status = Load(bytes);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  const std::string expected =
      "unsupported format version " + std::to_string(snapshot_format::kVersion + 1);
  EXPECT_NE(status.message().find(expected), std::string::npos)
      << status.ToString();
}

TEST_F(SnapshotCorruptionTest, MissingFileIsAnIoError) {
  StockTable stock;
  Keyspace keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env_, dir_.path() + "/nope.snap", &stock, &keys);
  EXPECT_EQ(info.status().code(), StatusCode::kIoError);
}

// A snapshot whose `entries` write one section's entries (strings, or sorted sets after an
// empty strings section), loaded into fresh tables.
Status LoadWritten(Env* env, const std::string& dir, bool sets,
                   const std::function<Status(SnapshotWriter&)>& entries) {
  SnapshotWriter writer(env);
  Status status = writer.Begin(dir, 3, kNow);
  if (status.ok()) status = writer.BeginStrings();
  if (status.ok() && sets) status = writer.BeginSortedSets();
  if (status.ok()) status = entries(writer);
  if (status.ok() && !sets) status = writer.BeginSortedSets();
  if (status.ok()) status = writer.BeginBook();
  if (status.ok()) status = writer.BeginRankings();
  if (!status.ok()) return status;
  Result<std::string> path = writer.Finish();
  if (!path.ok()) return path.status();
  StockTable stock;
  Keyspace keys;
  Result<SnapshotInfo> info = LoadSnapshot(env, *path, &stock, &keys);
  return info.ok() ? Status::Ok() : info.status();
}

// A key twice within one section is corruption: the capture visits each shard once per pass
// (only a key in both the strings and the sorted-sets section is expected, snapshot_test.cc).
TEST_F(SnapshotCorruptionTest, KeyTwiceInOneSectionIsRefused) {
  const Status strings = LoadWritten(&env_, dir_.path(), /*sets=*/false, [](SnapshotWriter& w) {
    Status status = w.AddString("k", "one", std::nullopt);
    return status.ok() ? w.AddString("k", "two", std::nullopt) : status;
  });
  EXPECT_EQ(strings.code(), StatusCode::kCorruption);
  EXPECT_NE(strings.message().find("snapshot " + dir_.path()), std::string::npos)
      << strings.ToString();
  EXPECT_NE(strings.message().find("key already present as a string"), std::string::npos)
      << strings.ToString();

  SortedSet set;
  ASSERT_TRUE(set.Set(MemberKey::FromInteger(1), 1).ok());
  const Status sets = LoadWritten(&env_, dir_.path(), /*sets=*/true, [&](SnapshotWriter& w) {
    Status status = w.AddSortedSet("k", std::nullopt, set);
    return status.ok() ? w.AddSortedSet("k", std::nullopt, set) : status;
  });
  EXPECT_EQ(sets.code(), StatusCode::kCorruption);
  EXPECT_NE(sets.message().find("key already present as a sorted set"), std::string::npos)
      << sets.ToString();
}

}  // namespace
}  // namespace podium::storage
