// The client's own bounds, units last. The wire bounds (request and reply sizes, arguments per
// request) are protocol/limits.h's; these bound what the client itself holds and waits for.
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/limits.h"

namespace podium::client {

// One recv() reads at most this much; the read buffer grows by what actually arrived.
inline constexpr size_t kReceiveChunkBytes = size_t{64} << 10;  // 64 KiB
// Consumed bytes at the read buffer's front are dropped once they are at least this many and
// at least half the buffer, so a long-lived connection's buffer does not creep.
inline constexpr size_t kReadBufferCompactBytesMin = size_t{64} << 10;

// A send or read buffer that grew past this (one huge request or reply) is released once
// empty instead of being kept for the connection's life.
inline constexpr size_t kBufferKeptBytesMax = size_t{1} << 20;  // 1 MiB

// Requests in one Pipeline. Each costs its encoded bytes plus a reply held until Execute
// returns; split bigger loads into several pipelines.
inline constexpr size_t kPipelineRequestsMax = size_t{1} << 20;

// Option bounds (ValidateOptions).
inline constexpr int64_t kTimeoutMsMax = int64_t{24} * 3600 * 1000;  // a day
inline constexpr int kReconnectAttemptsMax = 100;
inline constexpr size_t kPasswordSizeBytesMax = 256;

static_assert(kPasswordSizeBytesMax + 64 <= protocol::kUnauthenticatedRequestSizeBytesMax,
              "AUTH with the longest password must fit before authentication");
static_assert(kReceiveChunkBytes <= protocol::kReplySizeBytesMax);

}  // namespace podium::client
