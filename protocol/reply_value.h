// ReplyValue: a decoded reply as a small tree, what the client-side decoders yield for both
// protocols. Owns its bytes (a client keeps replies past its next read); built only from
// bytes received, never sized by a declared count.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/binary_format.h"
#include "protocol/status_codes.h"

namespace podium::protocol {

struct ReplyValue {
  ValueType type = ValueType::kNil;
  int64_t int64 = 0;                    // kInt64
  double float64 = 0;                   // kFloat64
  std::string bytes;                    // kBytes, kSimpleString, kError (see Error below)
  std::vector<ReplyValue> elements;     // kArray
  StatusCode status = StatusCode::kOk;  // kError: the reply frame's status (binary; kErr for
                                        // an error nested in an array) or the line's class
                                        // (RESP: StatusCodeFromRespError)

  static ReplyValue Nil() { return {}; }
  static ReplyValue Int64(int64_t value);
  static ReplyValue Float64(double value);
  static ReplyValue Bytes(std::string_view bytes);
  static ReplyValue SimpleString(std::string_view text);
  // Binary replies carry the message (the status is in the frame); RESP error values hold
  // the whole line after '-', code word included ("SOLDOUT 3").
  static ReplyValue Error(StatusCode status, std::string_view text);
  static ReplyValue Array(std::vector<ReplyValue> elements);

  // Debugging text: nil, 42, 1.5, "bytes" (escaped), +OK, -ERR message, [a, b].
  std::string ToString() const;

  // Deep equality; floats compare by their bits, so NaN equals NaN and 0 differs from -0.
  friend bool operator==(const ReplyValue& a, const ReplyValue& b);
  // For gtest's messages.
  friend void PrintTo(const ReplyValue& value, std::ostream* out) { *out << value.ToString(); }
};

// A binary reply frame.
struct BinaryReply {
  uint32_t request_id = 0;
  StatusCode status = StatusCode::kOk;  // kOk, or the code of the kError value
  ReplyValue value;
};

}  // namespace podium::protocol
