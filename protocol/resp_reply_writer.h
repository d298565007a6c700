// RespReplyWriter: ReplyWriter's RESP2 encoding, byte for byte what Redis sends for the same
// reply (docs/protocol.md, "RESP"): +OK, -ERR message, :42, $3 abc, $-1, *2 ...; doubles as
// bulk strings in shortest round-trip form (FormatDouble). RESP has no frame, so BeginReply
// and EndReply only keep the count of values.
#pragma once

#include <cstddef>
#include <string>

#include "protocol/reply_writer.h"

namespace podium::protocol {

class RespReplyWriter final : public ReplyWriter {
 public:
  // Appends to *out, which must outlive the writer.
  explicit RespReplyWriter(std::string* out, size_t reply_size_bytes_max = kReplySizeBytesMax)
      : ReplyWriter(out, reply_size_bytes_max) {}

 private:
  void WriteBegin(uint32_t request_id) override;
  void WriteEnd(StatusCode status) override;
  void WriteNil() override;
  void WriteInteger(int64_t value) override;
  void WriteDouble(double value) override;
  void WriteBytes(std::string_view bytes) override;
  void WriteSimpleString(std::string_view text) override;
  void WriteArrayHeader(size_t count) override;
  void WriteError(StatusCode code, std::string_view message) override;

  // type, then `first` and `second` separated by a space when both are there, then CRLF; CR
  // and LF within the text become spaces so that it stays one line.
  void AppendLine(char type, std::string_view first, std::string_view second);
  void AppendNumberLine(char type, int64_t value);
};

}  // namespace podium::protocol
