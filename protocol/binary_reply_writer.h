// BinaryReplyWriter: ReplyWriter's binary encoding (docs/protocol.md, "Reply frame"). BeginReply
// appends the 12-byte header with the length and status left zero; values follow as tagged
// data; EndReply patches the length and, when the reply is an error, the status.
#pragma once

#include <cstddef>
#include <string>

#include "protocol/binary_format.h"
#include "protocol/reply_writer.h"

namespace podium::protocol {

class BinaryReplyWriter final : public ReplyWriter {
 public:
  // Appends to *out, which must outlive the writer.
  explicit BinaryReplyWriter(std::string* out, size_t reply_size_bytes_max = kReplySizeBytesMax)
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

  void AppendSized(ValueType type, std::string_view bytes);
};

}  // namespace podium::protocol
