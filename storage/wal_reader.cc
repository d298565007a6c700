#include "storage/wal_reader.h"

#include <algorithm>
#include <utility>

#include "storage/limits.h"
#include "storage/wal_format.h"

namespace podium::storage {
namespace {

bool IsAllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

// The sequences the records of a segment that starts at `first_sequence` and holds
// `segment_bytes` can carry: at most one per record header's worth of bytes.
struct SequenceRange {
  uint64_t first;
  uint64_t last;
};
SequenceRange SequencesOf(uint64_t first_sequence, uint64_t segment_bytes) {
  return {first_sequence, first_sequence + segment_bytes / kWalRecordHeaderBytes};
}

// The size of the intact record (docs/wal_format.md) that starts `bytes`, or 0 if none does.
// A record outside `sequences` is not looked at further: a scan of damaged bytes calls this at
// every offset, and without that check random bytes would often pass the type and length
// checks and cost a checksum over up to a record's length (16 MiB) each.
uint64_t IntactRecordBytes(std::string_view bytes, SequenceRange sequences) {
  if (bytes.size() < kWalRecordHeaderBytes) return 0;
  const WalRecordHeader header = DecodeWalRecordHeader(bytes);
  if (!WalRecordHeaderProblem(header).empty()) return 0;
  if (header.sequence < sequences.first || header.sequence > sequences.last) return 0;
  const uint64_t record_bytes = kWalRecordHeaderBytes + header.payload_bytes;
  if (record_bytes > bytes.size()) return 0;
  return WalRecordChecksumMatches(bytes.substr(0, record_bytes)) ? record_bytes : 0;
}

// True if `gap`, the bytes of a segment from `gap_offset` on, holds a run of zeros that ends on
// a sector boundary and either starts at the gap or covers a whole sector: what sectors of a
// write that never reached the disk leave (docs/wal_format.md, "A torn write before intact
// records"). Reads each byte at most once.
bool HoldsUnwrittenSectors(std::string_view gap, uint64_t gap_offset) {
  const uint64_t gap_end = gap_offset + gap.size();
  const uint64_t first_boundary = (gap_offset / kWalSectorBytes + 1) * kWalSectorBytes;
  if (first_boundary > gap_end) return false;
  if (IsAllZero(gap.substr(0, static_cast<size_t>(first_boundary - gap_offset)))) return true;
  for (uint64_t sector = first_boundary; sector + kWalSectorBytes <= gap_end;
       sector += kWalSectorBytes) {
    if (IsAllZero(gap.substr(static_cast<size_t>(sector - gap_offset), kWalSectorBytes))) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<WalReader>> WalReader::Open(Env* env, std::string dir,
                                                   WalReaderOptions options) {
  CHECK(env != nullptr);
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) return names.status();
  std::vector<Segment> segments;
  for (const std::string& name : *names) {
    const std::optional<uint64_t> first_sequence = ParseWalSegmentFileName(name);
    if (!first_sequence.has_value()) continue;
    if (segments.size() == kWalSegmentsListedMax) {
      return Status::LimitExceeded("more than kWalSegmentsListedMax WAL segments in " + dir);
    }
    Result<uint64_t> size_bytes = env->FileSize(JoinPath(dir, name));
    if (!size_bytes.ok()) return size_bytes.status();
    segments.push_back(Segment{*first_sequence, name, *size_bytes});
  }
  std::sort(segments.begin(), segments.end(),
            [](const Segment& a, const Segment& b) { return a.first_sequence < b.first_sequence; });
  return std::unique_ptr<WalReader>(
      new WalReader(env, std::move(dir), options, std::move(segments)));
}

namespace {

// The index of the last segment whose first sequence is at most start_after + 1; 0 if none is.
template <typename Segment>
size_t StartIndex(const std::vector<Segment>& segments, uint64_t start_after) {
  size_t index = 0;
  while (index + 1 < segments.size() && segments[index + 1].first_sequence <= start_after + 1) {
    ++index;
  }
  return index;
}

}  // namespace

WalReader::WalReader(Env* env, std::string dir, WalReaderOptions options,
                     std::vector<Segment> segments)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      segments_(std::move(segments)),
      start_index_(StartIndex(segments_, options_.start_after)),
      segment_index_(start_index_) {}

WalReader::~WalReader() = default;

Result<bool> WalReader::Next(WalRecord* record) {
  CHECK(record != nullptr);
  if (!error_.ok()) return error_;
  while (!ended_) {
    if (segment_index_ == segments_.size()) {
      ended_ = true;  // every segment read to its end: a clean end
      break;
    }
    if (file_ == nullptr) {
      if (segment_index_ > start_index_ && segment().first_sequence <= last_sequence_) {
        stray_segments_.push_back(segment().name);
        ++segment_index_;
        continue;
      }
      Result<bool> opened = OpenSegment();
      if (!opened.ok() || !*opened) return opened;
    }
    if (offset_ == segment().size_bytes) {
      file_.reset();
      ++segment_index_;
      continue;
    }
    Result<bool> read = ReadRecord(record);
    if (read.ok() && !*read && !ended_) continue;  // the segment ended in zeros
    return read;
  }
  return false;
}

// Opens the current segment and checks its header. false: the log ended there.
bool WalReader::InLastSegment() const {
  return std::all_of(segments_.begin() + static_cast<std::ptrdiff_t>(segment_index_) + 1,
                     segments_.end(),
                     [&](const Segment& later) { return later.first_sequence <= last_sequence_; });
}

Result<bool> WalReader::OpenSegment() {
  CHECK(file_ == nullptr);
  const Segment& current = segment();
  // The first segment read continues whatever came before its name, so a torn header there
  // (the writer was creating it) still ends the log just before it, not at sequence 0.
  if (segment_index_ == start_index_ && current.first_sequence >= kWalSequenceFirst) {
    last_sequence_ = current.first_sequence - 1;
  }
  if (current.size_bytes > kWalSegmentBytesMax) {
    return Stop(0, "segment larger than kWalSegmentBytesMax");
  }
  if (current.size_bytes < kWalSegmentHeaderBytes) {
    return BadRecord(0, "segment header cut short");
  }
  Result<std::unique_ptr<RandomAccessFile>> file =
      env_->NewRandomAccessFile(JoinPath(dir_, current.name));
  if (!file.ok()) return error_ = file.status();
  file_ = std::move(file).value();
  offset_ = 0;
  Status status = file_->Read(0, kWalSegmentHeaderBytes, &scratch_);
  if (!status.ok()) return error_ = status;
  if (scratch_.size() != kWalSegmentHeaderBytes) return error_ = Status::IoError("short read");
  const std::string_view problem = WalSegmentHeaderProblem(scratch_);
  if (!problem.empty()) return BadRecord(0, std::string(problem));
  Result<uint64_t> first_sequence = DecodeWalSegmentHeader(scratch_);
  if (!first_sequence.ok()) return Stop(0, first_sequence.status().message());
  if (*first_sequence != current.first_sequence) {
    return Stop(0, "header says first sequence " + std::to_string(*first_sequence));
  }
  const uint64_t expected = last_sequence_ + 1;
  if (*first_sequence < kWalSequenceFirst ||
      (segment_index_ > start_index_ && *first_sequence != expected)) {
    return Stop(0, "stale or misplaced segment: it starts at sequence " +
                       std::to_string(*first_sequence) + " where " + std::to_string(expected) +
                       " was expected (a segment missing or left over?)");
  }
  last_sequence_ = *first_sequence - 1;
  offset_ = kWalSegmentHeaderBytes;
  return true;
}

// true: *record holds the next record. false: the log ended (ended_), or the segment did, in
// zeros (offset_ is then at its end).
Result<bool> WalReader::ReadRecord(WalRecord* record) {
  const uint64_t remaining = segment().size_bytes - offset_;
  CHECK_GT(remaining, 0u);
  const size_t head_bytes =
      static_cast<size_t>(std::min<uint64_t>(remaining, kWalRecordHeaderBytes));
  Status status = file_->Read(offset_, head_bytes, &scratch_);
  if (!status.ok()) return error_ = status;
  if (scratch_.size() != head_bytes) {
    return error_ = Status::IoError("short read");
  }
  if (IsAllZero(scratch_)) {
    Result<bool> zeros = ZerosToTheEnd(offset_ + scratch_.size());
    if (!zeros.ok()) return zeros.status();
    if (*zeros) {
      if (InLastSegment()) {
        tail_ = WalTail{WalTail::Kind::kClean,
                        segment().name,
                        offset_,
                        segment().size_bytes - offset_,
                        0,
                        "the writer's reserve of zeros"};
      }
      offset_ = segment().size_bytes;
      return false;
    }
  }
  if (remaining < kWalRecordHeaderBytes) return BadRecord(offset_, "record header cut short");
  const WalRecordHeader header = DecodeWalRecordHeader(scratch_);
  const std::string_view problem = WalRecordHeaderProblem(header);
  if (!problem.empty()) return BadRecord(offset_, std::string(problem));
  const uint64_t record_bytes = kWalRecordHeaderBytes + header.payload_bytes;
  if (record_bytes > remaining) return BadRecord(offset_, "record cut short");
  status = file_->Read(offset_, record_bytes, &scratch_);
  if (!status.ok()) return error_ = status;
  if (scratch_.size() != record_bytes) return error_ = Status::IoError("short read");
  if (!WalRecordChecksumMatches(scratch_)) {
    return BadRecord(offset_, "record checksum mismatch");
  }
  const uint64_t expected = last_sequence_ + 1;
  if (header.sequence != expected) {
    return Stop(offset_, "stale or misplaced block: sequence " + std::to_string(header.sequence) +
                             " where " + std::to_string(expected) + " was expected");
  }
  record->type = header.type;
  record->sequence = header.sequence;
  record->payload.assign(scratch_, kWalRecordHeaderBytes);
  CHECK_EQ(record->payload.size(), header.payload_bytes);
  record_position_ = Position{segment_index_, offset_};
  offset_ += record_bytes;
  last_sequence_ = header.sequence;
  return true;
}

// True if every byte of the current segment from `offset` on is zero: the writer's reserve
// (docs/wal_format.md, "Writing"), a clean end of the segment. Reads the rest a block at a time.
Result<bool> WalReader::ZerosToTheEnd(uint64_t offset) {
  const uint64_t size_bytes = segment().size_bytes;
  std::string block;
  while (offset < size_bytes) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(size_bytes - offset, kWalWriteBufferBytes));
    Status status = file_->Read(offset, want, &block);
    if (!status.ok()) return error_ = status;
    if (block.size() != want) return error_ = Status::IoError("short read");
    if (!IsAllZero(block)) return false;
    offset += want;
  }
  return true;
}

// A record or segment header at `offset` is not intact. In the last segment that is a torn write
// when nothing intact follows it, or when zeros of sectors that never reached the disk lie
// between it and the next intact record (docs/wal_format.md, "A torn write before intact records");
// anything else is corruption.
Result<bool> WalReader::BadRecord(uint64_t offset, std::string reason) {
  if (!InLastSegment()) return Stop(offset, std::move(reason));
  const LookAhead ahead = LookPastBadRecord(offset);
  if (!error_.ok()) return error_;  // the look-ahead failed to read
  const Segment& current = segment();
  CHECK_LE(offset, current.size_bytes);
  if (!ahead.intact_after) {
    tail_ = WalTail{WalTail::Kind::kTornWrite, current.name, offset, ahead.damaged_bytes, 0,
                    std::move(reason)};
  } else if (ahead.unwritten_sectors) {
    // The records after the cut are of the same unsynced write: dropped and counted as by a cut.
    tail_ = CutBefore(Position{segment_index_, offset}, std::move(reason));
    tail_.kind = WalTail::Kind::kTornWrite;
    CHECK_EQ(tail_.segments_dropped, 0u);
    tail_.reason += "; zeroed sectors before intact records: an unsynced write a power cut tore (";
    tail_.reason += std::to_string(tail_.records_dropped) + " records cut)";
  } else {
    return Stop(offset, std::move(reason));
  }
  ended_ = true;
  file_.reset();
  return false;
}

// Corruption at `offset` of the current segment.
Result<bool> WalReader::Stop(uint64_t offset, std::string reason) {
  const Segment& current = segment();
  if (!options_.truncate_at_first_corruption) {
    return error_ = Status::Corruption("WAL " + JoinPath(dir_, current.name) + " at offset " +
                                       std::to_string(offset) + ": " + reason);
  }
  tail_ = CutBefore(Position{segment_index_, offset}, std::move(reason));
  tail_.kind = WalTail::Kind::kCorruptionDropped;
  ended_ = true;
  file_.reset();
  return false;
}

// One read of the current segment from `offset` on, where a record or segment header is not
// intact: is an intact record (docs/wal_format.md) after it, and what lies between. Scans every
// later offset; runs only on a damaged last segment.
WalReader::LookAhead WalReader::LookPastBadRecord(uint64_t offset) {
  const uint64_t size_bytes = segment().size_bytes;
  LookAhead ahead;
  ahead.damaged_bytes = size_bytes - offset;
  if (file_ == nullptr) return ahead;  // a segment too short for its header holds nothing
  CHECK_LE(size_bytes, kWalSegmentBytesMax);
  std::string rest;
  Status status = file_->Read(offset, size_bytes - offset, &rest);
  if (!status.ok()) {
    error_ = status;
    return ahead;
  }
  const size_t last_non_zero = rest.find_last_not_of('\0');
  ahead.damaged_bytes = last_non_zero == std::string::npos ? 0 : last_non_zero + 1;
  const std::string_view bytes(rest);
  // A record after the damage follows the last one read.
  const SequenceRange sequences{last_sequence_ + 1,
                                SequencesOf(segment().first_sequence, size_bytes).last};
  for (size_t start = 1; start + kWalRecordHeaderBytes <= bytes.size(); ++start) {
    if (IntactRecordBytes(bytes.substr(start), sequences) == 0) continue;
    ahead.intact_after = true;
    // A segment header is synced before any record is appended: a bad one is never torn so.
    ahead.unwritten_sectors =
        offset >= kWalSegmentHeaderBytes && HoldsUnwrittenSectors(bytes.substr(0, start), offset);
    break;
  }
  return ahead;
}

WalTail WalReader::CutBefore(Position position, std::string reason) const {
  CHECK_LT(position.segment_index, segments_.size());
  const Segment& at = segments_[position.segment_index];
  CHECK_LE(position.offset, at.size_bytes);
  WalTail cut{WalTail::Kind::kTornWrite,
              at.name,
              position.offset,
              0,
              segments_.size() - position.segment_index - 1,
              std::move(reason)};
  for (size_t i = position.segment_index; i < segments_.size(); ++i) {
    const Dropped dropped = MeasureDropped(i, i == position.segment_index ? position.offset : 0);
    cut.bytes_dropped += dropped.bytes;
    cut.records_dropped += dropped.records;
    // The damaged record at the cut counts too (a cut inside a header is at no record).
    if (i == position.segment_index && position.offset >= kWalSegmentHeaderBytes &&
        !dropped.intact_at_cut && dropped.bytes > 0) {
      ++cut.records_dropped;
    }
  }
  CHECK_LE(cut.bytes_dropped, TotalBytesFrom(position));
  return cut;
}

uint64_t WalReader::TotalBytesFrom(Position position) const {
  uint64_t total = segments_[position.segment_index].size_bytes - position.offset;
  for (size_t i = position.segment_index + 1; i < segments_.size(); ++i) {
    total += segments_[i].size_bytes;
  }
  return total;
}

// Reads the segment from `offset` on and walks it for intact records, resuming after each one
// and one byte further after anything else, from the first byte a record may start at.
WalReader::Dropped WalReader::MeasureDropped(size_t index, uint64_t offset) const {
  const Segment& at = segments_[index];
  CHECK_LE(offset, at.size_bytes);
  const Dropped whole{at.size_bytes - offset, 0, false};
  if (at.size_bytes > kWalSegmentBytesMax) return whole;  // never read past the bound
  Result<std::unique_ptr<RandomAccessFile>> file =
      env_->NewRandomAccessFile(JoinPath(dir_, at.name));
  if (!file.ok()) return whole;
  std::string rest;
  if (!(*file)->Read(offset, at.size_bytes - offset, &rest).ok() ||
      rest.size() != at.size_bytes - offset) {
    return whole;
  }
  const std::string_view bytes(rest);
  const size_t last_non_zero = bytes.find_last_not_of('\0');
  if (last_non_zero == std::string_view::npos) return Dropped{};
  Dropped dropped;
  size_t end = last_non_zero + 1;
  // No record starts in the header, nor where every byte left is zero (its type would be 0).
  const size_t records_from = offset < kWalSegmentHeaderBytes ? kWalSegmentHeaderBytes - offset : 0;
  size_t start = records_from;
  while (start <= last_non_zero) {
    const uint64_t record_bytes =
        IntactRecordBytes(bytes.substr(start), SequencesOf(at.first_sequence, at.size_bytes));
    if (record_bytes == 0) {
      ++start;
      continue;
    }
    dropped.intact_at_cut |= start == 0;
    ++dropped.records;
    start += record_bytes;
    end = std::max(end, start);
  }
  dropped.bytes = end;
  CHECK_LE(dropped.bytes, bytes.size());
  return dropped;
}

Status TruncateWal(Env* env, const std::string& dir, const WalTail& tail) {
  if (tail.kind == WalTail::Kind::kClean) {
    if (tail.file.empty()) return Status::Ok();
    CHECK_GE(tail.offset, kWalSegmentHeaderBytes) << "a reserve follows the header";
    return env->Truncate(JoinPath(dir, tail.file), tail.offset);
  }
  const std::optional<uint64_t> cut_sequence = ParseWalSegmentFileName(tail.file);
  CHECK(cut_sequence.has_value()) << "not a WAL segment: " << tail.file;
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::optional<uint64_t> first_sequence = ParseWalSegmentFileName(name);
    if (!first_sequence.has_value() || *first_sequence <= *cut_sequence) continue;
    Status status = env->RemoveFile(JoinPath(dir, name));
    if (!status.ok()) return status;
  }
  // The removals must be durable before the cut: a segment that came back after a crash would
  // then start past the cut's sequence and read as misplaced.
  if (Status status = env->SyncDir(dir); !status.ok()) return status;
  const std::string path = JoinPath(dir, tail.file);
  Status status = tail.offset < kWalSegmentHeaderBytes ? env->RemoveFile(path)
                                                       : env->Truncate(path, tail.offset);
  if (!status.ok()) return status;
  return env->SyncDir(dir);
}

}  // namespace podium::storage
