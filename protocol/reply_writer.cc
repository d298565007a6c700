#include "protocol/reply_writer.h"

#include <glog/logging.h>

#include <string>

namespace podium::protocol {
namespace {

std::string TooLargeMessage(size_t reply_size_bytes, size_t reply_size_bytes_max) {
  return "reply of " + std::to_string(reply_size_bytes) + " bytes exceeds the limit of " +
         std::to_string(reply_size_bytes_max) + " bytes";
}

}  // namespace

ReplyWriter::ReplyWriter(std::string* out, size_t reply_size_bytes_max)
    : out_(out), reply_size_bytes_max_(reply_size_bytes_max) {
  CHECK(out != nullptr);
  CHECK_LE(reply_size_bytes_max, kReplySizeBytesMax);
}

void ReplyWriter::BeginReply(uint32_t request_id) {
  CHECK(!in_reply_) << "BeginReply inside a reply";
  in_reply_ = true;
  value_done_ = false;
  depth_ = 0;
  status_ = StatusCode::kOk;
  request_id_ = request_id;
  reply_start_ = out_->size();
  WriteBegin(request_id);
}

void ReplyWriter::CancelReply() {
  CHECK(in_reply_) << "CancelReply without BeginReply";
  CHECK(!value_done_ && depth_ == 0) << "CancelReply after a value was written";
  in_reply_ = false;
  out_->resize(reply_start_);
}

void ReplyWriter::EndReply() {
  CHECK(in_reply_) << "EndReply without BeginReply";
  CHECK(value_done_) << "a reply needs exactly one complete value (arrays: all their elements)";
  in_reply_ = false;
  const size_t size = out_->size() - reply_start_;
  if (size <= reply_size_bytes_max_) {
    WriteEnd(status_);
    return;
  }
  out_->resize(reply_start_);
  WriteBegin(request_id_);
  WriteError(StatusCode::kLimit, TooLargeMessage(size, reply_size_bytes_max_));
  WriteEnd(StatusCode::kLimit);
}

template <typename Write>
size_t ReplyWriter::Measure(Write write) {
  DCHECK(in_reply_) << "measuring a value outside BeginReply/EndReply";
  const size_t end = out_->size();
  write();
  const size_t size = out_->size() - end;
  out_->resize(end);
  return size;
}

size_t ReplyWriter::BytesSize(std::string_view bytes) {
  return Measure([&] { WriteBytes(bytes); });
}

size_t ReplyWriter::DoubleSize(double value) {
  return Measure([&] { WriteDouble(value); });
}

size_t ReplyWriter::ArrayHeaderSize(size_t count) {
  return Measure([&] { WriteArrayHeader(count); });
}

void ReplyWriter::ErrorTooLarge(size_t reply_size_bytes) {
  DCHECK_GT(reply_size_bytes, reply_size_bytes_max_);
  DCHECK(depth_ == 0) << "ErrorTooLarge is the whole reply, not a value in an array";
  Error(StatusCode::kLimit, TooLargeMessage(reply_size_bytes, reply_size_bytes_max_));
}

void ReplyWriter::BeforeValue() const {
  DCHECK(in_reply_) << "a value outside BeginReply/EndReply";
  DCHECK(!value_done_) << "a second value in one reply";
}

void ReplyWriter::ValueCompleted() {
  while (depth_ > 0) {
    if (--remaining_[depth_] > 0) return;
    --depth_;  // that value completed an array, which is a value of its parent
  }
  value_done_ = true;
}

void ReplyWriter::Nil() {
  BeforeValue();
  WriteNil();
  ValueCompleted();
}

void ReplyWriter::Integer(int64_t value) {
  BeforeValue();
  WriteInteger(value);
  ValueCompleted();
}

void ReplyWriter::Double(double value) {
  BeforeValue();
  WriteDouble(value);
  ValueCompleted();
}

void ReplyWriter::Bytes(std::string_view bytes) {
  BeforeValue();
  WriteBytes(bytes);
  ValueCompleted();
}

void ReplyWriter::SimpleString(std::string_view text) {
  BeforeValue();
  WriteSimpleString(text);
  ValueCompleted();
}

void ReplyWriter::ArrayHeader(size_t count) {
  BeforeValue();
  WriteArrayHeader(count);
  if (count == 0) {
    ValueCompleted();
    return;
  }
  CHECK_LT(depth_, kReplyNestingDepthMax) << "reply arrays nested too deep";
  ++depth_;
  remaining_[depth_] = count;
}

void ReplyWriter::Error(StatusCode code, std::string_view message) {
  BeforeValue();
  DCHECK(code != StatusCode::kOk);
  if (depth_ == 0) status_ = code;
  WriteError(code, message);
  ValueCompleted();
}

}  // namespace podium::protocol
