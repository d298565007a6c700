#include "client/reply_format.h"

#include "protocol/number_text.h"
#include "protocol/status_codes.h"

namespace podium::client {

namespace {

using protocol::ReplyValue;
using protocol::ValueType;

// redis-cli's sdscatrepr: quoted, escaping what is not printable ASCII.
void AppendQuoted(std::string_view bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char c : bytes) {
    switch (c) {
      case '\\':
      case '"':
        out->push_back('\\');
        out->push_back(c);
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (c >= ' ' && c <= '~') {
          out->push_back(c);
        } else {
          const auto byte = static_cast<unsigned char>(c);
          out->append("\\x");
          out->push_back(kHex[byte >> 4]);
          out->push_back(kHex[byte & 15]);
        }
    }
  }
  out->push_back('"');
}

std::string DoubleText(double value) {
  char text[protocol::kNumberTextBytesMax];
  return std::string(text, protocol::FormatDouble(value, text));
}

// redis-cli's cliFormatReplyTTY. `prefix` is the indentation of the lines after the first.
void AppendTty(const ReplyValue& reply, ClientProtocol protocol, const std::string& prefix,
               std::string* out) {
  switch (reply.type) {
    case ValueType::kNil:
      out->append("(nil)\n");
      return;
    case ValueType::kInt64:
      out->append("(integer) ").append(std::to_string(reply.int64)).append("\n");
      return;
    case ValueType::kFloat64:
      AppendQuoted(DoubleText(reply.float64), out);
      out->push_back('\n');
      return;
    case ValueType::kBytes:
      AppendQuoted(reply.bytes, out);
      out->push_back('\n');
      return;
    case ValueType::kSimpleString:
      out->append(reply.bytes).append("\n");
      return;
    case ValueType::kError:
      out->append("(error) ").append(ErrorLine(reply, protocol)).append("\n");
      return;
    case ValueType::kArray:
      break;
  }
  if (reply.elements.empty()) {
    out->append("(empty array)\n");
    return;
  }
  const size_t width = std::to_string(reply.elements.size()).size();
  const std::string nested_prefix = prefix + std::string(width + 2, ' ');
  for (size_t i = 0; i < reply.elements.size(); ++i) {
    if (i > 0) out->append(prefix);
    const std::string number = std::to_string(i + 1);
    out->append(width - number.size(), ' ').append(number).append(") ");
    AppendTty(reply.elements[i], protocol, nested_prefix, out);
  }
}

// redis-cli's cliFormatReplyRaw.
void AppendRaw(const ReplyValue& reply, ClientProtocol protocol, std::string* out) {
  switch (reply.type) {
    case ValueType::kNil:
      return;
    case ValueType::kInt64:
      out->append(std::to_string(reply.int64));
      return;
    case ValueType::kFloat64:
      out->append(DoubleText(reply.float64));
      return;
    case ValueType::kBytes:
    case ValueType::kSimpleString:
      out->append(reply.bytes);
      return;
    case ValueType::kError:
      out->append(ErrorLine(reply, protocol)).append("\n");
      return;
    case ValueType::kArray:
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        if (i > 0) out->push_back('\n');
        AppendRaw(reply.elements[i], protocol, out);
      }
      return;
  }
}

}  // namespace

std::string ErrorLine(const ReplyValue& error, ClientProtocol protocol) {
  if (protocol == ClientProtocol::kResp) return error.bytes;
  std::string line(protocol::RespErrorCode(error.status));
  if (!error.bytes.empty()) line.append(" ").append(error.bytes);
  return line;
}

std::string FormatReply(const ReplyValue& reply, ClientProtocol protocol) {
  std::string out;
  AppendTty(reply, protocol, "", &out);
  return out;
}

std::string FormatReplyRaw(const ReplyValue& reply, ClientProtocol protocol) {
  std::string out;
  AppendRaw(reply, protocol, &out);
  out.push_back('\n');
  return out;
}

}  // namespace podium::client
