// The binary protocol's constants: magic, version, header sizes and type tags. The layout they
// describe is docs/protocol.md ("Binary protocol"); change the two together. All integers on the
// wire are little-endian (see little_endian.h), and nothing is ever memcpy'd as a struct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace podium::protocol {

// Handshake: magic (4 bytes), version u16, flags (client) or status (server) u16.
// The magic's first byte, 0xB0, starts no RESP request ('*' or an inline command's printable
// word), so the first byte a client sends tells the server which protocol it speaks.
inline constexpr std::string_view kMagic = "\xB0PDM";
inline constexpr char kMagicFirstByte = '\xB0';
inline constexpr uint16_t kProtocolVersion = 1;     // the version this code speaks
inline constexpr uint16_t kProtocolVersionMin = 1;  // the oldest it accepts
inline constexpr size_t kHandshakeSizeBytes = 8;

// Frames: u32 length (of the bytes after it), u32 request_id, u16 opcode or status, u16 flags.
inline constexpr size_t kLengthFieldSizeBytes = 4;
inline constexpr size_t kFrameHeaderSizeBytes = 12;
inline constexpr size_t kRequestSizeBytesMin = kFrameHeaderSizeBytes + 2;  // + u16 argc
inline constexpr size_t kReplySizeBytesMin = kFrameHeaderSizeBytes + 1;    // + a nil value
// Offsets within a frame.
inline constexpr size_t kRequestIdOffset = 4;
inline constexpr size_t kOpcodeOffset = 8;  // requests
inline constexpr size_t kStatusOffset = 8;  // replies
inline constexpr size_t kFlagsOffset = 10;

// The tag byte before each request argument.
enum class ArgumentType : uint8_t {
  kBytes = 0,    // u32 length + bytes
  kInt64 = 1,    // 8 bytes, two's complement
  kFloat64 = 2,  // 8 bytes, IEEE-754 binary64
};
inline constexpr uint8_t kArgumentTypeMax = 2;

// The tag byte before each reply value. RESP replies decode into the same kinds (a RESP double
// is a bulk string; RESP's nil bulk string and nil array are both kNil).
enum class ValueType : uint8_t {
  kNil = 0,
  kInt64 = 1,         // 8 bytes, two's complement
  kFloat64 = 2,       // 8 bytes, IEEE-754 binary64
  kBytes = 3,         // u32 length + bytes
  kArray = 4,         // u32 count + count values
  kSimpleString = 5,  // u32 length + bytes ("OK", "PONG")
  kError = 6,         // u32 length + message
};
inline constexpr uint8_t kValueTypeMax = 6;

}  // namespace podium::protocol
