#include "protocol/handshake.h"

#include <algorithm>

#include "protocol/little_endian.h"

namespace podium::protocol {

namespace {

static_assert(kMagic.size() == 4 && kHandshakeSizeBytes == kMagic.size() + 2 + 2);
static_assert(kMagic[0] == kMagicFirstByte);

void AppendHello(uint16_t version, uint16_t last_field, std::string* out) {
  out->append(kMagic);
  AppendU16(out, version);
  AppendU16(out, last_field);
}

// Checks the magic and returns the two u16 fields after it.
DecodeResult DecodeHello(std::string_view input, uint16_t* version, uint16_t* last_field) {
  const size_t prefix_size = std::min(input.size(), kMagic.size());
  if (input.substr(0, prefix_size) != kMagic.substr(0, prefix_size)) {
    return DecodeResult::Error("Protocol error: bad handshake magic");
  }
  if (input.size() < kHandshakeSizeBytes) return DecodeResult::NeedMore();
  *version = LoadU16(input.data() + 4);
  *last_field = LoadU16(input.data() + 6);
  return DecodeResult::Complete(kHandshakeSizeBytes);
}

}  // namespace

WireProtocol DetectProtocol(std::string_view first_bytes) {
  if (first_bytes.empty()) return WireProtocol::kUndecided;
  return first_bytes[0] == kMagicFirstByte ? WireProtocol::kBinary : WireProtocol::kResp;
}

void AppendClientHello(const ClientHello& hello, std::string* out) {
  AppendHello(hello.version, hello.flags, out);
}

void AppendServerHello(const ServerHello& hello, std::string* out) {
  AppendHello(hello.version, static_cast<uint16_t>(hello.status), out);
}

DecodeResult DecodeClientHello(std::string_view input, ClientHello* hello) {
  return DecodeHello(input, &hello->version, &hello->flags);
}

DecodeResult DecodeServerHello(std::string_view input, ServerHello* hello) {
  uint16_t status = 0;
  DecodeResult result = DecodeHello(input, &hello->version, &status);
  hello->status = static_cast<StatusCode>(status);
  return result;
}

ServerHello AnswerClientHello(const ClientHello& hello) {
  ServerHello answer;
  answer.version = std::min(hello.version, kProtocolVersion);
  if (hello.version < kProtocolVersionMin || hello.flags != 0) {
    answer.version = kProtocolVersion;
    answer.status = StatusCode::kProtocol;
  }
  return answer;
}

}  // namespace podium::protocol
