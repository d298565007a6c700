// ReplyWriter: how a command writes its reply once for both protocols. The connection makes
// one writer per connection for its protocol (RespReplyWriter or BinaryReplyWriter) over its
// output buffer, and for each request in order:
//
//   writer.BeginReply(request.request_id);
//   command(request, &writer);   // writes exactly one value, e.g. Integer(7), or
//                                // ArrayHeader(2) then two values, or Error(kSoldOut, "3")
//   writer.EndReply();
//
// Replies are appended to the buffer in request order, which is all pipelining needs.
//
// Shape. Arrays state their count up front and are followed by exactly that many values; the
// writer counts them, so a command that writes too few or too many values fails a CHECK at
// EndReply (or a DCHECK at the extra value) instead of corrupting the stream. Arrays nest at
// most kReplyNestingDepthMax deep (CHECK). An Error as the whole reply gives a binary frame
// its status; an Error inside an array is just a value.
//
// Size. A reply bigger than reply_size_bytes_max (default kReplySizeBytesMax) is replaced at
// EndReply by a LIMIT error, so a client never receives a frame it must refuse. Commands that
// can return much page their output well below the limit; one that cannot bound its reply in
// advance measures it first (BytesSize, ...) and answers ErrorTooLarge instead of building a
// reply only to have EndReply drop it.
//
// Cost: a virtual call per value, none per byte; appends go straight to the std::string.
// Thread-safety: none; one writer per connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/limits.h"
#include "protocol/status_codes.h"

namespace podium::protocol {

class ReplyWriter {
 public:
  virtual ~ReplyWriter() = default;
  ReplyWriter(const ReplyWriter&) = delete;
  ReplyWriter& operator=(const ReplyWriter&) = delete;

  // Frame one reply. request_id is echoed by the binary protocol and ignored by RESP.
  void BeginReply(uint32_t request_id);
  void EndReply();
  // Drops the reply begun, which must hold no value yet: for a command whose reply is written
  // later (a deferred command), which begins it again then. Until then nothing of it sits in
  // the buffer, so the bytes before it may be sent and dropped from the buffer meanwhile.
  void CancelReply();

  void Nil();                          // RESP: $-1 (nil bulk string)
  void Integer(int64_t value);         // RESP: :value
  void Double(double value);           // RESP: bulk string, FormatDouble (shortest round trip)
  void Bytes(std::string_view bytes);  // RESP: bulk string
  void SimpleString(std::string_view text);  // RESP: +text; CR and LF become spaces
  void Ok() { SimpleString("OK"); }
  void ArrayHeader(size_t count);  // then exactly `count` values
  // RESP: -<RespErrorCode(code)> <message>, CR and LF in the message becoming spaces. code is
  // not kOk. A kUnknownCommand message should begin "unknown command" and a kProtocol message
  // "Protocol error", so that RESP clients can tell them from kErr (StatusCodeFromRespError);
  // the writer does not insist, since a proxy may replay what another server sent.
  void Error(StatusCode code, std::string_view message);

  // Bytes of the reply being written so far, for commands that stop early (paging).
  size_t reply_size_bytes() const { return out_->size() - reply_start_; }
  size_t reply_size_bytes_max() const { return reply_size_bytes_max_; }

  // The bytes Bytes(bytes), Double(value) or ArrayHeader(count) would add to the reply, found
  // by encoding the value after it and taking it back: the reply is unchanged and the buffer
  // holds at most one more value meanwhile. Inside a reply only.
  size_t BytesSize(std::string_view bytes);
  size_t DoubleSize(double value);
  size_t ArrayHeaderSize(size_t count);
  // As the whole reply, in place of one measured at `reply_size_bytes` (more than
  // reply_size_bytes_max): the LIMIT error EndReply gives a reply of that size.
  void ErrorTooLarge(size_t reply_size_bytes);

 protected:
  ReplyWriter(std::string* out, size_t reply_size_bytes_max);

  // The encoding: Begin/End frame a reply; the others append one value each.
  virtual void WriteBegin(uint32_t request_id) = 0;
  virtual void WriteEnd(StatusCode status) = 0;
  virtual void WriteNil() = 0;
  virtual void WriteInteger(int64_t value) = 0;
  virtual void WriteDouble(double value) = 0;
  virtual void WriteBytes(std::string_view bytes) = 0;
  virtual void WriteSimpleString(std::string_view text) = 0;
  virtual void WriteArrayHeader(size_t count) = 0;
  virtual void WriteError(StatusCode code, std::string_view message) = 0;

  std::string* const out_;  // not owned; outlives the writer
  size_t reply_start_ = 0;  // offset in *out_ of the reply being written

 private:
  void BeforeValue() const;
  void ValueCompleted();
  // The bytes `write` appends to *out_, which it then takes back.
  template <typename Write>
  size_t Measure(Write write);

  const size_t reply_size_bytes_max_;
  uint32_t request_id_ = 0;
  StatusCode status_ = StatusCode::kOk;
  bool in_reply_ = false;
  bool value_done_ = false;
  size_t depth_ = 0;                                           // arrays enclosing the next value
  std::array<size_t, kReplyNestingDepthMax + 1> remaining_{};  // [1..depth_]: values still due
};

}  // namespace podium::protocol
