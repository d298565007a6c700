#include "protocol/request_encoder.h"

#include <glog/logging.h>

#include "protocol/binary_format.h"
#include "protocol/limits.h"
#include "protocol/little_endian.h"
#include "protocol/number_text.h"

namespace podium::protocol {

namespace {

void AppendRespBulk(std::string_view bytes, std::string* out) {
  char digits[kNumberTextBytesMax];
  out->push_back('$');
  out->append(digits, FormatInt64(static_cast<int64_t>(bytes.size()), digits));
  out->append("\r\n");
  out->append(bytes);
  out->append("\r\n");
}

void AppendRespCount(size_t count, std::string* out) {
  char digits[kNumberTextBytesMax];
  out->push_back('*');
  out->append(digits, FormatInt64(static_cast<int64_t>(count), digits));
  out->append("\r\n");
}

}  // namespace

void AppendBinaryRequest(uint32_t request_id, Opcode opcode, std::span<const Argument> args,
                         std::string* out) {
  CHECK_LE(args.size(), kArgumentsPerRequestMax);
  const size_t start = out->size();
  AppendU32(out, 0);  // the length, patched below
  AppendU32(out, request_id);
  AppendU16(out, static_cast<uint16_t>(opcode));
  AppendU16(out, 0);  // flags
  AppendU16(out, static_cast<uint16_t>(args.size()));
  for (const Argument& argument : args) {
    AppendU8(out, static_cast<uint8_t>(argument.type));
    switch (argument.type) {
      case ArgumentType::kBytes:
        CHECK_LE(argument.bytes.size(), kArgumentSizeBytesMax);
        AppendU32(out, static_cast<uint32_t>(argument.bytes.size()));
        out->append(argument.bytes);
        break;
      case ArgumentType::kInt64:
        AppendU64(out, static_cast<uint64_t>(argument.int64));
        break;
      case ArgumentType::kFloat64:
        AppendF64(out, argument.float64);
        break;
    }
  }
  const size_t frame_size = out->size() - start;
  CHECK_LE(frame_size, kRequestSizeBytesMax);
  StoreU32(out->data() + start, static_cast<uint32_t>(frame_size - kLengthFieldSizeBytes));
}

void AppendRespRequest(std::string_view name, std::span<const Argument> args, std::string* out) {
  AppendRespCount(1 + args.size(), out);
  AppendRespBulk(name, out);
  char number[kNumberTextBytesMax];
  for (const Argument& argument : args) {
    switch (argument.type) {
      case ArgumentType::kBytes:
        AppendRespBulk(argument.bytes, out);
        break;
      case ArgumentType::kInt64:
        AppendRespBulk({number, FormatInt64(argument.int64, number)}, out);
        break;
      case ArgumentType::kFloat64:
        AppendRespBulk({number, FormatDouble(argument.float64, number)}, out);
        break;
    }
  }
}

void AppendRespRequest(std::span<const std::string_view> words, std::string* out) {
  AppendRespCount(words.size(), out);
  for (std::string_view word : words) AppendRespBulk(word, out);
}

}  // namespace podium::protocol
