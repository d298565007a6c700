#include "storage/wal_format.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>

namespace podium::storage {
namespace {

uint32_t LowXxh3(std::string_view bytes) {
  return static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

std::string LittleEndian(uint64_t value, size_t bytes) {
  std::string out;
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

TEST(WalFormatTest, SegmentFileNamesHaveTwentyDigitsAndParseBack) {
  EXPECT_EQ(WalSegmentFileName(1), "wal-00000000000000000001.log");
  EXPECT_EQ(WalSegmentFileName(UINT64_MAX), "wal-18446744073709551615.log");
  EXPECT_EQ(ParseWalSegmentFileName("wal-00000000000000000042.log"), 42u);
  EXPECT_EQ(ParseWalSegmentFileName(WalSegmentFileName(UINT64_MAX)), UINT64_MAX);
  for (const char* bad : {"wal-0000000000000000042.log", "wal-000000000000000000042.log",
                          "wal-0000000000000000004x.log", "wal-99999999999999999999.log",
                          "wal-00000000000000000042.log.tmp", "snapshot-00000000000000000042.snap",
                          "WAL-00000000000000000042.log", ""}) {
    EXPECT_FALSE(ParseWalSegmentFileName(bad).has_value()) << bad;
  }
}

// The segment header exactly as docs/wal_format.md lays it out.
TEST(WalFormatTest, SegmentHeaderBytesMatchTheDoc) {
  std::string header;
  AppendWalSegmentHeader(0x0102030405060708, &header);
  ASSERT_EQ(header.size(), kWalSegmentHeaderBytes);
  std::string expected = "PDWL" + LittleEndian(1, 2) + LittleEndian(0x0102030405060708, 8);
  expected += LittleEndian(LowXxh3(expected), 4);
  EXPECT_EQ(header, expected);
  Result<uint64_t> first = DecodeWalSegmentHeader(header);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 0x0102030405060708u);
}

TEST(WalFormatTest, SegmentHeaderRejectsEveryFlippedBit) {
  std::string header;
  AppendWalSegmentHeader(77, &header);
  for (size_t bit = 0; bit < header.size() * 8; ++bit) {
    std::string damaged = header;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    Result<uint64_t> first = DecodeWalSegmentHeader(damaged);
    ASSERT_FALSE(first.ok()) << "bit " << bit;
    EXPECT_EQ(first.status().code(), StatusCode::kCorruption);
  }
}

// A record exactly as docs/wal_format.md lays it out.
TEST(WalFormatTest, RecordBytesMatchTheDoc) {
  std::string record;
  AppendWalRecord(5, 0x1122334455667788, "abc", &record);
  const std::string covered =
      LittleEndian(3, 4) + LittleEndian(5, 1) + LittleEndian(0x1122334455667788, 8) + "abc";
  EXPECT_EQ(record, LittleEndian(LowXxh3(covered), 4) + covered);
  ASSERT_EQ(record.size(), kWalRecordHeaderBytes + 3);
  EXPECT_TRUE(WalRecordChecksumMatches(record));
  const WalRecordHeader header = DecodeWalRecordHeader(record);
  EXPECT_EQ(header.payload_bytes, 3u);
  EXPECT_EQ(header.type, 5);
  EXPECT_EQ(header.sequence, 0x1122334455667788u);
  EXPECT_TRUE(WalRecordHeaderProblem(header).empty());
}

TEST(WalFormatTest, HeaderProblemsNameTypeAndLength) {
  WalRecordHeader header{0, 0, 0, 1};
  EXPECT_FALSE(WalRecordHeaderProblem(header).empty()) << "type 0 never parses";
  header.type = 128;
  EXPECT_FALSE(WalRecordHeaderProblem(header).empty()) << "128..255 are reserved";
  header.type = 127;
  header.payload_bytes = kWalRecordPayloadBytesMax;
  EXPECT_TRUE(WalRecordHeaderProblem(header).empty());
  header.payload_bytes = kWalRecordPayloadBytesMax + 1;
  EXPECT_FALSE(WalRecordHeaderProblem(header).empty());
}

TEST(WalFormatTest, ZeroesNeverFormAnIntactRecord) {
  const std::string zeros(kWalRecordHeaderBytes, '\0');
  EXPECT_FALSE(WalRecordHeaderProblem(DecodeWalRecordHeader(zeros)).empty());
  EXPECT_FALSE(WalRecordChecksumMatches(zeros));
}

}  // namespace
}  // namespace podium::storage
