// RespReplyDecoder: RESP2 replies, on the client (podium-bench against Podium or Redis, tests):
// simple strings, errors, integers, bulk strings, nil bulk strings and nil arrays (both
// kNil), arrays, nested up to kReplyNestingDepthMax. RESP2 has no doubles: scores arrive as
// bulk strings, for the caller to ParseDouble.
//
// Two passes. The first checks the reply's syntax incrementally as bytes arrive, keeping its
// place between calls (which element it is at, how many each open array still needs), so
// every byte is scanned once however the reply is split; it allocates nothing. When the reply
// is complete, the second pass builds the tree from bytes already checked. A declared count or
// length is checked against reply_size_bytes_max before the bytes it announces arrive.
//
// Between calls the caller keeps the unconsumed bytes as they were (moving them is fine).
// Thread-safety: none; one decoder per connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/decode_result.h"
#include "protocol/limits.h"
#include "protocol/reply_value.h"

namespace podium::protocol {

class RespReplyDecoder {
 public:
  // Decodes the reply at the front of `input` into `reply` (see DecodeResult). Errors, in
  // Redis's words where it has them: "Protocol error: invalid bulk length", "invalid multibulk
  // length", "invalid integer", "unknown reply type 'x'", "expected CRLF", "reply nested too
  // deep", "reply exceeds the limit of N bytes", "reply holds more than N values".
  // reply_size_bytes_max is at most kReplySizeBytesMax.
  DecodeResult Decode(std::string_view input, size_t reply_size_bytes_max, ReplyValue* reply);

  // Forgets a partly scanned reply.
  void Reset();

 private:
  enum class Step : uint8_t { kElementDone, kArrayOpened, kNeedMore, kError };

  Step ScanElement(std::string_view input, size_t reply_size_bytes_max);
  Step Fail(std::string message);

  // Scan progress on the reply at the front of the input.
  size_t position_ = 0;      // where the next element starts
  size_t line_scanned_ = 0;  // how far the search for the current line's CR got
  size_t depth_ = 0;         // arrays open around the next element
  size_t values_declared_ = 0;  // by the arrays opened so far (at most kReplyValuesMax)
  std::array<int64_t, kReplyNestingDepthMax + 1> remaining_{};  // [1..depth_]: elements due
  std::string error_message_;
};

}  // namespace podium::protocol
