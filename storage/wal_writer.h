// WalWriter: appends records to the write-ahead log of one directory (docs/wal_format.md).
//
// Each Append frames one record with the next sequence number into a buffer of the current
// segment, which goes to the file (one write) when it passes kWalWriteBufferBytes or at Flush;
// Sync writes it and makes everything appended so far durable. The writer starts a new segment
// before an append that would take the current one past segment_bytes_max: it syncs and closes
// the old segment first, then creates the new one, writes and syncs its header and syncs the
// directory, so that every segment but the last is complete on disk whatever happens next.
//
// Ahead of its appends the writer keeps the segment's next bytes written as zeros, reserve_bytes
// at a time (WritableFile::Reserve), so that a sync writes data into blocks the file already
// has and commits no metadata. A segment closed by the writer is cut to its records; the last
// segment after a crash may end in zeros, which a reader takes as its end.
//
// Opening a writer always starts a new segment at `next_sequence`. After a crash, recovery must
// first read the log (WalReader) and cut any torn tail (TruncateWal), then open the writer at
// the sequence after the last record recovered.
//
// An I/O error is sticky: what reached the disk is then unknown, so every later call returns
// the same error and the owner must recover from the log before writing again.
//
// Thread-safety: none. By contract one thread (the WAL thread) owns a writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/file.h"
#include "storage/limits.h"
#include "storage/status.h"

namespace podium::storage {

struct WalWriterOptions {
  // A new segment starts before an append would pass this size (tests use small ones).
  uint64_t segment_bytes_max = kWalSegmentBytesMax;
  // Zeros written ahead of the appends, at most this many at a time (0: none).
  uint64_t reserve_bytes = kWalReserveBytes;
};

class WalWriter {
 public:
  // Starts a segment named after `next_sequence` (>= 1) in `dir`, which must exist. `env` must
  // outlive the writer.
  static Result<std::unique_ptr<WalWriter>> Open(Env* env, std::string dir, uint64_t next_sequence,
                                                 WalWriterOptions options = {});
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;
  ~WalWriter();

  // Appends one record of `type` (kWalRecordTypeMin..kWalRecordTypeMax) and returns its
  // sequence. InvalidArgument for a bad type, LimitExceeded for a payload past
  // kWalRecordPayloadBytesMax (nothing written in either case); IoError otherwise. The record is
  // durable only after the next successful Sync().
  Result<uint64_t> Append(uint8_t type, std::string_view payload);

  // Hands every record appended so far to the operating system (they survive a crash of the
  // process, not of the machine).
  Status Flush();

  // Makes every record appended so far durable.
  Status Sync();

  // If the current segment holds a record: syncs and closes it, and starts the next segment,
  // named after the next sequence. A snapshot rolls the log so that the segments it covers
  // can be removed whole (the last segment never is: it may be the one being written).
  Status Roll();

  // Syncs and closes the current segment. No call but the destructor may follow.
  Status Close();

  // The sequence the next Append will get.
  uint64_t next_sequence() const { return next_sequence_; }
  // Every record up to this sequence is durable (0: none yet).
  uint64_t synced_sequence() const { return synced_sequence_; }
  // The file name of the current segment (the last one, after a Roll).
  const std::string& segment_name() const { return segment_name_; }
  // Segment headers and records appended since Open, in bytes (reserves not included).
  uint64_t bytes_appended() const { return bytes_appended_; }
  // The current segment's header and records, pending ones included (its reserve not), or 0
  // after a failed segment start.
  uint64_t segment_bytes() const {
    return segment_ == nullptr ? 0 : segment_->size() + pending_.size();
  }

 private:
  WalWriter(Env* env, std::string dir, uint64_t next_sequence, WalWriterOptions options);

  Status StartSegment();
  Status FinishSegment();
  // Writes the pending records; then, unless the segment is closing, tops up the reserve.
  Status WritePending(bool top_up_reserve = true);
  Status ExtendReserve(uint64_t end);
  Status Fail(Status status);

  Env* const env_;
  const std::string dir_;
  const WalWriterOptions options_;
  std::unique_ptr<WritableFile> segment_;
  std::string segment_name_;
  uint64_t reserved_end_ =
      0;  // the current segment's bytes up to here exist (as zeros past size())
  uint64_t next_sequence_;
  uint64_t synced_sequence_;
  uint64_t bytes_appended_ = 0;
  std::string pending_;  // framed records not yet written to the segment
  Status error_;        // the sticky error, once there is one
  bool closed_ = false;
};

}  // namespace podium::storage
