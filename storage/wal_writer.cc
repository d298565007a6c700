#include "storage/wal_writer.h"

#include <algorithm>
#include <utility>

#include "storage/wal_format.h"

namespace podium::storage {

Result<std::unique_ptr<WalWriter>> WalWriter::Open(Env* env, std::string dir,
                                                   uint64_t next_sequence,
                                                   WalWriterOptions options) {
  CHECK(env != nullptr);
  CHECK_GE(next_sequence, kWalSequenceFirst);
  CHECK_GE(options.segment_bytes_max, kWalSegmentHeaderBytes + kWalRecordHeaderBytes);
  CHECK_LE(options.segment_bytes_max, kWalSegmentBytesMax);
  std::unique_ptr<WalWriter> writer(new WalWriter(env, std::move(dir), next_sequence, options));
  Status status = writer->StartSegment();
  if (!status.ok()) return status;
  return writer;
}

WalWriter::WalWriter(Env* env, std::string dir, uint64_t next_sequence, WalWriterOptions options)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      next_sequence_(next_sequence),
      synced_sequence_(next_sequence - 1) {}

WalWriter::~WalWriter() {
  // A writer dropped without Close() leaves its unsynced records to the operating system; that
  // is a crash as far as the log is concerned, which recovery handles.
}

Status WalWriter::Fail(Status status) {
  CHECK(!status.ok());
  error_ = status;
  return status;
}

Status WalWriter::StartSegment() {
  CHECK(segment_ == nullptr);
  segment_name_ = WalSegmentFileName(next_sequence_);
  const std::string path = JoinPath(dir_, segment_name_);
  Result<std::unique_ptr<WritableFile>> file = env_->NewWritableFile(path);
  if (!file.ok()) return Fail(file.status());
  segment_ = std::move(file).value();
  CHECK_EQ(segment_->size(), 0u) << path;
  std::string header;
  AppendWalSegmentHeader(next_sequence_, &header);
  reserved_end_ = 0;
  Status status = segment_->Append(header);
  if (status.ok()) status = ExtendReserve(kWalSegmentHeaderBytes);
  if (status.ok()) status = segment_->Sync();
  if (status.ok()) status = env_->SyncDir(dir_);
  if (!status.ok()) return Fail(status);
  CHECK_EQ(segment_->size(), kWalSegmentHeaderBytes) << path;
  bytes_appended_ += kWalSegmentHeaderBytes;
  return Status::Ok();
}

// Keeps at least half a reserve of zeros written past the segment's end (`end`): when less is
// left, writes them up to a whole reserve past it, never past the segment's size limit. Called
// after each write, so the next writes (batches are small) land on zeros; a write bigger than
// what is left simply grows the file, once.
Status WalWriter::ExtendReserve(uint64_t end) {
  if (options_.reserve_bytes == 0 || end + options_.reserve_bytes / 2 <= reserved_end_) {
    return Status::Ok();
  }
  const uint64_t target = std::min(end + options_.reserve_bytes, options_.segment_bytes_max);
  if (target <= std::max(end, reserved_end_)) return Status::Ok();
  Status status = segment_->Reserve(target - end);
  if (!status.ok()) return Fail(status);
  reserved_end_ = target;
  return Status::Ok();
}

Status WalWriter::WritePending(bool top_up_reserve) {
  if (pending_.empty()) return Status::Ok();
  Status status = segment_->Append(pending_);
  if (!status.ok()) return Fail(status);
  pending_.clear();
  if (pending_.capacity() > kWalWriteBufferBytes) std::string().swap(pending_);
  return top_up_reserve ? ExtendReserve(segment_->size()) : Status::Ok();
}

Status WalWriter::FinishSegment() {
  CHECK(segment_ != nullptr);
  Status status = WritePending(/*top_up_reserve=*/false);  // the reserve is cut below
  if (status.ok()) status = segment_->Sync();
  if (status.ok()) status = segment_->Close();
  // The reserve's zeros would read as the segment's end anyway; cutting them keeps every
  // closed segment exactly its records.
  if (status.ok() && reserved_end_ > segment_->size()) {
    status = env_->Truncate(JoinPath(dir_, segment_name_), segment_->size());
  }
  if (!status.ok()) return Fail(status);
  segment_.reset();
  synced_sequence_ = next_sequence_ - 1;
  return Status::Ok();
}

Result<uint64_t> WalWriter::Append(uint8_t type, std::string_view payload) {
  CHECK(!closed_) << "Append after Close";
  if (!error_.ok()) return error_;
  if (!IsWalRecordType(type)) {
    return Status::InvalidArgument("WAL record type " + std::to_string(type) + " is reserved");
  }
  if (payload.size() > kWalRecordPayloadBytesMax) {
    return Status::LimitExceeded("WAL record payload of " + std::to_string(payload.size()) +
                                 " bytes is past kWalRecordBytesMax");
  }
  const uint64_t record_bytes = kWalRecordHeaderBytes + payload.size();
  if (segment_ != nullptr && segment_bytes() + record_bytes > options_.segment_bytes_max) {
    CHECK_GT(segment_bytes(), kWalSegmentHeaderBytes) << "a record must fit an empty segment";
    if (Status status = FinishSegment(); !status.ok()) return status;
  }
  if (segment_ == nullptr) {
    if (Status status = StartSegment(); !status.ok()) return status;
  }
  const uint64_t sequence = next_sequence_;
  const size_t pending_before = pending_.size();
  AppendWalRecord(type, sequence, payload, &pending_);
  CHECK_EQ(pending_.size() - pending_before, record_bytes);
  DCHECK(WalRecordChecksumMatches(std::string_view(pending_).substr(pending_before)));
  CHECK_LE(segment_bytes(), options_.segment_bytes_max) << segment_name_;
  ++next_sequence_;
  bytes_appended_ += record_bytes;
  if (pending_.size() >= kWalWriteBufferBytes) {
    if (Status status = WritePending(); !status.ok()) return status;
  }
  return sequence;
}

Status WalWriter::Flush() {
  CHECK(!closed_) << "Flush after Close";
  if (!error_.ok()) return error_;
  if (segment_ == nullptr) return Status::Ok();
  return WritePending();
}

Status WalWriter::Roll() {
  CHECK(!closed_) << "Roll after Close";
  if (!error_.ok()) return error_;
  if (segment_ == nullptr || segment_bytes() == kWalSegmentHeaderBytes) return Status::Ok();
  if (Status status = FinishSegment(); !status.ok()) return status;
  return StartSegment();
}

Status WalWriter::Sync() {
  CHECK(!closed_) << "Sync after Close";
  if (!error_.ok()) return error_;
  if (synced_sequence_ + 1 == next_sequence_) return Status::Ok();  // nothing new
  Status status = WritePending();
  if (status.ok()) status = segment_->Sync();
  if (!status.ok()) return Fail(status);
  synced_sequence_ = next_sequence_ - 1;
  return Status::Ok();
}

Status WalWriter::Close() {
  CHECK(!closed_) << "double Close";
  closed_ = true;
  if (!error_.ok()) return error_;
  if (segment_ == nullptr) return Status::Ok();
  return FinishSegment();
}

}  // namespace podium::storage
