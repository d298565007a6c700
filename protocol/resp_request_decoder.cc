#include "protocol/resp_request_decoder.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstring>

#include "protocol/inline_command.h"
#include "protocol/number_text.h"

namespace podium::protocol {

namespace {

// What spans_ may reserve for a declared count before any argument arrives, and what it may
// keep between requests.
constexpr size_t kSpansReserved = 16;
constexpr size_t kSpansKeptMax = 1024;
// What the inline command's word list and unescaped words may keep between requests.
constexpr size_t kInlineWordsKeptMax = 1024;
constexpr size_t kInlineScratchKeptBytesMax = size_t{4} << 10;

static_assert(kInlineRequestSizeBytesMax / 2 <= kArgumentsPerRequestMax + 1,
              "an inline line cannot hold more words than the argument limit");

// The position of the CR ending the length line that starts at input[start] (its type byte),
// searched within kRespLengthLineBytesMax; npos if not there yet, `too_long` if it never will be.
size_t FindLengthLineEnd(std::string_view input, size_t start, bool* too_long) {
  const size_t window = std::min(input.size() - start, kRespLengthLineBytesMax);
  const size_t cr = input.substr(start, window).find('\r');
  *too_long = cr == std::string_view::npos && window == kRespLengthLineBytesMax;
  return cr == std::string_view::npos ? cr : start + cr;
}

std::string TooLarge(size_t request_size_bytes_max) {
  return "Protocol error: request exceeds the limit of " + std::to_string(request_size_bytes_max) +
         " bytes";
}

}  // namespace

void RespRequestDecoder::Reset() {
  count_parsed_ = false;
  position_ = 0;
  arguments_left_ = 0;
  bulk_size_ = -1;
  spans_.clear();
  if (spans_.capacity() > kSpansKeptMax) spans_ = {};
}

void RespRequestDecoder::ReleaseInlineBuffers() {
  if (words_.capacity() > kInlineWordsKeptMax) words_ = {};
  if (scratch_.capacity() > kInlineScratchKeptBytesMax) std::string().swap(scratch_);
}

RespRequestDecoder::Step RespRequestDecoder::Fail(std::string message) {
  error_message_ = std::move(message);
  return Step::kError;
}

DecodeResult RespRequestDecoder::Decode(std::string_view input, size_t request_size_bytes_max,
                                        Request* request) {
  DCHECK_LE(request_size_bytes_max, kRequestSizeBytesMax);
  size_t skipped = 0;  // bytes of empty commands before the request
  while (skipped < input.size()) {
    const std::string_view rest = input.substr(skipped);
    const Step step = rest[0] == '*' ? DecodeMultibulk(rest, request_size_bytes_max, request)
                                     : DecodeInline(rest, request_size_bytes_max, request);
    switch (step) {
      case Step::kRequest:
        Reset();
        return DecodeResult::Complete(skipped + consumed_bytes_);
      case Step::kEmpty:
        Reset();
        skipped += consumed_bytes_;
        break;
      case Step::kNeedMore:
        return DecodeResult::NeedMore(skipped);
      case Step::kError:
        Reset();
        return DecodeResult::Error(std::move(error_message_));
      case Step::kContinue:
        LOG(FATAL) << "kContinue escaped a parsing step";
    }
  }
  return DecodeResult::NeedMore(skipped);
}

RespRequestDecoder::Step RespRequestDecoder::ParseCountLine(std::string_view input,
                                                            size_t request_size_bytes_max) {
  bool too_long = false;
  const size_t cr = FindLengthLineEnd(input, 0, &too_long);
  if (too_long) return Fail("Protocol error: too big mbulk count string");
  if (cr == std::string_view::npos || cr + 1 >= input.size()) return Step::kNeedMore;
  const std::optional<int64_t> count = ParseInt64(input.substr(1, cr - 1));
  if (!count || input[cr + 1] != '\n' ||
      *count > static_cast<int64_t>(kArgumentsPerRequestMax) + 1) {
    return Fail("Protocol error: invalid multibulk length");
  }
  consumed_bytes_ = cr + 2;
  if (*count <= 0) return Step::kEmpty;
  const auto arguments = static_cast<size_t>(*count);
  if (consumed_bytes_ + arguments * kRespArgumentSizeBytesMin > request_size_bytes_max) {
    return Fail(TooLarge(request_size_bytes_max));
  }
  count_parsed_ = true;
  position_ = consumed_bytes_;
  arguments_left_ = arguments;
  spans_.reserve(std::min(arguments, kSpansReserved));
  return Step::kContinue;
}

RespRequestDecoder::Step RespRequestDecoder::ParseBulkLengthLine(std::string_view input,
                                                                 size_t request_size_bytes_max) {
  if (position_ >= input.size()) return Step::kNeedMore;
  if (input[position_] != '$') {
    return Fail(std::string("Protocol error: expected '$', got '") + input[position_] + "'");
  }
  bool too_long = false;
  const size_t cr = FindLengthLineEnd(input, position_, &too_long);
  if (too_long) return Fail("Protocol error: too big bulk count string");
  if (cr == std::string_view::npos || cr + 1 >= input.size()) return Step::kNeedMore;
  const std::optional<int64_t> size = ParseInt64(input.substr(position_ + 1, cr - position_ - 1));
  if (!size || input[cr + 1] != '\n' || *size < 0 ||
      *size > static_cast<int64_t>(kArgumentSizeBytesMax)) {
    return Fail("Protocol error: invalid bulk length");
  }
  position_ = cr + 2;
  bulk_size_ = *size;
  // This argument's bytes and the smallest encoding of the ones after it.
  const size_t still_needed =
      static_cast<size_t>(*size) + 2 + (arguments_left_ - 1) * kRespArgumentSizeBytesMin;
  if (position_ + still_needed > request_size_bytes_max) {
    return Fail(TooLarge(request_size_bytes_max));
  }
  return Step::kContinue;
}

RespRequestDecoder::Step RespRequestDecoder::DecodeMultibulk(std::string_view input,
                                                             size_t request_size_bytes_max,
                                                             Request* request) {
  if (!count_parsed_) {
    const Step step = ParseCountLine(input, request_size_bytes_max);
    if (step != Step::kContinue) return step;
  }
  while (arguments_left_ > 0) {
    if (bulk_size_ < 0) {
      const Step step = ParseBulkLengthLine(input, request_size_bytes_max);
      if (step != Step::kContinue) return step;
    }
    const auto size = static_cast<size_t>(bulk_size_);
    if (input.size() - position_ < size + 2) return Step::kNeedMore;
    if (input[position_ + size] != '\r' || input[position_ + size + 1] != '\n') {
      return Fail("Protocol error: expected CRLF after bulk string");
    }
    spans_.push_back({position_, size});
    position_ += size + 2;
    bulk_size_ = -1;
    --arguments_left_;
  }
  DCHECK(!spans_.empty());
  DCHECK_LE(position_, request_size_bytes_max);
  request->request_id = 0;
  request->name = input.substr(spans_[0].offset, spans_[0].size);
  const CommandName* command = FindCommand(request->name);
  request->opcode = command != nullptr ? command->opcode : Opcode::kNone;
  request->args.resize(spans_.size() - 1);
  for (size_t i = 1; i < spans_.size(); ++i) {
    request->args[i - 1] = Argument::Bytes(input.substr(spans_[i].offset, spans_[i].size));
  }
  consumed_bytes_ = position_;
  return Step::kRequest;
}

RespRequestDecoder::Step RespRequestDecoder::DecodeInline(std::string_view input,
                                                          size_t request_size_bytes_max,
                                                          Request* request) {
  const size_t line_size_max = std::min(kInlineRequestSizeBytesMax, request_size_bytes_max);
  const size_t searched_end = std::min(input.size(), line_size_max);
  const void* newline = nullptr;
  if (position_ < searched_end) {
    newline = std::memchr(input.data() + position_, '\n', searched_end - position_);
  }
  if (newline == nullptr) {
    position_ = searched_end;
    if (input.size() >= line_size_max) return Fail("Protocol error: too big inline request");
    return Step::kNeedMore;
  }
  const size_t newline_at = static_cast<size_t>(static_cast<const char*>(newline) - input.data());
  consumed_bytes_ = newline_at + 1;
  std::string_view line = input.substr(0, newline_at);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitInlineCommand(line, &scratch_, &words_)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  if (words_.empty()) return Step::kEmpty;
  DCHECK_LE(words_.size(), kArgumentsPerRequestMax + 1);
  request->request_id = 0;
  request->name = words_[0];
  const CommandName* command = FindCommand(request->name);
  request->opcode = command != nullptr ? command->opcode : Opcode::kNone;
  request->args.resize(words_.size() - 1);
  for (size_t i = 1; i < words_.size(); ++i) request->args[i - 1] = Argument::Bytes(words_[i]);
  return Step::kRequest;
}

}  // namespace podium::protocol
