// WalReader: reads the write-ahead log of one directory back, record by record, in sequence
// order, checking everything docs/wal_format.md says a reader checks: segment headers,
// checksums and the sequence chain across segments.
//
// A segment ends at the end of its file, or where every byte left is zero (a writer's reserve:
// a clean end, in any segment; the sequence chain still catches a lost record).
//
// It tells a torn write (damage in the last segment that a crash explains: nothing intact after
// it, or zeroed sectors of an unsynced write before the intact records after it; a normal end,
// reported in tail()) from corruption (anything else: an error naming the file and the byte
// offset, or, with truncate_at_first_corruption, a normal end that reports what is dropped).
// Either way, TruncateWal(tail()) makes the directory end where the reader ended; recovery must
// do that before a WalWriter appends again.
//
// A segment whose name's sequence is at most the last sequence read before it cannot continue
// the log (every segment the writer starts is named after the record that follows the last
// one): it is a stray (a file copied in by mistake, another server's), skipped unread and
// listed in stray_segments(). Cutting the log at it would drop the real segments after it.
//
// Memory: one record at a time (at most kWalRecordBytesMax), plus the rest of one segment when
// it looks past a bad record for intact ones, or one segment at a time when it measures what a
// cut drops. The directory must not change while it is read.
// Thread-safety: none; one thread owns a reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/file.h"
#include "storage/status.h"

namespace podium::storage {

struct WalRecord {
  uint8_t type = 0;
  uint64_t sequence = 0;
  std::string payload;

  bool operator==(const WalRecord&) const = default;
};

struct WalReaderOptions {
  // Stop at the first corruption as if the log ended there (and report the drop) instead of
  // failing. For an operator's explicit repair only.
  bool truncate_at_first_corruption = false;
  // Records up to this sequence are not wanted (a snapshot holds them): reading starts in the
  // last segment whose name's sequence is at most start_after + 1, and the segments before it
  // are not read (a crash between a snapshot and the removal of the segments it covers leaves
  // them; so may a file copied in by mistake). 0: from the first segment.
  uint64_t start_after = 0;
};

// Where and why the log ended before the end of its files. A kClean tail names a file only when
// the last segment ends in zeros (a writer's reserve left by a crash): `offset` is where they
// start and `bytes_dropped` counts them; nothing is lost there.
//
// Otherwise bytes_dropped never counts the zeros of a writer's reserve: it runs from the cut to
// the end of the last record or the last non-zero byte of that file, whichever is later, plus
// the same measure of every later segment (a torn write has no later segment).
struct WalTail {
  enum class Kind { kClean, kTornWrite, kCorruptionDropped };
  Kind kind = Kind::kClean;
  std::string file;               // segment file name (not path) of the cut
  uint64_t offset = 0;            // byte offset of the cut in that file
  uint64_t bytes_dropped = 0;     // above
  uint64_t segments_dropped = 0;  // later segments dropped whole
  std::string reason;             // what failed at the cut
  // Records a cut dropped (kCorruptionDropped, and CutBefore): the one at the cut, intact or
  // not, and every intact record after it. A torn write counts the same: 0 when nothing intact
  // follows the cut (its record was never whole), else the damaged record and the intact ones
  // after it, which an unsynced write left past sectors that never reached the disk.
  uint64_t records_dropped = 0;
};

class WalReader {
 public:
  // Lists the segments of `dir`. `env` must outlive the reader.
  static Result<std::unique_ptr<WalReader>> Open(Env* env, std::string dir,
                                                 WalReaderOptions options = {});
  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;
  ~WalReader();

  // true: *record holds the next record. false: the log ended (see tail()). An error
  // (Corruption with file and offset, or IoError) ends the reading; calling again repeats it.
  Result<bool> Next(WalRecord* record);

  // How the log ended; meaningful once Next returned false.
  const WalTail& tail() const { return tail_; }
  // The sequence of the last record read; before any record, the one before the first
  // segment read's first sequence (0 for an empty directory). A writer continues the log at
  // last_sequence() + 1 once the reader ended and TruncateWal ran.
  uint64_t last_sequence() const { return last_sequence_; }
  size_t segment_count() const { return segments_.size(); }
  // The file names (not paths) of the strays skipped so far (above), in the order met.
  const std::vector<std::string>& stray_segments() const { return stray_segments_; }

  // A cut just before the record that starts at (`file`, `offset`), a position this reader
  // returned (record_position): what TruncateWal needs to drop it and everything after it.
  // Recovery uses it for the records of a group whose last record never came
  // (docs/wal_format.md, "Effects").
  struct Position {
    size_t segment_index = 0;
    uint64_t offset = 0;
  };
  Position record_position() const { return record_position_; }
  // Reads what the cut drops to count it (WalTail): the rest of the segment at `position` and
  // every later segment, one at a time. A segment it cannot read counts whole, with no records.
  WalTail CutBefore(Position position, std::string reason) const;
  // The file name (not path) of the segment a Position is in.
  const std::string& segment_name(size_t segment_index) const {
    return segments_.at(segment_index).name;
  }

 private:
  struct Segment {
    uint64_t first_sequence;
    std::string name;
    uint64_t size_bytes;
  };

  WalReader(Env* env, std::string dir, WalReaderOptions options, std::vector<Segment> segments);

  Result<bool> OpenSegment();
  Result<bool> ReadRecord(WalRecord* record);
  Result<bool> ZerosToTheEnd(uint64_t offset);
  Result<bool> BadRecord(uint64_t offset, std::string reason);
  Result<bool> Stop(uint64_t offset, std::string reason);
  // What follows a record or segment header that is not intact, in the current segment.
  struct LookAhead {
    uint64_t damaged_bytes = 0;      // up to the last non-zero byte (the reserve's zeros not)
    bool intact_after = false;       // an intact record starts after it
    bool unwritten_sectors = false;  // and zeros of sectors never written lie before that one
  };
  LookAhead LookPastBadRecord(uint64_t offset);
  // What a cut drops of segment `index` from `offset` on: WalTail's measure of its bytes, and
  // its intact records; intact_at_cut: one starts at `offset`.
  struct Dropped {
    uint64_t bytes = 0;
    uint64_t records = 0;
    bool intact_at_cut = false;
  };
  Dropped MeasureDropped(size_t index, uint64_t offset) const;
  // Every byte of the log from `position` on, zeros included: a bound on what a cut drops.
  uint64_t TotalBytesFrom(Position position) const;
  // No later segment can continue the log: every one left is a stray (named at or below the
  // last sequence read), if any is left.
  bool InLastSegment() const;
  const Segment& segment() const { return segments_[segment_index_]; }

  Env* const env_;
  const std::string dir_;
  const WalReaderOptions options_;
  const std::vector<Segment> segments_;  // sorted by first sequence
  const size_t start_index_;             // of the first segment read (options_.start_after)
  size_t segment_index_;
  std::unique_ptr<RandomAccessFile> file_;  // the open segment, or null between segments
  uint64_t offset_ = 0;                     // of the next record in the open segment
  uint64_t last_sequence_ = 0;
  Position record_position_;  // of the last record returned
  std::string scratch_;
  WalTail tail_;
  Status error_;
  bool ended_ = false;
  std::vector<std::string> stray_segments_;
};

// Cuts the log where `tail` says it ended: removes every segment after tail.file and syncs the
// directory, then truncates tail.file at tail.offset (removes it if the offset is inside its
// header) and syncs the directory again. A kClean tail removes only a reserve's zeros (or
// nothing, when it names no file).
Status TruncateWal(Env* env, const std::string& dir, const WalTail& tail);

}  // namespace podium::storage
