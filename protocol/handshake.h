// The first bytes of a connection: which protocol the client speaks and, for the binary one,
// the 8-byte hellos (docs/protocol.md, "Handshake").
//
//   client -> server: magic B0 50 44 4D, version u16 (the highest it speaks), flags u16 (0)
//   server -> client: magic B0 50 44 4D, version u16 (the one both will speak), status u16
//
// A status other than kOk means the server closes after sending its hello. A RESP client sends
// no handshake: its first byte is '*' or the first letter of an inline command.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/binary_format.h"
#include "protocol/decode_result.h"
#include "protocol/status_codes.h"

namespace podium::protocol {

enum class WireProtocol : uint8_t {
  kUndecided,  // no byte yet
  kBinary,     // the first byte is kMagicFirstByte: a binary handshake follows
  kResp,       // anything else: RESP2 multibulk or inline commands
};

// Decided by the first byte alone, so the server can choose a decoder as soon as one byte
// has arrived.
[[nodiscard]] WireProtocol DetectProtocol(std::string_view first_bytes);

struct ClientHello {
  uint16_t version = kProtocolVersion;
  uint16_t flags = 0;  // reserved, must be 0
};

struct ServerHello {
  uint16_t version = kProtocolVersion;
  StatusCode status = StatusCode::kOk;
};

void AppendClientHello(const ClientHello& hello, std::string* out);
void AppendServerHello(const ServerHello& hello, std::string* out);

// Decodes the 8-byte hello at the front of `input` (kNeedMore before 8 bytes arrive). A wrong
// magic is an error; version and flags are judged by AnswerClientHello.
DecodeResult DecodeClientHello(std::string_view input, ClientHello* hello);
DecodeResult DecodeServerHello(std::string_view input, ServerHello* hello);

// The server's answer: version min(client's, kProtocolVersion) and kOk, or kProtocol when the
// client's version is older than kProtocolVersionMin or it sets a flag this version does not
// know. A client that speaks a newer version than the server thus learns the server's version
// from the answer and may continue with it.
[[nodiscard]] ServerHello AnswerClientHello(const ClientHello& hello);

}  // namespace podium::protocol
