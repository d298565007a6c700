#include "storage/wal_writer.h"

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
  Status status = segment_->Append(header);
  if (status.ok()) status = segment_->Sync();
  if (status.ok()) status = env_->SyncDir(dir_);
  if (!status.ok()) return Fail(status);
  CHECK_EQ(segment_->size(), kWalSegmentHeaderBytes) << path;
  return Status::Ok();
}

Status WalWriter::FinishSegment() {
  CHECK(segment_ != nullptr);
  Status status = segment_->Sync();
  if (status.ok()) status = segment_->Close();
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
  if (segment_->size() + record_bytes > options_.segment_bytes_max) {
    CHECK_GT(segment_->size(), kWalSegmentHeaderBytes) << "a record must fit an empty segment";
    Status status = FinishSegment();
    if (status.ok()) status = StartSegment();
    if (!status.ok()) return status;
  }
  buffer_.clear();
  const uint64_t sequence = next_sequence_;
  AppendWalRecord(type, sequence, payload, &buffer_);
  CHECK_EQ(buffer_.size(), record_bytes);
  DCHECK(WalRecordChecksumMatches(buffer_));
  const uint64_t size_before = segment_->size();
  Status status = segment_->Append(buffer_);
  if (!status.ok()) return Fail(status);
  CHECK_EQ(segment_->size(), size_before + record_bytes) << segment_name_;
  CHECK_LE(segment_->size(), options_.segment_bytes_max) << segment_name_;
  ++next_sequence_;
  return sequence;
}

Status WalWriter::Sync() {
  CHECK(!closed_) << "Sync after Close";
  if (!error_.ok()) return error_;
  if (synced_sequence_ + 1 == next_sequence_) return Status::Ok();  // nothing new
  Status status = segment_->Sync();
  if (!status.ok()) return Fail(status);
  synced_sequence_ = next_sequence_ - 1;
  return Status::Ok();
}

Status WalWriter::Close() {
  CHECK(!closed_) << "double Close";
  closed_ = true;
  if (!error_.ok()) return error_;
  return FinishSegment();
}

}  // namespace podium::storage
