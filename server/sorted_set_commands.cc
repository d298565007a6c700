// Sorted-set commands: ZADD, ZINCRBY, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCARD and ZREM here;
// the range commands (ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZCOUNT) in
// sorted_set_range_commands.cc, ZUNIONSTORE in sorted_set_union_command.cc.
//
// Redis's t_zset.c is the reference for syntax, replies and error texts. The rule that shapes
// every handler: parse and check every argument (scores, members, options) before locking the
// key, so that an error reply means nothing changed. ZADD adds one more step for the two
// errors that can only be seen against the set (an INCR that would make NaN, a set that would
// pass kSortedSetMembersMax): it checks them before its first change.
//
// A sorted set that loses its last member disappears (Keyspace::DropIfEmpty), and a write that
// created a set and then failed leaves no empty key behind.
//
// Deviations from Redis: members are at most kMemberSizeBytesMax bytes and keys 1 to
// kKeySizeBytesMax bytes (LIMIT error); ZRANK/ZREVRANK ... WITHSCORE answer a missing member
// with a nil bulk string ($-1) where Redis sends a nil array (*-1), since ReplyWriter has no
// nil array; ZUNIONSTORE parses its options before looking at its sources, so a syntax error
// wins over WRONGTYPE when a command has both.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/request.h"
#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "server/limits.h"
#include "server/sorted_set_range_commands.h"
#include "server/sorted_set_union_command.h"
#include "storage/database.h"
#include "storage/effects.h"
#include "storage/keyspace.h"
#include "storage/limits.h"
#include "storage/sorted_set.h"

namespace podium::server {
namespace {

using protocol::StatusCode;
using storage::MemberKey;
using storage::SortedSet;

constexpr std::string_view kNanScoreMessage = "resulting score is not a number (NaN)";

using storage::WithoutNegativeZero;

// The sorted set at `key` for reading: *set is null for a missing key. False after replying
// WRONGTYPE for a key of another type.
bool FindForRead(CommandContext& context, storage::Keyspace& keys, std::string_view key,
                 SortedSet** set) {
  storage::Result<SortedSet*> found = keys.FindSortedSet(key, context.now_ms);
  if (!found.ok()) {
    ReplyStatus(context, found.status());
    return false;
  }
  *set = *found;
  return true;
}

// Reads members from argument `first` on, `step` apart, to the end.
bool ReadMembers(CommandContext& context, size_t first, size_t step,
                 std::vector<MemberKey>* members) {
  members->reserve((context.argc() - first + step - 1) / step);
  for (size_t index = first; index < context.argc(); index += step) {
    MemberKey member = MemberKey::FromInteger(0);
    if (!ReadMember(context, index, &member)) return false;
    members->push_back(member);
  }
  return true;
}

// ---- ZADD and ZINCRBY ------------------------------------------------------------------------

struct ZAddOptions {
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
  bool ch = false;
  bool incr = false;
};

struct ZAddOutcome {
  int64_t added = 0;
  int64_t updated = 0;    // existing members whose score changed
  int64_t processed = 0;  // members not skipped by NX, XX, GT or LT
  double score = 0;       // INCR: the member's new score
};

// The score `member` gets by ZADD's rules (zsetAdd in t_zset.c), or nullopt when NX, XX, GT or
// LT skip it. NaN only for INCR on an existing member (inf + -inf).
std::optional<double> ZAddTarget(const ZAddOptions& options, std::optional<double> current,
                                 double score) {
  if (!current.has_value()) return options.xx ? std::nullopt : std::optional<double>(score);
  if (options.nx) return std::nullopt;
  if (options.incr) score += *current;
  if ((options.lt && score >= *current) || (options.gt && score <= *current)) return std::nullopt;
  return score;
}

// Applies ZADD's pairs to `set`: all of them, or (error) none.
storage::Status ApplyZAdd(SortedSet* set, const ZAddOptions& options,
                          const std::vector<double>& scores, const std::vector<MemberKey>& members,
                          ZAddOutcome* outcome) {
  DCHECK_EQ(scores.size(), members.size());
  if (options.incr) {
    DCHECK_EQ(scores.size(), 1u);
    const std::optional<double> target = ZAddTarget(options, set->Score(members[0]), scores[0]);
    if (target.has_value() && std::isnan(*target)) {
      return storage::Status::InvalidArgument(std::string(kNanScoreMessage));
    }
  }
  // A set near its bound: refuse before the first change if the new members cannot all fit
  // (a new member named twice counts twice here, which errs on the side of refusing).
  if (!options.xx && set->size() + members.size() > storage::kSortedSetMembersMax) {
    const auto absent = static_cast<size_t>(
        std::count_if(members.begin(), members.end(),
                      [set](const MemberKey& member) { return !set->Score(member).has_value(); }));
    if (set->size() + absent > storage::kSortedSetMembersMax) {
      return storage::Status::LimitExceeded(
          "sorted set is full (" + std::to_string(storage::kSortedSetMembersMax) + " members)");
    }
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const std::optional<double> current = set->Score(members[i]);
    const std::optional<double> target = ZAddTarget(options, current, scores[i]);
    if (!target.has_value()) continue;
    ++outcome->processed;
    outcome->score = *target;
    if (current.has_value() && *current == *target) continue;
    storage::Result<bool> added = set->Set(members[i], *target);
    CHECK(added.ok()) << added.status().ToString();  // members, scores and room were checked
    ++(*added ? outcome->added : outcome->updated);
  }
  return storage::Status::Ok();
}

// Reads ZADD's options from argument 1 on; *first_score is where the score-member pairs begin.
bool ReadZAddOptions(CommandContext& context, ZAddOptions* options, size_t* first_score) {
  size_t index = 1;
  for (; index < context.argc(); ++index) {
    if (ArgumentIs(context, index, "NX")) {
      options->nx = true;
    } else if (ArgumentIs(context, index, "XX")) {
      options->xx = true;
    } else if (ArgumentIs(context, index, "GT")) {
      options->gt = true;
    } else if (ArgumentIs(context, index, "LT")) {
      options->lt = true;
    } else if (ArgumentIs(context, index, "CH")) {
      options->ch = true;
    } else if (ArgumentIs(context, index, "INCR")) {
      options->incr = true;
    } else {
      break;
    }
  }
  const size_t elements = context.argc() - index;
  if (elements == 0 || elements % 2 != 0) {
    ReplySyntaxError(context);
    return false;
  }
  if (options->nx && options->xx) {
    context.reply.Error(StatusCode::kErr, "XX and NX options at the same time are not compatible");
    return false;
  }
  if ((options->gt && options->nx) || (options->lt && options->nx) ||
      (options->gt && options->lt)) {
    context.reply.Error(StatusCode::kErr,
                        "GT, LT, and/or NX options at the same time are not compatible");
    return false;
  }
  if (options->incr && elements > 2) {
    context.reply.Error(StatusCode::kErr, "INCR option supports a single increment-element pair");
    return false;
  }
  *first_score = index;
  return true;
}

// Logs the final score of every member ZADD named (those it did not change too: an assignment
// of the value a member already has is harmless, and finding out which changed costs more).
void LogZAdd(CommandContext& context, std::string_view key, bool created, const SortedSet& set,
             const std::vector<MemberKey>& members) {
  if (context.db.log() == nullptr) return;
  std::vector<std::pair<MemberKey, double>> scored;
  scored.reserve(members.size());
  for (const MemberKey& member : members) {
    if (std::optional<double> score = set.Score(member)) scored.emplace_back(member, *score);
  }
  storage::LogSortedSetPut(context.db.log(), key, created, scored);
}

// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
void ZAddCommand(CommandContext& context) {
  std::string_view key;
  ZAddOptions options;
  size_t first_score = 0;
  if (!ReadKey(context, 0, &key) || !ReadZAddOptions(context, &options, &first_score)) return;
  // Every score first, then every member, as Redis does: a bad one anywhere changes nothing.
  std::vector<double> scores;
  scores.reserve((context.argc() - first_score) / 2);
  for (size_t index = first_score; index < context.argc(); index += 2) {
    double score = 0;
    if (!ReadDouble(context, index, &score)) return;
    scores.push_back(WithoutNegativeZero(score));
  }
  std::vector<MemberKey> members;
  if (!ReadMembers(context, first_score + 1, 2, &members)) return;

  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    // XX never adds, so it never creates the key.
    storage::Result<SortedSet*> found = options.xx
                                            ? keys.FindSortedSet(key, context.now_ms)
                                            : keys.FindOrCreateSortedSet(key, context.now_ms);
    if (!found.ok()) {
      ReplyStatus(context, found.status());
      return;
    }
    ZAddOutcome outcome;
    if (*found != nullptr) {
      SortedSet* set = *found;
      const bool created = set->size() == 0;  // an existing set is never empty
      storage::Status status = ApplyZAdd(set, options, scores, members, &outcome);
      keys.DropIfEmpty(key);  // a set created for nothing
      if (!status.ok()) {
        ReplyStatus(context, status);
        return;
      }
      if (outcome.added + outcome.updated > 0) LogZAdd(context, key, created, *set, members);
    }
    if (!options.incr) {
      context.reply.Integer(options.ch ? outcome.added + outcome.updated : outcome.added);
    } else if (outcome.processed > 0) {
      context.reply.Double(outcome.score);
    } else {
      context.reply.Nil();
    }
  });
}

// Starts loading what the next pipelined requests will touch when they are this same command
// on this same key (CommandContext::upcoming): the index slot of the second, and the node of
// the first, whose slot this command's predecessor loaded. A batch of increments then overlaps
// its cache misses (docs/benchmarks.md).
constexpr size_t kNodeHintAhead = 0;  // upcoming[0]: SortedSet::PrefetchNode
constexpr size_t kSlotHintAhead = 1;  // upcoming[1]: SortedSet::Prefetch
static_assert(kSlotHintAhead < kLookaheadRequests, "the connection decodes that far ahead");

void PrefetchUpcoming(const CommandContext& context, const SortedSet& set, size_t member_arg) {
  for (size_t i = 0; i < context.upcoming.size() && i <= kSlotHintAhead; ++i) {
    const protocol::Request& next = context.upcoming[i];
    if (next.opcode != context.request.opcode || next.args.size() <= member_arg ||
        next.args[0].type != protocol::ArgumentType::kBytes ||
        next.args[0].bytes != context.arg(0).bytes) {
      continue;
    }
    const std::optional<MemberKey> member = MemberOf(next.args[member_arg]);
    if (!member.has_value()) continue;
    if (i == kNodeHintAhead) {
      set.PrefetchNode(*member);
    } else {
      set.Prefetch(*member);
    }
  }
}

// ZINCRBY key increment member

void ZIncrByCommand(CommandContext& context) {
  std::string_view key;
  double increment = 0;
  MemberKey member = MemberKey::FromInteger(0);
  if (!ReadKey(context, 0, &key) || !ReadDouble(context, 1, &increment) ||
      !ReadMember(context, 2, &member)) {
    return;
  }
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    storage::Result<SortedSet*> found = keys.FindOrCreateSortedSet(key, context.now_ms);
    if (!found.ok()) {
      ReplyStatus(context, found.status());
      return;
    }
    const bool created = (*found)->size() == 0;  // an existing set is never empty
    PrefetchUpcoming(context, **found, 2);
    storage::Result<double> score = (*found)->IncrementBy(member, WithoutNegativeZero(increment));
    if (!score.ok()) {
      keys.DropIfEmpty(key);
      ReplyStatus(context, score.status());
      return;
    }
    if (storage::EffectLog* log = context.db.log()) {
      const std::pair<MemberKey, double> change(member, *score);
      storage::LogSortedSetPut(log, key, created, std::span(&change, 1));
    }
    context.reply.Double(*score);
  });
}

// ---- Reads of single members -----------------------------------------------------------------

void ZScoreCommand(CommandContext& context) {
  std::string_view key;
  MemberKey member = MemberKey::FromInteger(0);
  if (!ReadKey(context, 0, &key) || !ReadMember(context, 1, &member)) return;
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    SortedSet* set = nullptr;
    if (!FindForRead(context, keys, key, &set)) return;
    if (set != nullptr) PrefetchUpcoming(context, *set, 1);
    const std::optional<double> score = set != nullptr ? set->Score(member) : std::nullopt;
    if (score.has_value()) {
      context.reply.Double(*score);
    } else {
      context.reply.Nil();
    }
  });
}

// ZMSCORE key member [member ...]: a missing key gives one nil per member.
void ZMScoreCommand(CommandContext& context) {
  std::string_view key;
  std::vector<MemberKey> members;
  if (!ReadKey(context, 0, &key) || !ReadMembers(context, 1, 1, &members)) return;
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    SortedSet* set = nullptr;
    if (!FindForRead(context, keys, key, &set)) return;
    context.reply.ArrayHeader(members.size());
    for (const MemberKey& member : members) {
      const std::optional<double> score = set != nullptr ? set->Score(member) : std::nullopt;
      if (score.has_value()) {
        context.reply.Double(*score);
      } else {
        context.reply.Nil();
      }
    }
  });
}

// ZRANK / ZREVRANK key member [WITHSCORE]: the rank, or [rank, score] with WITHSCORE.
void ZRankGeneric(CommandContext& context, storage::Order order, std::string_view name) {
  if (context.argc() > 3) {
    ReplyArityError(context.reply, name);
    return;
  }
  std::string_view key;
  MemberKey member = MemberKey::FromInteger(0);
  if (!ReadKey(context, 0, &key) || !ReadMember(context, 1, &member)) return;
  const bool with_score = context.argc() == 3;
  if (with_score && !ArgumentIs(context, 2, "WITHSCORE")) {
    ReplySyntaxError(context);
    return;
  }
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    SortedSet* set = nullptr;
    if (!FindForRead(context, keys, key, &set)) return;
    const std::optional<size_t> rank = set != nullptr ? set->Rank(member, order) : std::nullopt;
    if (!rank.has_value()) {
      context.reply.Nil();
      return;
    }
    if (with_score) context.reply.ArrayHeader(2);
    context.reply.Integer(static_cast<int64_t>(*rank));
    if (with_score) context.reply.Double(*set->Score(member));
  });
}

void ZRankCommand(CommandContext& context) {
  ZRankGeneric(context, storage::Order::kAscending, "zrank");
}
void ZRevRankCommand(CommandContext& context) {
  ZRankGeneric(context, storage::Order::kDescending, "zrevrank");
}

void ZCardCommand(CommandContext& context) {
  std::string_view key;
  if (!ReadKey(context, 0, &key)) return;
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    SortedSet* set = nullptr;
    if (!FindForRead(context, keys, key, &set)) return;
    context.reply.Integer(set != nullptr ? static_cast<int64_t>(set->size()) : 0);
  });
}

// ZREM key member [member ...]: members removed; the key goes when its last member does.
void ZRemCommand(CommandContext& context) {
  std::string_view key;
  std::vector<MemberKey> members;
  if (!ReadKey(context, 0, &key) || !ReadMembers(context, 1, 1, &members)) return;
  // Its record is one, whatever it removes (storage/effects.h): refuse one that could not be
  // logged before anything is removed, with a log or without, so that ZREM means one thing.
  if (const size_t bytes = storage::SortedSetRemoveBytes(key, members);
      bytes > storage::kSortedSetRemoveBytesMax) {
    context.reply.Error(StatusCode::kLimit, "ZREM of members taking " + std::to_string(bytes) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(storage::kSortedSetRemoveBytesMax) +
                                                " per call; remove them in smaller calls");
    return;
  }
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    SortedSet* set = nullptr;
    if (!FindForRead(context, keys, key, &set)) return;
    int64_t removed = 0;
    if (set != nullptr) {
      std::vector<MemberKey> gone;
      for (const MemberKey& member : members) {
        if (set->Remove(member)) gone.push_back(member);
      }
      removed = static_cast<int64_t>(gone.size());
      keys.DropIfEmpty(key);
      storage::LogSortedSetRemove(context.db.log(), key, gone);
    }
    context.reply.Integer(removed);
  });
}

}  // namespace

void RegisterSortedSetCommands(CommandRegistry& registry) {
  using protocol::Opcode;
  constexpr uint32_t kRead = kCommandReadOnly | kCommandFast | kCommandKeyShardOnly;
  constexpr uint32_t kWriteFast = kCommandWrite | kCommandFast | kCommandKeyShardOnly;
  // Arity, flags and key positions as Redis 7's COMMAND reports them.
  registry.Add({Opcode::kZAdd, -4, kWriteFast, 1, 1, 1, ZAddCommand});
  registry.Add({Opcode::kZIncrBy, 4, kWriteFast, 1, 1, 1, ZIncrByCommand});
  registry.Add({Opcode::kZScore, 3, kRead, 1, 1, 1, ZScoreCommand});
  registry.Add({Opcode::kZMScore, -3, kRead, 1, 1, 1, ZMScoreCommand});
  registry.Add({Opcode::kZRank, -3, kRead, 1, 1, 1, ZRankCommand});
  registry.Add({Opcode::kZRevRank, -3, kRead, 1, 1, 1, ZRevRankCommand});
  registry.Add({Opcode::kZCard, 2, kRead, 1, 1, 1, ZCardCommand});
  registry.Add({Opcode::kZRem, -3, kWriteFast, 1, 1, 1, ZRemCommand});
  RegisterSortedSetRangeCommands(registry);
  RegisterSortedSetUnionCommand(registry);
}

}  // namespace podium::server
