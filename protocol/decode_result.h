// DecodeResult: what every decoder in protocol/ returns for one call. Decoders work on a
// caller-owned buffer (one per connection): the caller appends the bytes it receives and
// calls Decode on the unconsumed part, then drops consumed_bytes() from its front, whatever
// the status. Decoders never copy the input; what they yield may point into it.
//   kComplete  one message was decoded; it occupied the first consumed_bytes() bytes.
//   kNeedMore  the input holds no complete message yet; receive more and call again with the
//              same bytes (minus consumed_bytes(), which held nothing the caller needs).
//   kError     the input is malformed or past a limit; error_message() says how, in Redis's
//              words where Redis has them ("Protocol error: invalid bulk length"). The stream
//              cannot be resynchronised: answer with a PROTOCOL error and close.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace podium::protocol {

enum class DecodeStatus : uint8_t { kComplete, kNeedMore, kError };

class [[nodiscard]] DecodeResult {
 public:
  static DecodeResult Complete(size_t consumed_bytes) {
    return DecodeResult(DecodeStatus::kComplete, consumed_bytes, {});
  }
  static DecodeResult NeedMore(size_t consumed_bytes = 0) {
    return DecodeResult(DecodeStatus::kNeedMore, consumed_bytes, {});
  }
  static DecodeResult Error(std::string message) {
    return DecodeResult(DecodeStatus::kError, 0, std::move(message));
  }

  DecodeStatus status() const { return status_; }
  bool complete() const { return status_ == DecodeStatus::kComplete; }
  bool need_more() const { return status_ == DecodeStatus::kNeedMore; }
  bool error() const { return status_ == DecodeStatus::kError; }
  size_t consumed_bytes() const { return consumed_bytes_; }
  const std::string& error_message() const { return error_message_; }

 private:
  DecodeResult(DecodeStatus status, size_t consumed_bytes, std::string error_message)
      : status_(status),
        consumed_bytes_(consumed_bytes),
        error_message_(std::move(error_message)) {}

  DecodeStatus status_;
  size_t consumed_bytes_;
  std::string error_message_;  // empty unless kError; no allocation on the other paths
};

}  // namespace podium::protocol
