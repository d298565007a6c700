// BinaryReplyDecoder: reply frames of the binary protocol, on the client (docs/protocol.md,
// "Reply frame"). Use it after the server's hello, on the bytes that follow it.
//
// Like BinaryRequestDecoder it checks the length field as soon as it arrives, waits for the
// whole frame without allocating, then parses it in one pass: a value tree with at most
// kReplyNestingDepthMax levels of arrays, whose element counts are checked against the bytes
// left in the frame before anything is built. Stateless between calls.
#pragma once

#include <cstddef>
#include <string_view>

#include "protocol/decode_result.h"
#include "protocol/limits.h"
#include "protocol/reply_value.h"

namespace podium::protocol {

class BinaryReplyDecoder {
 public:
  // Decodes the frame at the front of `input` into `reply` (see DecodeResult). Errors: a frame
  // shorter than a header and a value or longer than reply_size_bytes_max, reserved flags set,
  // an unknown value type, a value past the frame's end or bytes after it, arrays nested too
  // deep, a status that disagrees with the value (non-zero status iff the value is an error).
  // reply_size_bytes_max is at most kReplySizeBytesMax.
  DecodeResult Decode(std::string_view input, size_t reply_size_bytes_max,
                      BinaryReply* reply) const;
};

}  // namespace podium::protocol
