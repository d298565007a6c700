#include "protocol/reply_value.h"

#include <bit>
#include <utility>

#include "protocol/number_text.h"

namespace podium::protocol {

ReplyValue ReplyValue::Int64(int64_t value) {
  ReplyValue reply;
  reply.type = ValueType::kInt64;
  reply.int64 = value;
  return reply;
}

ReplyValue ReplyValue::Float64(double value) {
  ReplyValue reply;
  reply.type = ValueType::kFloat64;
  reply.float64 = value;
  return reply;
}

ReplyValue ReplyValue::Bytes(std::string_view bytes) {
  ReplyValue reply;
  reply.type = ValueType::kBytes;
  reply.bytes = bytes;
  return reply;
}

ReplyValue ReplyValue::SimpleString(std::string_view text) {
  ReplyValue reply;
  reply.type = ValueType::kSimpleString;
  reply.bytes = text;
  return reply;
}

ReplyValue ReplyValue::Error(StatusCode status, std::string_view text) {
  ReplyValue reply;
  reply.type = ValueType::kError;
  reply.status = status;
  reply.bytes = text;
  return reply;
}

ReplyValue ReplyValue::Array(std::vector<ReplyValue> elements) {
  ReplyValue reply;
  reply.type = ValueType::kArray;
  reply.elements = std::move(elements);
  return reply;
}

std::string ReplyValue::ToString() const {
  std::string text;
  char number[kNumberTextBytesMax];
  switch (type) {
    case ValueType::kNil:
      return "nil";
    case ValueType::kInt64:
      return std::string(number, FormatInt64(int64, number));
    case ValueType::kFloat64:
      return std::string(number, FormatDouble(float64, number)) + "d";
    case ValueType::kBytes:
      text = "\"";
      for (char c : bytes) {
        if (c == '"' || c == '\\') {
          text += '\\';
          text += c;
        } else if (c >= ' ' && c <= '~') {
          text += c;
        } else {
          static constexpr char kHex[] = "0123456789abcdef";
          const auto byte = static_cast<unsigned char>(c);
          text += "\\x";
          text += kHex[byte >> 4];
          text += kHex[byte & 15];
        }
      }
      return text + "\"";
    case ValueType::kSimpleString:
      return "+" + bytes;
    case ValueType::kError:
      return "-" + std::string(StatusCodeName(status)) + " " + bytes;
    case ValueType::kArray:
      text = "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) text += ", ";
        text += elements[i].ToString();
      }
      return text + "]";
  }
  return "?";
}

bool operator==(const ReplyValue& a, const ReplyValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::kNil:
      return true;
    case ValueType::kInt64:
      return a.int64 == b.int64;
    case ValueType::kFloat64:
      return std::bit_cast<uint64_t>(a.float64) == std::bit_cast<uint64_t>(b.float64);
    case ValueType::kBytes:
    case ValueType::kSimpleString:
      return a.bytes == b.bytes;
    case ValueType::kError:
      return a.status == b.status && a.bytes == b.bytes;
    case ValueType::kArray:
      return a.elements == b.elements;
  }
  return false;
}

}  // namespace podium::protocol
