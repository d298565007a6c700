// RespRequestDecoder: RESP2 requests on the server, in both of Redis's forms:
//   multibulk  "*<n>\r\n" then n bulk strings "$<len>\r\n<bytes>\r\n"  (what clients send)
//   inline     one line of words ending in "\n" or "\r\n"              (telnet; see
//              inline_command.h for quoting)
// The first word is the command name; it is looked up in kCommandNames (ignoring case) and
// the rest become kBytes arguments. Empty commands ("*0\r\n", "*-1\r\n", an empty line) are
// skipped, as Redis skips them.
//
// Errors use Redis's words, so redis-cli and tests written against Redis see what they expect:
//   "Protocol error: invalid multibulk length"   count not a number, or past
//                                                kArgumentsPerRequestMax + 1 (the name)
//   "Protocol error: invalid bulk length"        length not a number, negative, or past
//                                                kArgumentSizeBytesMax
//   "Protocol error: expected '$', got 'x'"      an argument that is not a bulk string
//   "Protocol error: too big mbulk count string" / "too big bulk count string"
//                                                no CR within kRespLengthLineBytesMax
//   "Protocol error: too big inline request"     no newline within kInlineRequestSizeBytesMax
//   "Protocol error: unbalanced quotes in request"
// and, where Redis has no check: "Protocol error: expected CRLF after bulk string" and
// "Protocol error: request exceeds the limit of N bytes" (the caller's request_size_bytes_max,
// checked against declared counts and lengths before their bytes arrive).
//
// Incremental and bounded: the decoder remembers how far it has parsed the request at the
// front of the input, so bytes are looked at once however they are split between calls (no
// quadratic rescans), and it allocates for arguments as their bytes arrive, never for a
// declared count (a "*2000000000\r\n" fails at once; "*65536\r\n" reserves a few entries).
// Between calls the caller must keep the unconsumed bytes as they were (it may move them, as a
// growing std::string does, since the decoder keeps offsets, not pointers).
//
// Thread-safety: none; one decoder per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/decode_result.h"
#include "protocol/limits.h"
#include "protocol/request.h"

namespace podium::protocol {

class RespRequestDecoder {
 public:
  // Decodes the request at the front of `input` into `request`; see DecodeResult for the
  // caller's loop. request_size_bytes_max, at most kRequestSizeBytesMax, bounds the request's
  // bytes; pass kUnauthenticatedRequestSizeBytesMax before AUTH. On kComplete, request->name
  // and the arguments view `input` (or, for a quoted inline command, this decoder) until the
  // next call; request->request_id is 0.
  DecodeResult Decode(std::string_view input, size_t request_size_bytes_max, Request* request);

  // Forgets a partly parsed request (after the caller dropped its bytes).
  void Reset();

  // Once the request Decode returned has run (its arguments no longer view this decoder):
  // gives back what one long inline command grew the decoder's own buffers to, so that an idle
  // connection does not keep it.
  void ReleaseInlineBuffers();

 private:
  // Where a bulk string's bytes are, relative to the request's first byte.
  struct Span {
    size_t offset;
    size_t size;
  };
  // kContinue: a line was parsed, go on (only between the private parsing steps).
  enum class Step : uint8_t { kRequest, kEmpty, kNeedMore, kError, kContinue };

  Step DecodeMultibulk(std::string_view input, size_t request_size_bytes_max, Request* request);
  Step DecodeInline(std::string_view input, size_t request_size_bytes_max, Request* request);
  Step ParseCountLine(std::string_view input, size_t request_size_bytes_max);
  Step ParseBulkLengthLine(std::string_view input, size_t request_size_bytes_max);
  Step Fail(std::string message);

  // Progress on the request at the front of the input.
  bool count_parsed_ = false;  // multibulk: the "*<n>" line is behind us
  size_t position_ = 0;        // multibulk: the next byte to parse; inline: where the search
                               // for the newline resumes
  size_t arguments_left_ = 0;  // multibulk: bulk strings still to come
  int64_t bulk_size_ = -1;     // multibulk: size of the bulk string awaited, -1 before its "$"
  std::vector<Span> spans_;    // multibulk: the bulk strings parsed so far

  size_t consumed_bytes_ = 0;            // of the step just taken (kRequest, kEmpty)
  std::string error_message_;            // of the step just taken (kError)
  std::string scratch_;                  // unescaped words of a quoted inline command
  std::vector<std::string_view> words_;  // words of an inline command
};

}  // namespace podium::protocol
