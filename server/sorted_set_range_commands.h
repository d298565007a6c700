// The sorted-set range commands (ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZCOUNT),
// kept in a file of their own because range parsing is half of the sorted-set family's code.
// RegisterSortedSetCommands (sorted_set_commands.cc) calls this; nothing else should.
#pragma once

#include <cstddef>

#include "protocol/limits.h"
#include "server/command.h"

namespace podium::server {

// The most entries one range reply may hold. A range that would return more answers a LIMIT
// error instead of building a giant reply under the shard lock; clients page with LIMIT (score
// ranges) or smaller rank ranges. 1M entries is about 20 MB of RESP with WITHSCORES and short
// members; with long ones the reply size limit (kReplySizeBytesMax) comes first, and is
// checked before the reply is built too.
inline constexpr size_t kRangeReplyEntriesMax = 1'000'000;
static_assert(2 * kRangeReplyEntriesMax <= protocol::kReplyValuesMax,
              "the client library decodes the biggest range reply");

void RegisterSortedSetRangeCommands(CommandRegistry& registry);

}  // namespace podium::server
