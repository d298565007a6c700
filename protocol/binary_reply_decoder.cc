#include "protocol/binary_reply_decoder.h"

#include <glog/logging.h>

#include <algorithm>
#include <string>

#include "protocol/binary_format.h"
#include "protocol/limits.h"
#include "protocol/little_endian.h"

namespace podium::protocol {

namespace {

constexpr size_t kElementsReserved = 64;  // at most, before the elements are parsed

// Parses the value at `*position` of `frame`, at nesting `depth`, advancing `*position`; the
// arrays' elements are taken from *values_left (kReplyValuesMax per reply) before any is built.
// Returns an error message, empty on success.
std::string ParseValue(std::string_view frame, size_t depth, size_t* position, size_t* values_left,
                       ReplyValue* value) {
  const size_t pos = *position;
  if (pos >= frame.size()) return "value cut off by the end of the frame";
  const size_t left = frame.size() - pos - 1;  // after the type byte
  const auto type = static_cast<uint8_t>(frame[pos]);
  if (type > kValueTypeMax) return "unknown value type " + std::to_string(type);
  value->type = static_cast<ValueType>(type);
  const char* data = frame.data() + pos + 1;
  switch (value->type) {
    case ValueType::kNil:
      *position = pos + 1;
      return {};
    case ValueType::kInt64:
    case ValueType::kFloat64:
      if (left < 8) return "value cut off by the end of the frame";
      if (value->type == ValueType::kInt64) {
        value->int64 = static_cast<int64_t>(LoadU64(data));
      } else {
        value->float64 = LoadF64(data);
      }
      *position = pos + 1 + 8;
      return {};
    case ValueType::kBytes:
    case ValueType::kSimpleString:
    case ValueType::kError: {
      if (left < 4 || left - 4 < LoadU32(data)) return "value cut off by the end of the frame";
      const size_t size = LoadU32(data);
      value->bytes.assign(data + 4, size);
      value->status = value->type == ValueType::kError ? StatusCode::kErr : StatusCode::kOk;
      *position = pos + 1 + 4 + size;
      return {};
    }
    case ValueType::kArray: {
      if (left < 4) return "value cut off by the end of the frame";
      const size_t count = LoadU32(data);
      if (count > left - 4) {
        return "array of " + std::to_string(count) + " values does not fit in the frame";
      }
      if (count > 0 && depth >= kReplyNestingDepthMax) {
        return "arrays nested deeper than " + std::to_string(kReplyNestingDepthMax);
      }
      if (count > *values_left) {
        return "reply holds more than " + std::to_string(kReplyValuesMax) + " values";
      }
      *values_left -= count;
      *position = pos + 1 + 4;
      value->elements.clear();
      value->elements.reserve(std::min(count, kElementsReserved));
      for (size_t i = 0; i < count; ++i) {
        value->elements.emplace_back();
        std::string error =
            ParseValue(frame, depth + 1, position, values_left, &value->elements.back());
        if (!error.empty()) return error;
      }
      return {};
    }
  }
  return "unknown value type";
}

DecodeResult Fail(const std::string& what) {
  return DecodeResult::Error("Protocol error: " + what);
}

}  // namespace

DecodeResult BinaryReplyDecoder::Decode(std::string_view input, size_t reply_size_bytes_max,
                                        BinaryReply* reply) const {
  DCHECK_LE(reply_size_bytes_max, kReplySizeBytesMax);
  if (input.size() < kLengthFieldSizeBytes) return DecodeResult::NeedMore();
  const uint64_t frame_size = uint64_t{kLengthFieldSizeBytes} + LoadU32(input.data());
  if (frame_size > reply_size_bytes_max) {
    return Fail("reply of " + std::to_string(frame_size) + " bytes exceeds the limit of " +
                std::to_string(reply_size_bytes_max) + " bytes");
  }
  if (frame_size < kReplySizeBytesMin) {
    return Fail("reply frame of " + std::to_string(frame_size) + " bytes is shorter than " +
                std::to_string(kReplySizeBytesMin));
  }
  if (input.size() < frame_size) return DecodeResult::NeedMore();

  const std::string_view frame = input.substr(0, frame_size);
  const uint16_t flags = LoadU16(frame.data() + kFlagsOffset);
  if (flags != 0) return Fail("reserved reply flags " + std::to_string(flags) + " set");
  reply->request_id = LoadU32(frame.data() + kRequestIdOffset);
  reply->status = static_cast<StatusCode>(LoadU16(frame.data() + kStatusOffset));
  reply->value = ReplyValue();
  size_t position = kFrameHeaderSizeBytes;
  size_t values_left = kReplyValuesMax;
  std::string error = ParseValue(frame, 0, &position, &values_left, &reply->value);
  if (!error.empty()) return Fail(error);
  if (position != frame.size()) {
    return Fail(std::to_string(frame.size() - position) + " bytes after the reply value");
  }
  const bool is_error = reply->value.type == ValueType::kError;
  if (is_error != (reply->status != StatusCode::kOk)) {
    return Fail("status " + std::to_string(static_cast<int>(reply->status)) + " with " +
                (is_error ? "an error" : "a non-error") + " value");
  }
  if (is_error) reply->value.status = reply->status;
  return DecodeResult::Complete(frame.size());
}

}  // namespace podium::protocol
