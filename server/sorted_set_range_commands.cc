// Sorted-set range commands: ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE and ZCOUNT.
//
// All four range commands are one parser and one executor, as in Redis 6.2's
// zrangeGenericCommand: the legacy commands are ZRANGE with the range type and direction fixed
// (so "REV" or "BYSCORE" after ZRANGEBYSCORE is a syntax error, as there). A range is turned
// into a start rank and an entry count in the requested order before anything is written,
// because the reply states its length first, and so that a range past kRangeReplyEntriesMax,
// or one whose reply would pass the reply size limit, is refused before it is built: built, it
// would sit in the connection's output (up to a gigabyte: a million 1 KiB members) and hold
// the shard lock all that while, only for EndReply to drop it. Replies are RESP2-shaped: a
// flat array of members, or of member, score pairs with WITHSCORES.
//
// Deviations from Redis: BYLEX is not supported (error "ERR BYLEX is not supported"); a score
// bound must be a number ("(" alone or "" is not read as 0 the way strtod lets Redis read it).
#include "server/sorted_set_range_commands.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/number_text.h"
#include "protocol/request.h"
#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "storage/database.h"
#include "storage/keyspace.h"
#include "storage/limits.h"
#include "storage/sorted_set.h"

namespace podium::server {
namespace {

using protocol::StatusCode;
using storage::Order;
using storage::ScoreBound;
using storage::SortedSet;

enum class RangeType : uint8_t { kAuto, kRank, kScore };

struct RangeQuery {
  RangeType type = RangeType::kAuto;
  std::optional<Order> order;  // nullopt until REV or the command fixes it
  bool with_scores = false;
  int64_t offset = 0;
  int64_t limit = -1;  // LIMIT's count; negative: no limit
  int64_t start = 0;   // kRank: ranks in `order`, negative from the end
  int64_t stop = 0;
  ScoreBound min{0};  // kScore
  ScoreBound max{0};
};

// A score bound: a number (inclusive), "(" and a number (exclusive), "-inf", "+inf". A binary
// float64 or int64 argument is an inclusive bound.
bool ParseScoreBound(const protocol::Argument& argument, ScoreBound* bound) {
  if (argument.type == protocol::ArgumentType::kBytes && argument.bytes.starts_with('(')) {
    const std::optional<double> value = protocol::ParseDouble(argument.bytes.substr(1));
    if (!value.has_value()) return false;
    *bound = ScoreBound{*value, true};
    return true;
  }
  const std::optional<double> value = protocol::ArgumentToDouble(argument);
  if (!value.has_value()) return false;
  *bound = ScoreBound{*value, false};
  return true;
}

bool ParseScoreRange(CommandContext& context, size_t min_index, size_t max_index, ScoreBound* min,
                     ScoreBound* max) {
  if (!ParseScoreBound(context.arg(min_index), min) ||
      !ParseScoreBound(context.arg(max_index), max)) {
    context.reply.Error(StatusCode::kErr, "min or max is not a float");
    return false;
  }
  return true;
}

// Parses `key start stop [options]` after `query` got the command's fixed type and order, if
// any. Arguments 1 and 2 are the range; options start at 3.
bool ParseRangeQuery(CommandContext& context, RangeQuery* query) {
  bool by_lex = false;
  for (size_t index = 3; index < context.argc(); ++index) {
    const size_t left = context.argc() - index - 1;
    if (ArgumentIs(context, index, "WITHSCORES")) {
      query->with_scores = true;
    } else if (ArgumentIs(context, index, "LIMIT") && left >= 2) {
      if (!ReadInt64(context, index + 1, &query->offset) ||
          !ReadInt64(context, index + 2, &query->limit)) {
        return false;
      }
      index += 2;
    } else if (!query->order.has_value() && ArgumentIs(context, index, "REV")) {
      query->order = Order::kDescending;
    } else if (query->type == RangeType::kAuto && !by_lex && ArgumentIs(context, index, "BYLEX")) {
      by_lex = true;
    } else if (query->type == RangeType::kAuto && !by_lex &&
               ArgumentIs(context, index, "BYSCORE")) {
      query->type = RangeType::kScore;
    } else {
      ReplySyntaxError(context);
      return false;
    }
  }
  if (by_lex) {
    context.reply.Error(StatusCode::kErr, "BYLEX is not supported");
    return false;
  }
  if (!query->order.has_value()) query->order = Order::kAscending;
  if (query->type == RangeType::kAuto) query->type = RangeType::kRank;
  // Redis's test: "LIMIT offset -1" passes with a rank range, where it is ignored.
  if (query->limit != -1 && query->type == RangeType::kRank) {
    context.reply.Error(StatusCode::kErr,
                        "syntax error, LIMIT is only supported in combination with either "
                        "BYSCORE or BYLEX");
    return false;
  }
  if (query->type == RangeType::kRank) {
    return ReadInt64(context, 1, &query->start) && ReadInt64(context, 2, &query->stop);
  }
  // A reversed score range is written max first.
  const bool reversed = *query->order == Order::kDescending;
  return ParseScoreRange(context, reversed ? 2 : 1, reversed ? 1 : 2, &query->min, &query->max);
}

// The first rank (in the query's order) and the number of entries the query selects.
struct RankSpan {
  size_t start = 0;
  size_t count = 0;
};

RankSpan SpanOfRanks(const SortedSet& set, int64_t start, int64_t stop) {
  const auto size = static_cast<int64_t>(set.size());
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  start = std::max<int64_t>(start, 0);
  if (start > stop || start >= size) return {};
  stop = std::min(stop, size - 1);
  return {static_cast<size_t>(start), static_cast<size_t>(stop - start + 1)};
}

RankSpan SpanOfScores(const SortedSet& set, const RangeQuery& query) {
  const size_t first = set.CountBelow(query.min);
  const size_t end = set.CountBelow(ScoreBound{query.max.value, !query.max.exclusive});
  if (end <= first || query.offset < 0) return {};  // Redis: a negative offset skips all
  const size_t in_range = end - first;
  const auto offset = static_cast<uint64_t>(query.offset);
  if (offset >= in_range) return {};
  const size_t available = in_range - static_cast<size_t>(offset);
  const size_t count =
      query.limit < 0 ? available : std::min(available, static_cast<size_t>(query.limit));
  const size_t start_ascending = first + static_cast<size_t>(offset);
  const size_t start = *query.order == Order::kAscending
                           ? start_ascending
                           : set.size() - end + static_cast<size_t>(offset);
  return {start, count};
}

// A member as replies carry it: its bytes, or an integer member's decimal text (in `text`).
std::string_view MemberBytes(const storage::MemberKey& member,
                             char (&text)[protocol::kNumberTextBytesMax]) {
  if (!member.is_integer()) return member.bytes();
  return {text, protocol::FormatInt64(static_cast<int64_t>(member.integer()), text)};
}

// Bounds for the quick test that a range's reply fits: a member is at most kMemberSizeBytesMax
// bytes, a score's text (RESP) at most kNumberTextBytesMax, and no value's framing takes more
// than kValueFramingBytesMax (RESP: "$", a length of up to 20 digits and two CRLFs, 25 bytes;
// binary: a tag and a u32 length, 5). A wrong bound would only cost memory: EndReply still
// replaces a reply past the limit.
constexpr size_t kValueFramingBytesMax = 32;
constexpr size_t kMemberReplyBytesMax = storage::kMemberSizeBytesMax + kValueFramingBytesMax;
constexpr size_t kScoreReplyBytesMax = protocol::kNumberTextBytesMax + kValueFramingBytesMax;

// The size the range's reply will have, measured value by value before it is written, or at
// least a size past the limit (the measuring stops there); nullopt, without measuring, when
// the bounds above show that it fits, as every range up to about 240k entries does. Measuring
// encodes each value once more and keeps none of it: a bigger range holds its shard about
// twice as long, and one past the limit is never built (up to a GiB, dropped by EndReply).
std::optional<size_t> MeasureReplyIfLarge(protocol::ReplyWriter& reply, const SortedSet& set,
                                          RankSpan span, const RangeQuery& query) {
  const size_t limit = reply.reply_size_bytes_max();
  const size_t before_entries = reply.reply_size_bytes() + kValueFramingBytesMax;
  const size_t entry_bytes_max =
      kMemberReplyBytesMax + (query.with_scores ? kScoreReplyBytesMax : 0);
  if (span.count == 0 ||
      (before_entries <= limit && span.count <= (limit - before_entries) / entry_bytes_max)) {
    return std::nullopt;
  }
  size_t size = reply.reply_size_bytes() +
                reply.ArrayHeaderSize(query.with_scores ? span.count * 2 : span.count);
  set.RangeByRank(span.start, span.start + span.count - 1, *query.order,
                  [&](const storage::MemberKey& member, double score) {
                    if (size > limit) return;  // refused whatever follows
                    char text[protocol::kNumberTextBytesMax];
                    size += reply.BytesSize(MemberBytes(member, text));
                    if (query.with_scores) size += reply.DoubleSize(score);
                  });
  return size;
}

// Parses the query (type and order preset by the command) and replies the range.
void RangeGeneric(CommandContext& context, RangeQuery query) {
  std::string_view key;
  if (!ReadKey(context, 0, &key) || !ParseRangeQuery(context, &query)) return;
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    storage::Result<SortedSet*> found = keys.FindSortedSet(key, context.now_ms);
    if (!found.ok()) {
      ReplyStatus(context, found.status());
      return;
    }
    const SortedSet* set = *found;
    if (set == nullptr) {
      context.reply.ArrayHeader(0);
      return;
    }
    const RankSpan span = query.type == RangeType::kRank
                              ? SpanOfRanks(*set, query.start, query.stop)
                              : SpanOfScores(*set, query);
    if (span.count > kRangeReplyEntriesMax) {
      context.reply.Error(StatusCode::kLimit,
                          "range of " + std::to_string(span.count) +
                              " entries exceeds the limit of " +
                              std::to_string(kRangeReplyEntriesMax) +
                              " per reply; ask for a smaller range or use LIMIT");
      return;
    }
    const std::optional<size_t> measured = MeasureReplyIfLarge(context.reply, *set, span, query);
    if (measured.has_value() && *measured > context.reply.reply_size_bytes_max()) {
      context.reply.ErrorTooLarge(*measured);
      return;
    }
    context.reply.ArrayHeader(query.with_scores ? span.count * 2 : span.count);
    if (span.count == 0) return;
    set->RangeByRank(span.start, span.start + span.count - 1, *query.order,
                     [&](const storage::MemberKey& member, double score) {
                       char text[protocol::kNumberTextBytesMax];
                       context.reply.Bytes(MemberBytes(member, text));
                       if (query.with_scores) context.reply.Double(score);
                     });
    DCHECK(!measured.has_value() || context.reply.reply_size_bytes() == *measured)
        << "the reply is not the size measured";
  });
}

// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
void ZRangeCommand(CommandContext& context) { RangeGeneric(context, RangeQuery{}); }

// ZREVRANGE key start stop [WITHSCORES]
void ZRevRangeCommand(CommandContext& context) {
  RangeGeneric(context, RangeQuery{.type = RangeType::kRank, .order = Order::kDescending});
}

// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
void ZRangeByScoreCommand(CommandContext& context) {
  RangeGeneric(context, RangeQuery{.type = RangeType::kScore, .order = Order::kAscending});
}

// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
void ZRevRangeByScoreCommand(CommandContext& context) {
  RangeGeneric(context, RangeQuery{.type = RangeType::kScore, .order = Order::kDescending});
}

// ZCOUNT key min max
void ZCountCommand(CommandContext& context) {
  std::string_view key;
  ScoreBound min{0};
  ScoreBound max{0};
  if (!ReadKey(context, 0, &key) || !ParseScoreRange(context, 1, 2, &min, &max)) return;
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    storage::Result<SortedSet*> found = keys.FindSortedSet(key, context.now_ms);
    if (!found.ok()) {
      ReplyStatus(context, found.status());
      return;
    }
    size_t count = 0;
    if (const SortedSet* set = *found; set != nullptr) {
      const size_t first = set->CountBelow(min);
      const size_t end = set->CountBelow(ScoreBound{max.value, !max.exclusive});
      count = end > first ? end - first : 0;
    }
    context.reply.Integer(static_cast<int64_t>(count));
  });
}

}  // namespace

void RegisterSortedSetRangeCommands(CommandRegistry& registry) {
  using protocol::Opcode;
  // Arity, flags and key positions as Redis 7's COMMAND reports them.
  registry.Add({Opcode::kZRange, -4, kCommandReadOnly | kCommandKeyShardOnly, 1, 1, 1, ZRangeCommand});
  registry.Add({Opcode::kZRevRange, -4, kCommandReadOnly | kCommandKeyShardOnly, 1, 1, 1, ZRevRangeCommand});
  registry.Add({Opcode::kZRangeByScore, -4, kCommandReadOnly | kCommandKeyShardOnly, 1, 1, 1, ZRangeByScoreCommand});
  registry.Add({Opcode::kZRevRangeByScore, -4, kCommandReadOnly | kCommandKeyShardOnly, 1, 1, 1, ZRevRangeByScoreCommand});
  registry.Add({Opcode::kZCount, 4, kCommandReadOnly | kCommandFast | kCommandKeyShardOnly, 1, 1, 1, ZCountCommand});
}

}  // namespace podium::server
