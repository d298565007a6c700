#include "protocol/resp_reply_writer.h"

#include <algorithm>

#include "protocol/number_text.h"

namespace podium::protocol {

void RespReplyWriter::WriteBegin(uint32_t /*request_id*/) {}

void RespReplyWriter::WriteEnd(StatusCode /*status*/) {}

void RespReplyWriter::AppendLine(char type, std::string_view first, std::string_view second) {
  const size_t start = out_->size();
  out_->push_back(type);
  out_->append(first);
  if (!first.empty() && !second.empty()) out_->push_back(' ');
  out_->append(second);
  const auto is_line_end = [](char c) { return c == '\r' || c == '\n'; };
  std::replace_if(out_->begin() + static_cast<ptrdiff_t>(start) + 1, out_->end(), is_line_end, ' ');
  out_->append("\r\n");
}

void RespReplyWriter::AppendNumberLine(char type, int64_t value) {
  char line[1 + kNumberTextBytesMax + 2];
  char digits[kNumberTextBytesMax];
  const size_t size = FormatInt64(value, digits);
  line[0] = type;
  std::copy(digits, digits + size, line + 1);
  line[1 + size] = '\r';
  line[2 + size] = '\n';
  out_->append(line, size + 3);
}

void RespReplyWriter::WriteNil() { out_->append("$-1\r\n"); }

void RespReplyWriter::WriteInteger(int64_t value) { AppendNumberLine(':', value); }

void RespReplyWriter::WriteDouble(double value) {
  char text[kNumberTextBytesMax];
  WriteBytes({text, FormatDouble(value, text)});
}

void RespReplyWriter::WriteBytes(std::string_view bytes) {
  AppendNumberLine('$', static_cast<int64_t>(bytes.size()));
  out_->append(bytes);
  out_->append("\r\n");
}

void RespReplyWriter::WriteSimpleString(std::string_view text) { AppendLine('+', text, {}); }

void RespReplyWriter::WriteArrayHeader(size_t count) {
  AppendNumberLine('*', static_cast<int64_t>(count));
}

void RespReplyWriter::WriteError(StatusCode code, std::string_view message) {
  AppendLine('-', RespErrorCode(code), message);
}

}  // namespace podium::protocol
