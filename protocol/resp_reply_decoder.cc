#include "protocol/resp_reply_decoder.h"

#include <glog/logging.h>

#include <algorithm>

#include "protocol/limits.h"
#include "protocol/number_text.h"

namespace podium::protocol {

namespace {

constexpr size_t kElementsReserved = 64;  // at most, before the elements are built

std::string TooLarge(size_t reply_size_bytes_max) {
  return "Protocol error: reply exceeds the limit of " + std::to_string(reply_size_bytes_max) +
         " bytes";
}

// The second pass: builds the element at `*position` from bytes the scan already checked.
void BuildValue(std::string_view input, size_t* position, ReplyValue* value) {
  const size_t pos = *position;
  const char type = input[pos];
  const size_t cr = input.find('\r', pos + 1);
  DCHECK_NE(cr, std::string_view::npos);
  const std::string_view line = input.substr(pos + 1, cr - pos - 1);
  *position = cr + 2;
  if (type == '+') {
    *value = ReplyValue::SimpleString(line);
  } else if (type == '-') {
    *value = ReplyValue::Error(StatusCodeFromRespError(line), line);
  } else if (type == ':') {
    *value = ReplyValue::Int64(ParseInt64(line).value_or(0));
  } else {
    DCHECK(type == '$' || type == '*');
    const int64_t count = ParseInt64(line).value_or(-1);
    if (count < 0) {
      *value = ReplyValue::Nil();
    } else if (type == '$') {
      *value = ReplyValue::Bytes(input.substr(cr + 2, static_cast<size_t>(count)));
      *position = cr + 2 + static_cast<size_t>(count) + 2;
    } else {
      *value = ReplyValue::Array({});
      value->elements.reserve(std::min(static_cast<size_t>(count), kElementsReserved));
      for (int64_t i = 0; i < count; ++i) {
        value->elements.emplace_back();
        BuildValue(input, position, &value->elements.back());
      }
    }
  }
}

}  // namespace

void RespReplyDecoder::Reset() {
  position_ = 0;
  line_scanned_ = 0;
  depth_ = 0;
  values_declared_ = 0;
}

RespReplyDecoder::Step RespReplyDecoder::Fail(std::string message) {
  error_message_ = std::move(message);
  return Step::kError;
}

DecodeResult RespReplyDecoder::Decode(std::string_view input, size_t reply_size_bytes_max,
                                      ReplyValue* reply) {
  DCHECK_LE(reply_size_bytes_max, kReplySizeBytesMax);
  while (true) {
    switch (ScanElement(input, reply_size_bytes_max)) {
      case Step::kNeedMore:
        return DecodeResult::NeedMore();
      case Step::kError:
        Reset();
        return DecodeResult::Error(std::move(error_message_));
      case Step::kArrayOpened:
        continue;
      case Step::kElementDone:
        break;
    }
    bool reply_done = true;
    while (depth_ > 0) {
      if (--remaining_[depth_] > 0) {
        reply_done = false;
        break;
      }
      --depth_;  // the element completed an array, which is an element of its parent
    }
    if (!reply_done) continue;
    size_t built = 0;
    BuildValue(input, &built, reply);
    DCHECK_EQ(built, position_);
    const size_t consumed = position_;
    Reset();
    return DecodeResult::Complete(consumed);
  }
}

RespReplyDecoder::Step RespReplyDecoder::ScanElement(std::string_view input,
                                                     size_t reply_size_bytes_max) {
  if (position_ >= input.size()) return Step::kNeedMore;
  const char type = input[position_];
  if (type != '+' && type != '-' && type != ':' && type != '$' && type != '*') {
    return Fail(std::string("Protocol error: unknown reply type '") + type + "'");
  }
  // Length lines are short; simple strings and errors may be long, so their search resumes.
  const bool length_line = type == ':' || type == '$' || type == '*';
  const size_t search_from = std::max(line_scanned_, position_ + 1);
  const size_t search_end =
      length_line ? std::min(input.size(), position_ + kRespLengthLineBytesMax) : input.size();
  size_t cr = std::string_view::npos;
  if (search_from < search_end) {
    cr = input.substr(search_from, search_end - search_from).find('\r');
    if (cr != std::string_view::npos) cr += search_from;
  }
  if (cr == std::string_view::npos) {
    line_scanned_ = std::max(search_from, search_end);
    if (length_line && search_end - position_ >= kRespLengthLineBytesMax) {
      return Fail("Protocol error: too big count string");
    }
    if (input.size() > reply_size_bytes_max) return Fail(TooLarge(reply_size_bytes_max));
    return Step::kNeedMore;
  }
  line_scanned_ = cr;  // found: the next call finds it again at once
  if (cr + 1 >= input.size()) return Step::kNeedMore;
  if (input[cr + 1] != '\n') return Fail("Protocol error: expected CRLF");
  const std::string_view line = input.substr(position_ + 1, cr - position_ - 1);
  const size_t next = cr + 2;
  if (next > reply_size_bytes_max) return Fail(TooLarge(reply_size_bytes_max));

  if (!length_line) {  // a simple string or an error
    position_ = next;
    line_scanned_ = 0;
    return Step::kElementDone;
  }
  const std::optional<int64_t> parsed = ParseInt64(line);
  const int64_t number = parsed.value_or(-2);
  if (type == ':' && !parsed) return Fail("Protocol error: invalid integer");
  if (type == '$' && number < -1) return Fail("Protocol error: invalid bulk length");
  if (type == '*' && number < -1) return Fail("Protocol error: invalid multibulk length");
  if (type == '$' && number >= 0) {
    const auto size = static_cast<size_t>(number);
    if (size > reply_size_bytes_max || next + size + 2 > reply_size_bytes_max) {
      return Fail(TooLarge(reply_size_bytes_max));
    }
    if (input.size() - next < size + 2) return Step::kNeedMore;
    if (input[next + size] != '\r' || input[next + size + 1] != '\n') {
      return Fail("Protocol error: expected CRLF after bulk string");
    }
    position_ = next + size + 2;
    line_scanned_ = 0;
    return Step::kElementDone;
  }
  if (type == '*' && number > 0) {
    if (static_cast<size_t>(number) >
        (reply_size_bytes_max - next) / kRespReplyElementSizeBytesMin) {
      return Fail(TooLarge(reply_size_bytes_max));
    }
    if (depth_ >= kReplyNestingDepthMax) return Fail("Protocol error: reply nested too deep");
    if (static_cast<size_t>(number) > kReplyValuesMax - values_declared_) {
      return Fail("Protocol error: reply holds more than " + std::to_string(kReplyValuesMax) +
                  " values");
    }
    values_declared_ += static_cast<size_t>(number);
    position_ = next;
    line_scanned_ = 0;
    remaining_[++depth_] = number;
    return Step::kArrayOpened;
  }
  position_ = next;
  line_scanned_ = 0;
  return Step::kElementDone;
}

}  // namespace podium::protocol
