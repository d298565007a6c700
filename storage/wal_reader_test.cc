// WalReader against logs written by WalWriter and then damaged on purpose: torn tails at every
// byte, pages of an unsynced write lost in a power cut, flipped bits, missing, stale and
// misplaced segments (docs/wal_format.md, "Reading and recovery").
#include "storage/wal_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "storage/fault_injection_file.h"
#include "storage/wal_format.h"
#include "storage/wal_testing.h"

namespace podium::storage {
namespace {

using testing::ReadLog;
using testing::ReadOutcome;
using testing::WriteLog;

constexpr char kDir[] = "/wal";
constexpr uint64_t kSmallSegmentBytes = 600;

// Where the writer put one record: docs/wal_format.md's rolling rule, replayed.
struct Placement {
  std::string file;
  uint64_t offset;
};

std::vector<Placement> PlaceRecords(const std::vector<WalRecord>& records,
                                    uint64_t segment_bytes_max) {
  std::vector<Placement> places;
  std::string file;
  uint64_t offset = segment_bytes_max;  // forces a segment before the first record
  for (const WalRecord& record : records) {
    const uint64_t size = kWalRecordHeaderBytes + record.payload.size();
    if (file.empty() || offset + size > segment_bytes_max) {
      file = WalSegmentFileName(record.sequence);
      offset = kWalSegmentHeaderBytes;
    }
    places.push_back({file, offset});
    offset += size;
  }
  return places;
}

std::string PathOf(const std::string& file) { return JoinPath(kDir, file); }

class WalReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDir(kDir).ok()); }

  std::vector<std::string> Segments() {
    Result<std::vector<std::string>> names = env_.GetChildren(kDir);
    CHECK(names.ok());
    std::vector<std::string> segments = *names;
    std::sort(segments.begin(), segments.end());
    return segments;
  }

  // Writes `bytes` as the whole file `name`.
  void PutFile(const std::string& name, const std::string& bytes) {
    Result<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(PathOf(name));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(bytes).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }

  void ExpectCorruptionAt(const ReadOutcome& read, const std::string& file, uint64_t offset) {
    EXPECT_EQ(read.status.code(), StatusCode::kCorruption) << read.status.ToString();
    const std::string where = PathOf(file) + " at offset " + std::to_string(offset) + ":";
    EXPECT_NE(read.status.message().find(where), std::string::npos)
        << read.status.message() << " should name " << where;
  }

  FaultInjectionEnv env_;
};

std::vector<WalRecord> Prefix(const std::vector<WalRecord>& records, size_t count) {
  return std::vector<WalRecord>(records.begin(), records.begin() + count);
}

TEST_F(WalReaderTest, RoundTripAcrossSegmentRolls) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 200, kSmallSegmentBytes);
  ASSERT_GT(Segments().size(), 10u);
  for (const std::string& name : Segments()) {
    EXPECT_LE(*env_.FileSize(PathOf(name)), kSmallSegmentBytes) << name;
  }
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records, written);
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
  EXPECT_EQ(read.last_sequence, 200u);
}

TEST_F(WalReaderTest, EmptyDirectoryAndEmptySegmentEndCleanly) {
  ReadOutcome read = ReadLog(&env_, kDir);
  EXPECT_TRUE(read.status.ok());
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.last_sequence, 0u);

  WriteLog(&env_, kDir, 7, 0, kSmallSegmentBytes);  // a segment holding only its header
  read = ReadLog(&env_, kDir);
  EXPECT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
  EXPECT_EQ(read.last_sequence, 6u) << "a writer continues at 7";
}

TEST_F(WalReaderTest, TornTailAtEveryByteOfTheLastRecord) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 40, kSmallSegmentBytes);
  const Placement last = PlaceRecords(written, kSmallSegmentBytes).back();
  const std::string original = env_.MutableContents(PathOf(last.file));
  ASSERT_EQ(original.size(), last.offset + kWalRecordHeaderBytes + written.back().payload.size());
  for (uint64_t cut = last.offset; cut < original.size(); ++cut) {
    for (bool zero_filled : {false, true}) {
      std::string damaged = original.substr(0, cut);
      if (zero_filled) damaged.resize(original.size(), '\0');  // size grew, data never came
      env_.MutableContents(PathOf(last.file)) = damaged;
      const ReadOutcome read = ReadLog(&env_, kDir);
      ASSERT_TRUE(read.status.ok()) << "cut " << cut << ": " << read.status.ToString();
      ASSERT_EQ(read.records, Prefix(written, written.size() - 1)) << "cut " << cut;
      if (cut == last.offset) {
        // Nothing of the record reached the file: a clean end (in zeros, a writer's reserve).
        EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean) << "zero filled " << zero_filled;
        continue;
      }
      EXPECT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
      EXPECT_EQ(read.tail.file, last.file);
      EXPECT_EQ(read.tail.offset, last.offset);
      // The damaged bytes, not the zeros after them.
      const size_t last_non_zero = damaged.find_last_not_of('\0');
      EXPECT_EQ(read.tail.bytes_dropped, last_non_zero + 1 - last.offset) << "cut " << cut;
    }
  }
  // Recovery cuts the tail; the log then continues after the last record recovered.
  const ReadOutcome torn = ReadLog(&env_, kDir);
  ASSERT_TRUE(TruncateWal(&env_, kDir, torn.tail).ok());
  const std::vector<WalRecord> more =
      WriteLog(&env_, kDir, torn.last_sequence + 1, 5, kSmallSegmentBytes);
  std::vector<WalRecord> expected = Prefix(written, written.size() - 1);
  expected.insert(expected.end(), more.begin(), more.end());
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records, expected);
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
}

TEST_F(WalReaderTest, LastSegmentCutInsideItsHeaderIsTorn) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 3, kSmallSegmentBytes);
  WriteLog(&env_, kDir, 4, 0, kSmallSegmentBytes);
  const std::string name = WalSegmentFileName(4);
  for (size_t cut = 0; cut < kWalSegmentHeaderBytes; ++cut) {
    env_.MutableContents(PathOf(name)).resize(cut);
    const ReadOutcome read = ReadLog(&env_, kDir);
    ASSERT_TRUE(read.status.ok()) << read.status.ToString();
    EXPECT_EQ(read.records, written);
    EXPECT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
    EXPECT_EQ(read.tail.file, name);
    EXPECT_EQ(read.tail.offset, 0u);
  }
  ASSERT_TRUE(TruncateWal(&env_, kDir, ReadLog(&env_, kDir).tail).ok());
  EXPECT_FALSE(env_.FileExists(PathOf(name))) << "a segment cut inside its header goes";
}

TEST_F(WalReaderTest, FlippedBitInAMiddleRecordIsCorruption) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::vector<Placement> places = PlaceRecords(written, kSmallSegmentBytes);
  const size_t victim = 30;
  const Placement at = places[victim];
  const std::string original = env_.MutableContents(PathOf(at.file));
  const uint64_t victim_bytes = kWalRecordHeaderBytes + written[victim].payload.size();
  uint64_t later_bytes = 0;
  uint64_t later_segments = 0;
  for (const std::string& name : Segments()) {
    if (name > at.file) later_bytes += *env_.FileSize(PathOf(name));
    if (name > at.file) ++later_segments;
  }
  for (uint64_t byte = at.offset; byte < at.offset + victim_bytes; ++byte) {
    std::string& contents = env_.MutableContents(PathOf(at.file));
    contents = original;
    contents[byte] = static_cast<char>(contents[byte] ^ (1 << (byte % 8)));
    const ReadOutcome strict = ReadLog(&env_, kDir);
    ExpectCorruptionAt(strict, at.file, at.offset);
    ASSERT_EQ(strict.records, Prefix(written, victim)) << "byte " << byte;

    WalReaderOptions options;
    options.truncate_at_first_corruption = true;
    const ReadOutcome lenient = ReadLog(&env_, kDir, options);
    ASSERT_TRUE(lenient.status.ok()) << lenient.status.ToString();
    ASSERT_EQ(lenient.records, Prefix(written, victim));
    EXPECT_EQ(lenient.tail.kind, WalTail::Kind::kCorruptionDropped);
    EXPECT_EQ(lenient.tail.file, at.file);
    EXPECT_EQ(lenient.tail.offset, at.offset);
    EXPECT_EQ(lenient.tail.bytes_dropped, original.size() - at.offset + later_bytes);
    EXPECT_EQ(lenient.tail.segments_dropped, later_segments);
  }
  WalReaderOptions options;
  options.truncate_at_first_corruption = true;
  ASSERT_TRUE(TruncateWal(&env_, kDir, ReadLog(&env_, kDir, options).tail).ok());
  const ReadOutcome repaired = ReadLog(&env_, kDir);
  ASSERT_TRUE(repaired.status.ok()) << repaired.status.ToString();
  EXPECT_EQ(repaired.records, Prefix(written, victim));
  EXPECT_EQ(repaired.tail.kind, WalTail::Kind::kClean);
}

TEST_F(WalReaderTest, CutInsideANonLastSegmentIsCorruption) {
  WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::string first = Segments().front();
  std::string& contents = env_.MutableContents(PathOf(first));
  contents.resize(contents.size() - 1);
  const ReadOutcome read = ReadLog(&env_, kDir);
  EXPECT_EQ(read.status.code(), StatusCode::kCorruption) << read.status.ToString();
  EXPECT_NE(read.status.message().find(first), std::string::npos);
}

TEST_F(WalReaderTest, MissingMiddleSegmentIsASequenceGap) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::vector<std::string> segments = Segments();
  ASSERT_GE(segments.size(), 4u);
  ASSERT_TRUE(env_.RemoveFile(PathOf(segments[1])).ok());
  const ReadOutcome read = ReadLog(&env_, kDir);
  ExpectCorruptionAt(read, segments[2], 0);
  EXPECT_NE(read.status.message().find("stale or misplaced"), std::string::npos);
  EXPECT_EQ(read.records, Prefix(written, *ParseWalSegmentFileName(segments[1]) - 1));
}

// A segment named inside the records of the one before it cannot continue the log: it is
// skipped, whether it holds an older log's records or nothing at all, and the real segments
// after it are read. (Taken for damage, a repair would cut them all.)
TEST_F(WalReaderTest, StraySegmentsInsideTheRecordsReadAreSkipped) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::vector<std::string> segments = Segments();
  ASSERT_GE(segments.size(), 4u);
  const uint64_t stale_first = *ParseWalSegmentFileName(segments[1]) + 1;
  ASSERT_LT(stale_first, *ParseWalSegmentFileName(segments[2]));
  std::string stale;
  AppendWalSegmentHeader(stale_first, &stale);
  AppendWalRecord(9, stale_first, "from an older life", &stale);
  PutFile(WalSegmentFileName(stale_first), stale);
  const uint64_t empty_first = *ParseWalSegmentFileName(segments[2]) + 1;
  PutFile(WalSegmentFileName(empty_first), "");
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records, written);
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
  EXPECT_EQ(read.stray_segments, (std::vector<std::string>{WalSegmentFileName(stale_first),
                                                           WalSegmentFileName(empty_first)}));
}

// A stray named inside the last segment's records sorts after it: the last segment is still
// the last, and its torn tail is cut as after any crash, not taken for corruption.
TEST_F(WalReaderTest, AStrayAfterTheLastSegmentLeavesItsTornTailATornTail) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 59, kSmallSegmentBytes);
  const std::string last = Segments().back();
  const uint64_t last_first = *ParseWalSegmentFileName(last);
  ASSERT_LE(last_first, written.back().sequence) << "the last segment holds records";
  ASSERT_LT(last_first + 1, written.back().sequence);
  PutFile(WalSegmentFileName(last_first + 1), "");  // a stray inside the last one's records
  std::string& contents = env_.MutableContents(PathOf(last));
  contents.resize(contents.size() - 3);  // the last record cut short
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
  EXPECT_EQ(read.records, Prefix(written, written.size() - 1));
}

// Past the end of the records read, a segment that does not continue them is still a gap: the
// reader cannot tell a stray from a segment whose predecessor was lost.
TEST_F(WalReaderTest, StaleSegmentPastTheRecordsReadIsCorruption) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const uint64_t stale_first = written.back().sequence + 2;
  std::string stale;
  AppendWalSegmentHeader(stale_first, &stale);
  AppendWalRecord(9, stale_first, "from an older life", &stale);
  PutFile(WalSegmentFileName(stale_first), stale);
  const ReadOutcome read = ReadLog(&env_, kDir);
  ExpectCorruptionAt(read, WalSegmentFileName(stale_first), 0);
  EXPECT_EQ(read.records, written);
}

// start_after (a snapshot's sequence): reading starts in the last segment named at or before
// start_after + 1, so segments before it, left by a crash before their removal or copied in by
// mistake, are not read, whatever they hold.
TEST_F(WalReaderTest, ReadingStartsInTheSegmentHoldingTheRecordAfterStartAfter) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::vector<std::string> segments = Segments();
  ASSERT_GE(segments.size(), 4u);
  const uint64_t second_first = *ParseWalSegmentFileName(segments[1]);
  // The first segment, replaced by one from another log that runs past where the second starts.
  std::string other;
  AppendWalSegmentHeader(1, &other);
  for (uint64_t sequence = 1; sequence <= second_first + 5; ++sequence) {
    AppendWalRecord(9, sequence, "another log", &other);
  }
  PutFile(segments[0], other);
  WalReaderOptions options;
  for (const uint64_t start_after : {second_first - 1, second_first + 2}) {
    options.start_after = start_after;
    const ReadOutcome read = ReadLog(&env_, kDir, options);
    ASSERT_TRUE(read.status.ok()) << start_after << ": " << read.status.ToString();
    EXPECT_EQ(read.records,
              std::vector<WalRecord>(written.begin() + (second_first - 1), written.end()));
    EXPECT_TRUE(read.stray_segments.empty());
  }
  options.start_after = 0;  // from the first segment: the other log's records, then a conflict
  EXPECT_EQ(ReadLog(&env_, kDir, options).status.code(), StatusCode::kCorruption);
}

TEST_F(WalReaderTest, OutOfOrderSequenceIsCorruptionEvenAtTheTail) {
  std::string segment;
  AppendWalSegmentHeader(1, &segment);
  AppendWalRecord(1, 1, "one", &segment);
  AppendWalRecord(1, 2, "two", &segment);
  const uint64_t misplaced_at = segment.size();
  AppendWalRecord(1, 4, "four", &segment);  // intact, but not 3
  PutFile(WalSegmentFileName(1), segment);
  const ReadOutcome read = ReadLog(&env_, kDir);
  ExpectCorruptionAt(read, WalSegmentFileName(1), misplaced_at);
  EXPECT_NE(read.status.message().find("stale or misplaced block"), std::string::npos);
  EXPECT_EQ(read.records.size(), 2u);
}

TEST_F(WalReaderTest, HeaderDisagreeingWithItsNameIsCorruption) {
  std::string segment;
  AppendWalSegmentHeader(5, &segment);
  PutFile(WalSegmentFileName(6), segment);
  ExpectCorruptionAt(ReadLog(&env_, kDir), WalSegmentFileName(6), 0);
}

TEST_F(WalReaderTest, BadSegmentMagicIsCorruptionInAnySegment) {
  WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  for (const std::string& name : {Segments().front(), Segments().back()}) {
    std::string& contents = env_.MutableContents(PathOf(name));
    contents[0] = 'X';
    const ReadOutcome read = ReadLog(&env_, kDir);
    ExpectCorruptionAt(read, name, 0);
    EXPECT_NE(read.status.message().find("magic"), std::string::npos);
    contents[0] = 'P';
  }
}

TEST_F(WalReaderTest, ZeroedHeaderOfAnEmptyLastSegmentIsTorn) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 3, kSmallSegmentBytes);
  WriteLog(&env_, kDir, 4, 0, kSmallSegmentBytes);
  std::string& contents = env_.MutableContents(PathOf(WalSegmentFileName(4)));
  contents.assign(kWalSegmentHeaderBytes, '\0');  // the size reached the disk, the data did not
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records, written);
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
  EXPECT_EQ(read.tail.offset, 0u);
}

TEST_F(WalReaderTest, ZerosToTheEndOfAnySegmentAreACleanEnd) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::vector<std::string> segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  // A writer's reserve left behind by a crash: in a middle segment (long and shorter than a
  // record header) and in the last one.
  env_.MutableContents(PathOf(segments[0])).append(kWalRecordHeaderBytes + 100, '\0');
  env_.MutableContents(PathOf(segments[1])).append(kWalRecordHeaderBytes - 1, '\0');
  const uint64_t last_end = env_.MutableContents(PathOf(segments.back())).size();
  env_.MutableContents(PathOf(segments.back())).append(1, '\0');
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records, written);
  EXPECT_EQ(read.last_sequence, 60u);
  // A clean end that names the last segment's zeros, which recovery cuts.
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
  EXPECT_EQ(read.tail.file, segments.back());
  EXPECT_EQ(read.tail.offset, last_end);
  EXPECT_EQ(read.tail.bytes_dropped, 1u);
  ASSERT_TRUE(TruncateWal(&env_, kDir, read.tail).ok());
  EXPECT_EQ(*env_.FileSize(PathOf(segments.back())), last_end);
  const ReadOutcome again = ReadLog(&env_, kDir);
  EXPECT_EQ(again.records, written);
  EXPECT_TRUE(again.tail.file.empty()) << "nothing left to cut";
}

TEST_F(WalReaderTest, ZerosBeforeAnIntactRecordAreCorruption) {
  std::string segment;
  AppendWalSegmentHeader(1, &segment);
  AppendWalRecord(1, 1, "one", &segment);
  const uint64_t zeros_at = segment.size();
  segment.append(kWalRecordHeaderBytes + 3, '\0');
  AppendWalRecord(1, 2, "two", &segment);
  PutFile(WalSegmentFileName(1), segment);
  const ReadOutcome read = ReadLog(&env_, kDir);
  ExpectCorruptionAt(read, WalSegmentFileName(1), zeros_at);
  EXPECT_EQ(read.records.size(), 1u);
}

// A power cut in the middle of an unsynced write (docs/wal_format.md, "A torn write before intact
// records"): the kernel writes the page cache back a page at a time, in any order, so some pages of
// the write are on the disk and others still hold what they held before it.
class WalReaderPowerCutTest : public WalReaderTest {
 protected:
  static constexpr uint64_t kPageBytes = 4096;

  // One segment written as a server writes it: `synced` records appended and synced, then
  // `unsynced` more appended and written (one write) but never synced. Payloads of 40..240
  // bytes, so that records straddle page and sector boundaries.
  struct TwoBatches {
    std::vector<WalRecord> records;
    std::vector<uint64_t> offsets;  // where each record starts
    std::string file;
    uint64_t unsynced_from = 0;  // where the unsynced write starts
    std::string written;         // the segment as the page cache held it
  };
  TwoBatches WriteTwoBatches(size_t synced, size_t unsynced) {
    for (const std::string& name : Segments()) CHECK(env_.RemoveFile(PathOf(name)).ok());
    TwoBatches log;
    Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(&env_, kDir, 1);
    CHECK(writer.ok());
    log.file = (*writer)->segment_name();
    uint64_t offset = kWalSegmentHeaderBytes;
    for (uint64_t sequence = 1; sequence <= synced + unsynced; ++sequence) {
      if (sequence == synced + 1) {
        CHECK((*writer)->Sync().ok());
        log.unsynced_from = offset;
      }
      WalRecord record{1, sequence, testing::PayloadFor(sequence, 40 + sequence * 53 % 201)};
      CHECK((*writer)->Append(record.type, record.payload).ok());
      log.offsets.push_back(offset);
      offset += kWalRecordHeaderBytes + record.payload.size();
      log.records.push_back(std::move(record));
    }
    CHECK((*writer)->Flush().ok());
    CHECK_EQ(env_.SyncedBytes(PathOf(log.file)), log.unsynced_from);
    log.written = env_.MutableContents(PathOf(log.file));
    return log;  // the writer goes without Close: a crash
  }

  // Page `page` of the unsynced write never reached the disk: it reads back as before the
  // write, the synced records and then the zeros of the writer's reserve.
  void LosePage(const TwoBatches& log, uint64_t page) {
    std::string& contents = env_.MutableContents(PathOf(log.file));
    const uint64_t from = std::max(page * kPageBytes, log.unsynced_from);
    const uint64_t to = std::min((page + 1) * kPageBytes, uint64_t{contents.size()});
    CHECK_LT(from, to);
    std::fill(contents.begin() + static_cast<std::ptrdiff_t>(from),
              contents.begin() + static_cast<std::ptrdiff_t>(to), '\0');
  }

  // The log must end in a torn write at the first record the lost pages changed, dropping it
  // and counting the intact records after it; cutting there leaves a clean log.
  void ExpectTornWrite(const TwoBatches& log) {
    const std::string& contents = env_.MutableContents(PathOf(log.file));
    std::vector<bool> intact;
    for (size_t i = 0; i < log.records.size(); ++i) {
      const uint64_t size = kWalRecordHeaderBytes + log.records[i].payload.size();
      intact.push_back(contents.compare(log.offsets[i], size, log.written, log.offsets[i], size) ==
                       0);
    }
    const size_t cut = std::find(intact.begin(), intact.end(), false) - intact.begin();
    ASSERT_GE(cut, 1u);
    ASSERT_TRUE(intact.back()) << "intact records follow the damage";
    const ReadOutcome read = ReadLog(&env_, kDir);
    ASSERT_TRUE(read.status.ok()) << read.status.ToString();
    EXPECT_EQ(read.records, Prefix(log.records, cut));
    EXPECT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
    EXPECT_EQ(read.tail.file, log.file);
    EXPECT_EQ(read.tail.offset, log.offsets[cut]);
    EXPECT_EQ(read.tail.records_dropped, 1 + std::count(intact.begin() + cut, intact.end(), true));
    const uint64_t records_end =
        log.offsets.back() + kWalRecordHeaderBytes + log.records.back().payload.size();
    EXPECT_EQ(read.tail.bytes_dropped, records_end - log.offsets[cut]) << "not the reserve";
    EXPECT_EQ(read.tail.segments_dropped, 0u);
    ASSERT_TRUE(TruncateWal(&env_, kDir, read.tail).ok());
    const ReadOutcome again = ReadLog(&env_, kDir);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_EQ(again.records, Prefix(log.records, cut));
    EXPECT_EQ(again.tail.kind, WalTail::Kind::kClean);
  }
};

TEST_F(WalReaderPowerCutTest, FirstPageOfTheWriteLostBeforeLandedPagesIsATornWrite) {
  // The page the write starts in kept its old bytes: zeros from the write's first record to the
  // page's end (one byte of them or thousands), then pages of the write that did land.
  size_t starts_tried = 0;
  for (size_t synced = 1;; ++synced) {
    const TwoBatches log = WriteTwoBatches(synced, 80);
    if (log.unsynced_from >= kPageBytes) break;
    LosePage(log, 0);
    ASSERT_EQ(env_.MutableContents(PathOf(log.file))[log.unsynced_from], '\0');
    SCOPED_TRACE("write starts at " + std::to_string(log.unsynced_from));
    ExpectTornWrite(log);
    ++starts_tried;
  }
  EXPECT_GT(starts_tried, 10u);
}

TEST_F(WalReaderPowerCutTest, LaterPageOfTheWriteLostBeforeLandedPagesIsATornWrite) {
  // The write's first page landed and a later one did not: the record across that page's start
  // has its real bytes up to the page boundary, then zeros.
  for (const std::vector<uint64_t>& lost : {std::vector<uint64_t>{1}, {1, 2}, {1, 3}, {2}}) {
    for (size_t synced : {1, 7, 15}) {
      const TwoBatches log = WriteTwoBatches(synced, 120);
      for (uint64_t page : lost) LosePage(log, page);
      SCOPED_TRACE("first lost page " + std::to_string(lost[0]) + ", synced " +
                   std::to_string(synced));
      const uint64_t boundary = lost[0] * kPageBytes;
      const auto across = std::find_if(log.offsets.begin(), log.offsets.end(),
                                       [&](uint64_t offset) { return offset >= boundary; }) -
                          1;
      ASSERT_LT(*across, boundary) << "a record straddles the lost page's start";
      ASSERT_GE(*across, log.unsynced_from);
      ExpectTornWrite(log);
    }
  }
}

TEST_F(WalReaderTest, FlippedBitInTheLastSegmentBeforeIntactRecordsIsCorruption) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 80, kWalSegmentBytesMax);
  ASSERT_EQ(Segments().size(), 1u);
  const std::vector<Placement> places = PlaceRecords(written, kWalSegmentBytesMax);
  // A record across a sector boundary, so that its own zero bytes (the high bytes of its length
  // and sequence) lie near one.
  size_t victim = 40;
  const auto end_of = [&](size_t i) {
    return places[i].offset + kWalRecordHeaderBytes + written[i].payload.size();
  };
  while (places[victim].offset / kWalSectorBytes == end_of(victim) / kWalSectorBytes) ++victim;
  ASSERT_LT(victim + 1, written.size());
  const Placement at = places[victim];
  const std::string original = env_.MutableContents(PathOf(at.file));
  for (uint64_t byte = at.offset; byte < end_of(victim); ++byte) {
    std::string& contents = env_.MutableContents(PathOf(at.file));
    contents = original;
    contents[byte] = static_cast<char>(contents[byte] ^ (1 << (byte % 8)));
    const ReadOutcome read = ReadLog(&env_, kDir);
    ExpectCorruptionAt(read, at.file, at.offset);
    ASSERT_EQ(read.records, Prefix(written, victim)) << "byte " << byte;
  }
}

TEST_F(WalReaderTest, LostPageInASegmentThatIsNotTheLastIsCorruption) {
  // What a lost page leaves in the last segment, in an earlier one: the writer synced that
  // segment whole before it created the next, so no power cut explains it.
  constexpr uint64_t kPageBytes = 4096;
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 300, 3 * kPageBytes);
  const std::vector<std::string> segments = Segments();
  ASSERT_GE(segments.size(), 2u);
  const std::vector<Placement> places = PlaceRecords(written, 3 * kPageBytes);
  std::string& contents = env_.MutableContents(PathOf(segments[0]));
  std::fill(contents.begin() + kPageBytes, contents.begin() + 2 * kPageBytes, '\0');
  size_t cut = 0;
  while (places[cut + 1].offset <= kPageBytes) ++cut;  // the record across the page's start
  const ReadOutcome read = ReadLog(&env_, kDir);
  ExpectCorruptionAt(read, segments[0], places[cut].offset);
  EXPECT_EQ(read.records, Prefix(written, cut));
}

TEST_F(WalReaderTest, OnlySectorShapedZerosBeforeIntactRecordsAreATornWrite) {
  std::string original;
  AppendWalSegmentHeader(1, &original);
  std::vector<uint64_t> offsets;
  for (uint64_t sequence = 1; sequence <= 8; ++sequence) {
    offsets.push_back(original.size());
    AppendWalRecord(1, sequence, testing::PayloadFor(sequence, 700), &original);
  }
  // The third record spans two sector boundaries; five intact records follow it.
  const uint64_t victim = offsets[2];
  const uint64_t boundary = (victim / kWalSectorBytes + 1) * kWalSectorBytes;
  ASSERT_LT(boundary + kWalSectorBytes, offsets[3]);
  struct Case {
    const char* zeros;
    uint64_t from;
    uint64_t to;
    bool torn;
  };
  const Case cases[] = {
      {"a whole sector", boundary, boundary + kWalSectorBytes, true},
      {"from the record's start to a sector boundary", victim, boundary, true},
      {"a sector but one byte, ending on a boundary", boundary + 1, boundary + kWalSectorBytes,
       false},
      {"from the record's start to one byte short of a boundary", victim, boundary - 1, false},
      {"100 bytes inside the record, reaching no boundary", boundary + 50, boundary + 150, false},
  };
  const std::string name = WalSegmentFileName(1);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.zeros);
    if (!c.torn) {  // the run is exactly [from, to)
      if (c.from > victim) {
        ASSERT_NE(original[c.from - 1], '\0');
      }
      ASSERT_NE(original[c.to], '\0');
    }
    std::string damaged = original;
    std::fill(damaged.begin() + static_cast<std::ptrdiff_t>(c.from),
              damaged.begin() + static_cast<std::ptrdiff_t>(c.to), '\0');
    PutFile(name, damaged);
    const ReadOutcome read = ReadLog(&env_, kDir);
    EXPECT_EQ(read.records.size(), 2u);
    if (!c.torn) {
      ExpectCorruptionAt(read, name, victim);
      continue;
    }
    ASSERT_TRUE(read.status.ok()) << read.status.ToString();
    EXPECT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
    EXPECT_EQ(read.tail.offset, victim);
    EXPECT_EQ(read.tail.records_dropped, 6u);
    EXPECT_EQ(read.tail.bytes_dropped, original.size() - victim);
  }
}

TEST_F(WalReaderTest, RecordLostToZerosInAMiddleSegmentIsASequenceGap) {
  const std::vector<WalRecord> written = WriteLog(&env_, kDir, 1, 60, kSmallSegmentBytes);
  const std::vector<Placement> places = PlaceRecords(written, kSmallSegmentBytes);
  const std::vector<std::string> segments = Segments();
  // Zero the last record of the first segment: that segment now ends cleanly one record
  // early, and the next one starts a sequence too late.
  size_t victim = 0;
  while (places[victim + 1].file == segments[0]) ++victim;
  std::string& contents = env_.MutableContents(PathOf(segments[0]));
  std::fill(contents.begin() + static_cast<std::ptrdiff_t>(places[victim].offset), contents.end(),
            '\0');
  const ReadOutcome read = ReadLog(&env_, kDir);
  ExpectCorruptionAt(read, segments[1], 0);
  EXPECT_NE(read.status.message().find("stale or misplaced"), std::string::npos);
  EXPECT_EQ(read.records, Prefix(written, victim));
}

TEST_F(WalReaderTest, WriterKeepsAReserveOfZerosAndCutsItAtClose) {
  WalWriterOptions options;
  options.reserve_bytes = 256;
  Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(&env_, kDir, 1, options);
  ASSERT_TRUE(writer.ok());
  const std::string path = PathOf((*writer)->segment_name());
  std::vector<WalRecord> written;
  uint64_t record_bytes = kWalSegmentHeaderBytes;
  for (uint64_t sequence = 1; sequence <= 40; ++sequence) {
    WalRecord record{7, sequence, testing::PayloadFor(sequence, 30)};
    ASSERT_TRUE((*writer)->Append(record.type, record.payload).ok());
    ASSERT_TRUE((*writer)->Sync().ok());
    record_bytes += kWalRecordHeaderBytes + record.payload.size();
    written.push_back(std::move(record));
    // Synced with the zeros after it: a crash now leaves them, and the log reads the same.
    const std::string& contents = env_.MutableContents(path);
    ASSERT_GT(contents.size(), record_bytes) << "a reserve past the records";
    ASSERT_LE(contents.size(), record_bytes + 256);
    EXPECT_EQ(env_.SyncedBytes(path), contents.size());
    EXPECT_EQ(contents.find_first_not_of('\0', record_bytes), std::string::npos);
    const ReadOutcome read = ReadLog(&env_, kDir);
    ASSERT_TRUE(read.status.ok()) << read.status.ToString();
    ASSERT_EQ(read.records, written);
    EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
  }
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(*env_.FileSize(path), record_bytes) << "a closed segment is exactly its records";
}

TEST_F(WalReaderTest, WriterRefusesReservedTypesAndOversizedRecords) {
  Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(&env_, kDir, 1);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->Append(0, "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Append(128, "x").status().code(), StatusCode::kInvalidArgument);
  const std::string too_big(kWalRecordPayloadBytesMax + 1, 'b');
  EXPECT_EQ((*writer)->Append(1, too_big).status().code(), StatusCode::kLimitExceeded);
  const std::string largest(kWalRecordPayloadBytesMax, 'L');
  Result<uint64_t> appended = (*writer)->Append(127, largest);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(*appended, 1u) << "refused records take no sequence";
  ASSERT_TRUE((*writer)->Close().ok());
  const ReadOutcome read = ReadLog(&env_, kDir);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  ASSERT_EQ(read.records.size(), 1u);
  EXPECT_EQ(read.records[0].payload, largest);
}

}  // namespace
}  // namespace podium::storage
