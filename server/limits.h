// The server's own bounds (the data's are in storage/limits.h, the wire's in protocol/limits.h).
// Units are last in each name. Settings a deployment may want to change are flags (main.cc)
// whose defaults are these constants.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "protocol/limits.h"

namespace podium::server {

// Bytes one read from a socket may bring in (one per-loop buffer of this size).
inline constexpr size_t kReadChunkBytes = size_t{64} << 10;

// Replies queued for one client before the server stops decoding that client's further
// requests (pipelining back-pressure): its input waits in the kernel until it reads. This and
// the next two are the defaults of --client-output-pause-bytes, --client-output-max-bytes and
// --client-output-stall-sec.
inline constexpr size_t kOutputPauseBytes = size_t{1} << 20;
// Replies queued for one client past which it is disconnected: a client that asks for more
// than it reads. At least the largest reply, so any one reply fits.
inline constexpr size_t kOutputBytesMax = protocol::kReplySizeBytesMax + kOutputPauseBytes;
// A client whose replies stay paused (it does not read) this long is disconnected.
inline constexpr int64_t kOutputStallMsMax = 30'000;

// With --fsync always, a connection whose replies wait for the log goes on reading (so the
// common case, a client waiting for its reply, costs no epoll changes) but decodes nothing;
// past this much held input it stops reading until the replies are out.
inline constexpr size_t kDurableWaitInputBytesMax = kReadChunkBytes;

// With --fsync always, a loop whose replies wait for an fsync sleeps until that fsync ends
// instead of polling its sockets, for at most this long at a time. What its clients send
// meanwhile could only be answered after a later fsync anyway; read in one round when the
// fsync ends, it costs one wake-up instead of one per arrival (docs/benchmarks.md). The bound
// is how late the loop's timers, new connections and a slow disk's other clients can be.
inline constexpr std::chrono::microseconds kDurableSleepMax{1000};

// Binary requests a connection decodes ahead of the one it runs, when they have arrived with
// it: a command given them (CommandContext::upcoming) starts loading what they will touch, so
// their cache misses overlap its work. Two: the member index slot of the second, the node of
// the first (docs/benchmarks.md).
inline constexpr size_t kLookaheadRequests = 2;

// Argument slots a connection keeps allocated between requests (its decoded requests' args
// vectors, reused): a request with more arguments gives its vector back once it has run.
inline constexpr size_t kRetainedArgumentsMax = 1024;

// Connections across all loops, unless --maxclients says otherwise.
inline constexpr size_t kClientsMaxDefault = 10'000;

// Housekeeping timers, per loop.
inline constexpr int64_t kExpirySweepIntervalMs = 100;
inline constexpr size_t kExpirySweepKeysPerShard = 256;  // per sweep, per shard
inline constexpr int64_t kConnectionCheckIntervalMs = 1000;
// Loop 0's ranking stepper (docs/rankings.md: windows opened ahead, carry-over copies, archives,
// re-scores) runs on a timer of its own, slice after slice until the budget is spent. Short
// and frequent, so that a request arriving on loop 0 meanwhile waits at most about a slice
// plus the budget: 5% of loop 0, which copies a 1M-product window in about 5 s, well inside
// the hour a window opens ahead.
inline constexpr int64_t kRankingStepIntervalMs = 10;
inline constexpr std::chrono::microseconds kRankingStepBudget{500};

static_assert(kOutputPauseBytes < kOutputBytesMax);
static_assert(kExpirySweepKeysPerShard <= 1024, "a sweep of one shard stays well under 1 ms");

}  // namespace podium::server
