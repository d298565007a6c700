#include "protocol/reply_writer.h"

#include <glog/logging.h>

namespace podium::protocol {

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
  WriteError(StatusCode::kLimit, "reply of " + std::to_string(size) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(reply_size_bytes_max_) + " bytes");
  WriteEnd(StatusCode::kLimit);
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
