#include "protocol/binary_reply_writer.h"

#include <glog/logging.h>

#include <bit>

#include "protocol/binary_format.h"
#include "protocol/little_endian.h"

namespace podium::protocol {

void BinaryReplyWriter::WriteBegin(uint32_t request_id) {
  char header[kFrameHeaderSizeBytes];
  StoreU32(header, 0);  // length, patched by WriteEnd
  StoreU32(header + kRequestIdOffset, request_id);
  StoreU16(header + kStatusOffset, 0);  // status, patched by WriteEnd
  StoreU16(header + kFlagsOffset, 0);
  out_->append(header, sizeof(header));
}

void BinaryReplyWriter::WriteEnd(StatusCode status) {
  const size_t frame_size = out_->size() - reply_start_;
  DCHECK_GE(frame_size, kReplySizeBytesMin);
  CHECK_LE(frame_size, kReplySizeBytesMax);  // EndReply replaced anything bigger
  char* frame = out_->data() + reply_start_;
  StoreU32(frame, static_cast<uint32_t>(frame_size - kLengthFieldSizeBytes));
  StoreU16(frame + kStatusOffset, static_cast<uint16_t>(status));
}

void BinaryReplyWriter::WriteNil() { AppendU8(out_, static_cast<uint8_t>(ValueType::kNil)); }

void BinaryReplyWriter::WriteInteger(int64_t value) {
  char value_bytes[1 + 8];
  value_bytes[0] = static_cast<char>(ValueType::kInt64);
  StoreU64(value_bytes + 1, static_cast<uint64_t>(value));
  out_->append(value_bytes, sizeof(value_bytes));
}

void BinaryReplyWriter::WriteDouble(double value) {
  char value_bytes[1 + 8];
  value_bytes[0] = static_cast<char>(ValueType::kFloat64);
  StoreU64(value_bytes + 1, std::bit_cast<uint64_t>(value));
  out_->append(value_bytes, sizeof(value_bytes));
}

void BinaryReplyWriter::AppendSized(ValueType type, std::string_view bytes) {
  CHECK_LE(bytes.size(), UINT32_MAX);
  char header[1 + 4];
  header[0] = static_cast<char>(type);
  StoreU32(header + 1, static_cast<uint32_t>(bytes.size()));
  out_->append(header, sizeof(header));
  out_->append(bytes);
}

void BinaryReplyWriter::WriteBytes(std::string_view bytes) {
  AppendSized(ValueType::kBytes, bytes);
}

void BinaryReplyWriter::WriteSimpleString(std::string_view text) {
  AppendSized(ValueType::kSimpleString, text);
}

void BinaryReplyWriter::WriteArrayHeader(size_t count) {
  CHECK_LE(count, UINT32_MAX);
  char header[1 + 4];
  header[0] = static_cast<char>(ValueType::kArray);
  StoreU32(header + 1, static_cast<uint32_t>(count));
  out_->append(header, sizeof(header));
}

void BinaryReplyWriter::WriteError(StatusCode /*code*/, std::string_view message) {
  AppendSized(ValueType::kError, message);
}

}  // namespace podium::protocol
