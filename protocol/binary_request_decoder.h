// BinaryRequestDecoder: request frames of the binary protocol, on the server (docs/protocol.md,
// "Request frame"). Use it after the handshake, on the bytes that follow it.
//
// Allocation: none for a frame's bytes, which stay in the caller's buffer, and nothing on a
// declared length: the length field is checked against the limit as soon as its 4 bytes
// arrive (a frame declaring 4 GiB fails at once), and the arguments are only parsed once the
// whole frame is there, so the args vector grows with bytes received. Each call is O(1) until
// the frame is complete, then O(frame), however the bytes are split between calls.
//
// Thread-safety: none needed; the decoder holds no state between calls.
#pragma once

#include <cstddef>
#include <string_view>

#include "protocol/decode_result.h"
#include "protocol/limits.h"
#include "protocol/request.h"

namespace podium::protocol {

class BinaryRequestDecoder {
 public:
  // Decodes the frame at the front of `input` into `request` (see DecodeResult for the
  // caller's loop). request_size_bytes_max, at most kRequestSizeBytesMax, bounds the whole
  // frame including its length field; pass kUnauthenticatedRequestSizeBytesMax before AUTH.
  // Errors: a frame too short or too long, reserved flags set, an unknown argument type, an
  // argument past kArgumentSizeBytesMax or past the frame's end, bytes left after the last
  // argument. On kComplete, request->name is empty and request->opcode is the number sent,
  // which the caller looks up (FindCommand) and answers with UNKNOWN_COMMAND if absent.
  DecodeResult Decode(std::string_view input, size_t request_size_bytes_max,
                      Request* request) const;

  void Reset() {}  // nothing to forget; here so both request decoders have the same surface
};

}  // namespace podium::protocol
