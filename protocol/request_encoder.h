// Request encoders for clients (podium-cli, podium-bench, tests): append one request in either
// protocol to the caller's output buffer. Several calls before a send make a pipeline.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/opcodes.h"
#include "protocol/request.h"

namespace podium::protocol {

// A binary request frame (docs/protocol.md, "Request frame"). The caller keeps within the
// limits (at most kArgumentsPerRequestMax arguments, each at most kArgumentSizeBytesMax,
// the frame within what the server accepts); crossing one is a programmer error (CHECK).
void AppendBinaryRequest(uint32_t request_id, Opcode opcode, std::span<const Argument> args,
                         std::string* out);

// A RESP2 multibulk request: `name`, then each argument as a bulk string (kInt64 as decimal
// text, kFloat64 as FormatDouble's shortest round-trip text).
void AppendRespRequest(std::string_view name, std::span<const Argument> args, std::string* out);

// The same from plain words, e.g. {"ZADD", "board", "1", "42"}.
void AppendRespRequest(std::span<const std::string_view> words, std::string* out);

}  // namespace podium::protocol
