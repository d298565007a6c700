#include "protocol/binary_request_decoder.h"

#include <glog/logging.h>

#include <string>

#include "protocol/binary_format.h"
#include "protocol/little_endian.h"

namespace podium::protocol {

namespace {

// The smallest argument: a type byte and an empty byte string's u32 length.
constexpr size_t kArgumentSizeBytesMin = 1 + 4;

DecodeResult Fail(const std::string& what) {
  return DecodeResult::Error("Protocol error: " + what);
}

// Parses the argument at `*position`, advancing it; an error message or empty on success.
std::string ParseArgument(std::string_view frame, size_t* position, Argument* argument) {
  size_t pos = *position;
  const size_t left = frame.size() - pos;
  if (left < 1) return "argument cut off by the end of the frame";
  const uint8_t type = static_cast<uint8_t>(frame[pos]);
  if (type > kArgumentTypeMax) return "unknown argument type " + std::to_string(type);
  argument->type = static_cast<ArgumentType>(type);
  if (argument->type == ArgumentType::kBytes) {
    if (left < 1 + 4) return "argument cut off by the end of the frame";
    const size_t size = LoadU32(frame.data() + pos + 1);
    if (size > kArgumentSizeBytesMax) {
      return "argument of " + std::to_string(size) + " bytes exceeds the limit of " +
             std::to_string(kArgumentSizeBytesMax) + " bytes";
    }
    if (left - (1 + 4) < size) return "argument cut off by the end of the frame";
    argument->bytes = frame.substr(pos + 1 + 4, size);
    *position = pos + 1 + 4 + size;
    return {};
  }
  if (left < 1 + 8) return "argument cut off by the end of the frame";
  if (argument->type == ArgumentType::kInt64) {
    argument->int64 = static_cast<int64_t>(LoadU64(frame.data() + pos + 1));
  } else {
    argument->float64 = LoadF64(frame.data() + pos + 1);
  }
  *position = pos + 1 + 8;
  return {};
}

}  // namespace

DecodeResult BinaryRequestDecoder::Decode(std::string_view input, size_t request_size_bytes_max,
                                          Request* request) const {
  DCHECK_LE(request_size_bytes_max, kRequestSizeBytesMax);
  if (input.size() < kLengthFieldSizeBytes) return DecodeResult::NeedMore();
  const uint64_t frame_size = uint64_t{kLengthFieldSizeBytes} + LoadU32(input.data());
  if (frame_size > request_size_bytes_max) {
    return Fail("request of " + std::to_string(frame_size) + " bytes exceeds the limit of " +
                std::to_string(request_size_bytes_max) + " bytes");
  }
  if (frame_size < kRequestSizeBytesMin) {
    return Fail("request frame of " + std::to_string(frame_size) + " bytes is shorter than " +
                std::to_string(kRequestSizeBytesMin));
  }
  if (input.size() < frame_size) return DecodeResult::NeedMore();

  const std::string_view frame = input.substr(0, frame_size);
  const uint16_t flags = LoadU16(frame.data() + kFlagsOffset);
  if (flags != 0) return Fail("reserved request flags " + std::to_string(flags) + " set");
  const size_t argc = LoadU16(frame.data() + kFrameHeaderSizeBytes);
  static_assert(kArgumentsPerRequestMax == UINT16_MAX, "else check argc against the limit");
  if (argc > (frame.size() - kRequestSizeBytesMin) / kArgumentSizeBytesMin) {
    return Fail("argument count " + std::to_string(argc) + " does not fit in the frame");
  }

  request->request_id = LoadU32(frame.data() + kRequestIdOffset);
  request->opcode = static_cast<Opcode>(LoadU16(frame.data() + kOpcodeOffset));
  request->name = {};
  request->args.resize(argc);  // bounded by the bytes received, checked above
  size_t position = kRequestSizeBytesMin;
  for (size_t i = 0; i < argc; ++i) {
    request->args[i] = Argument();
    std::string error = ParseArgument(frame, &position, &request->args[i]);
    if (!error.empty()) return Fail(error);
  }
  if (position != frame.size()) {
    return Fail(std::to_string(frame.size() - position) + " bytes after the last argument");
  }
  return DecodeResult::Complete(frame.size());
}

}  // namespace podium::protocol
