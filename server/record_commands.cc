// Record commands: GET, SET, DEL, EXISTS, EXPIRE, PEXPIRE, TTL, PTTL, INCRBY, DECRBY, INCR, DECR.
//
// Redis's string commands over storage::Keyspace, with Redis's replies and error texts. Each
// handler parses and checks every argument first and only then locks the key's shard, so an
// error reply never follows a change. String commands call Keyspace::CheckString before
// touching strings(): a key holding a sorted set answers WRONGTYPE, as in Redis. DEL, EXISTS,
// EXPIRE and TTL work on keys of any type through the Keyspace's type-generic methods.
//
// Deviations from Redis, all at the edges: keys are 1..kKeySizeBytesMax bytes (Redis allows
// the empty key); a TTL past storage's kTtlMsMax (100 years) is "invalid expire time" (Redis
// accepts up to int64 overflow); SET takes no EXAT/PXAT.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/number_text.h"
#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "storage/database.h"
#include "storage/effects.h"
#include "storage/keyspace.h"
#include "storage/limits.h"

namespace podium::server {
namespace {

using protocol::StatusCode;

// Redis's wording for a TTL it cannot represent: "invalid expire time in 'set' command".
void ReplyInvalidExpireTime(CommandContext& context, std::string_view command) {
  context.reply.Error(StatusCode::kErr,
                      "invalid expire time in '" + std::string(command) + "' command");
}

// A value to store: bytes as they are; a binary number as the decimal text Redis would hold.
bool ReadValue(CommandContext& context, size_t index, std::string* buffer,
               std::string_view* value) {
  const protocol::Argument& argument = context.arg(index);
  char text[protocol::kNumberTextBytesMax];
  switch (argument.type) {
    case protocol::ArgumentType::kBytes:
      *value = argument.bytes;
      return true;
    case protocol::ArgumentType::kInt64:
      buffer->assign(text, protocol::FormatInt64(argument.int64, text));
      *value = *buffer;
      return true;
    case protocol::ArgumentType::kFloat64:
      buffer->assign(text, protocol::FormatDouble(argument.float64, text));
      *value = *buffer;
      return true;
  }
  context.reply.Error(StatusCode::kErr, "a value must be bytes or a number");
  return false;
}

// Reads keys [first, argc) into *keys; false (error replied) if any is invalid.
bool ReadKeys(CommandContext& context, size_t first, std::vector<std::string_view>* keys) {
  keys->reserve(context.argc() - first);
  for (size_t index = first; index < context.argc(); ++index) {
    std::string_view key;
    if (!ReadKey(context, index, &key)) return false;
    keys->push_back(key);
  }
  return true;
}

// Logs the whole state of a string key after a change: its value and deadline, or its absence.
void LogStringKey(CommandContext& context, storage::Keyspace& keys, std::string_view key) {
  storage::EffectLog* log = context.db.log();
  if (log == nullptr) return;
  const std::optional<std::string_view> value = keys.strings().Get(key, context.now_ms);
  if (value.has_value()) {
    storage::LogStringPut(log, key, *value, keys.Deadline(key, context.now_ms));
  } else {
    storage::LogKeyDelete(log, key);
  }
}

void GetCommand(CommandContext& context) {
  std::string_view key;
  if (!ReadKey(context, 0, &key)) return;
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    if (storage::Status status = keys.CheckString(key, context.now_ms); !status.ok()) {
      ReplyStatus(context, status);
      return;
    }
    const std::optional<std::string_view> value = keys.strings().Get(key, context.now_ms);
    if (value.has_value()) {
      context.reply.Bytes(*value);
    } else {
      context.reply.Nil();
    }
  });
}

// SET's options after key and value, parsed the way Redis's parseExtendedStringArguments does:
// later EX/PX replace earlier ones of the same kind, conflicting ones are a syntax error.
struct SetOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keep_ttl = false;
  size_t expire_index = 0;  // 0: none; else the argument holding the EX/PX number
  bool expire_in_seconds = false;
  std::optional<int64_t> ttl_ms;  // set once the number is read
};

bool ParseSetOptions(CommandContext& context, SetOptions* options) {
  for (size_t index = 2; index < context.argc(); ++index) {
    const bool has_next = index + 1 < context.argc();
    const bool has_expire = options->expire_index != 0;
    if (ArgumentIs(context, index, "NX") && !options->xx) {
      options->nx = true;
    } else if (ArgumentIs(context, index, "XX") && !options->nx) {
      options->xx = true;
    } else if (ArgumentIs(context, index, "GET")) {
      options->get = true;
    } else if (ArgumentIs(context, index, "KEEPTTL") && !has_expire) {
      options->keep_ttl = true;
    } else if (ArgumentIs(context, index, "EX") && !options->keep_ttl && has_next &&
               (!has_expire || options->expire_in_seconds)) {
      options->expire_index = ++index;
      options->expire_in_seconds = true;
    } else if (ArgumentIs(context, index, "PX") && !options->keep_ttl && has_next &&
               (!has_expire || !options->expire_in_seconds)) {
      options->expire_index = ++index;
      options->expire_in_seconds = false;
    } else {
      ReplySyntaxError(context);
      return false;
    }
  }
  if (options->expire_index == 0) return true;
  int64_t expire = 0;
  if (!ReadInt64(context, options->expire_index, &expire)) return false;
  constexpr int64_t kMsPerSecond = 1000;
  const int64_t ttl_max =
      options->expire_in_seconds ? storage::kTtlMsMax / kMsPerSecond : storage::kTtlMsMax;
  if (expire <= 0 || expire > ttl_max) {
    ReplyInvalidExpireTime(context, "set");
    return false;
  }
  options->ttl_ms = options->expire_in_seconds ? expire * kMsPerSecond : expire;
  return true;
}

// SET key value [EX seconds | PX milliseconds | KEEPTTL] [NX | XX] [GET]
void SetCommand(CommandContext& context) {
  std::string_view key;
  std::string value_buffer;
  std::string_view value;
  SetOptions options;
  if (!ReadKey(context, 0, &key) || !ReadValue(context, 1, &value_buffer, &value) ||
      !ParseSetOptions(context, &options)) {
    return;
  }
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    const int64_t now_ms = context.now_ms;
    // GET: the old value, copied because SetString invalidates the view. A sorted set there is
    // WRONGTYPE and nothing is set, as in Redis.
    std::optional<std::string> old_value;
    if (options.get) {
      if (storage::Status status = keys.CheckString(key, now_ms); !status.ok()) {
        ReplyStatus(context, status);
        return;
      }
      if (std::optional<std::string_view> old = keys.strings().Get(key, now_ms)) {
        old_value.emplace(*old);
      }
    }
    const auto reply_skipped = [&] {
      if (!options.get || !old_value.has_value()) {
        context.reply.Nil();
      } else {
        context.reply.Bytes(*old_value);
      }
    };
    const bool exists = keys.Exists(key, now_ms);
    if ((options.nx && exists) || (options.xx && !exists)) {
      reply_skipped();
      return;
    }
    std::optional<int64_t> ttl_ms = options.ttl_ms;
    if (options.keep_ttl) {
      const int64_t remaining_ms = keys.TtlMs(key, now_ms);
      if (remaining_ms > 0) ttl_ms = remaining_ms;
    }
    if (storage::Status status = keys.SetString(key, value, now_ms, ttl_ms); !status.ok()) {
      ReplyStatus(context, status);
      return;
    }
    LogStringKey(context, keys, key);
    if (options.get) {
      reply_skipped();  // the old value, or nil
    } else {
      context.reply.Ok();
    }
  });
}

// DEL key [key ...]: keys are locked one at a time, so DEL of several keys is not atomic
// across shards (a reader may see some deleted and not others).
void DelCommand(CommandContext& context) {
  std::vector<std::string_view> keys_to_delete;
  if (!ReadKeys(context, 0, &keys_to_delete)) return;
  int64_t deleted = 0;
  for (std::string_view key : keys_to_delete) {
    deleted += context.db.WithKey(key, [&](storage::Keyspace& keys) {
      if (!keys.Delete(key, context.now_ms)) return 0;
      storage::LogKeyDelete(context.db.log(), key);
      return 1;
    });
  }
  context.reply.Integer(deleted);
}

// EXISTS key [key ...]: a key named twice counts twice, as in Redis.
void ExistsCommand(CommandContext& context) {
  std::vector<std::string_view> keys_to_check;
  if (!ReadKeys(context, 0, &keys_to_check)) return;
  int64_t existing = 0;
  for (std::string_view key : keys_to_check) {
    existing += context.db.WithKey(
        key, [&](storage::Keyspace& keys) { return keys.Exists(key, context.now_ms) ? 1 : 0; });
  }
  context.reply.Integer(existing);
}

// EXPIRE / PEXPIRE key time [NX | XX | GT | LT], Redis 7's expireGenericCommand. A key without
// a TTL counts as an infinite one for GT and LT. A time <= 0 deletes the key.
void ExpireGeneric(CommandContext& context, std::string_view command, int64_t unit_ms) {
  std::string_view key;
  if (!ReadKey(context, 0, &key)) return;
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t index = 2; index < context.argc(); ++index) {
    if (ArgumentIs(context, index, "NX")) {
      nx = true;
    } else if (ArgumentIs(context, index, "XX")) {
      xx = true;
    } else if (ArgumentIs(context, index, "GT")) {
      gt = true;
    } else if (ArgumentIs(context, index, "LT")) {
      lt = true;
    } else {
      const protocol::Argument& option = context.arg(index);
      const bool is_bytes = option.type == protocol::ArgumentType::kBytes;
      context.reply.Error(StatusCode::kErr, "Unsupported option " +
                                                std::string(is_bytes ? option.bytes : "(number)"));
      return;
    }
  }
  if (nx && (xx || gt || lt)) {
    context.reply.Error(StatusCode::kErr,
                        "NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if (gt && lt) {
    context.reply.Error(StatusCode::kErr, "GT and LT options at the same time are not compatible");
    return;
  }
  int64_t time = 0;
  if (!ReadInt64(context, 1, &time)) return;
  int64_t ttl_ms = 0;
  if (__builtin_mul_overflow(time, unit_ms, &ttl_ms) || ttl_ms > storage::kTtlMsMax) {
    ReplyInvalidExpireTime(context, command);
    return;
  }
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    const int64_t current_ms = keys.TtlMs(key, context.now_ms);  // -2 missing, -1 no TTL
    if (current_ms == -2) {
      context.reply.Integer(0);
      return;
    }
    const bool has_ttl = current_ms >= 0;
    if ((nx && has_ttl) || (xx && !has_ttl) || (gt && (!has_ttl || ttl_ms <= current_ms)) ||
        (lt && has_ttl && ttl_ms >= current_ms)) {
      context.reply.Integer(0);
      return;
    }
    storage::Result<bool> set = keys.Expire(key, ttl_ms, context.now_ms);
    if (!set.ok()) {
      ReplyStatus(context, set.status());
      return;
    }
    if (*set) {
      const std::optional<int64_t> deadline = keys.Deadline(key, context.now_ms);
      if (deadline.has_value()) {
        storage::LogKeyDeadline(context.db.log(), key, deadline);
      } else {
        storage::LogKeyDelete(context.db.log(), key);  // a TTL <= 0 deletes
      }
    }
    context.reply.Integer(*set ? 1 : 0);
  });
}

void ExpireCommand(CommandContext& context) { ExpireGeneric(context, "expire", 1000); }
void PExpireCommand(CommandContext& context) { ExpireGeneric(context, "pexpire", 1); }

// TTL rounds to the nearest second, as Redis does: (ms + 500) / 1000.
void TtlGeneric(CommandContext& context, bool in_ms) {
  std::string_view key;
  if (!ReadKey(context, 0, &key)) return;
  const int64_t ttl_ms = context.db.WithKey(
      key, [&](storage::Keyspace& keys) { return keys.TtlMs(key, context.now_ms); });
  if (ttl_ms < 0 || in_ms) {
    context.reply.Integer(ttl_ms);
  } else {
    context.reply.Integer((ttl_ms + 500) / 1000);
  }
}

void TtlCommand(CommandContext& context) { TtlGeneric(context, false); }
void PTtlCommand(CommandContext& context) { TtlGeneric(context, true); }

void IncrementGeneric(CommandContext& context, std::string_view key, int64_t delta) {
  context.db.WithKey(key, [&](storage::Keyspace& keys) {
    if (storage::Status status = keys.CheckString(key, context.now_ms); !status.ok()) {
      ReplyStatus(context, status);
      return;
    }
    storage::Result<int64_t> value = keys.strings().IncrementBy(key, delta, context.now_ms);
    if (!value.ok()) {
      ReplyStatus(context, value.status());
      return;
    }
    LogStringKey(context, keys, key);
    context.reply.Integer(*value);
  });
}

void IncrByCommand(CommandContext& context) {
  std::string_view key;
  int64_t delta = 0;
  if (!ReadKey(context, 0, &key) || !ReadInt64(context, 1, &delta)) return;
  IncrementGeneric(context, key, delta);
}

void DecrByCommand(CommandContext& context) {
  std::string_view key;
  int64_t delta = 0;
  if (!ReadKey(context, 0, &key) || !ReadInt64(context, 1, &delta)) return;
  if (delta == std::numeric_limits<int64_t>::min()) {
    context.reply.Error(StatusCode::kErr, "decrement would overflow");
    return;
  }
  IncrementGeneric(context, key, -delta);
}

void IncrCommand(CommandContext& context) {
  std::string_view key;
  if (!ReadKey(context, 0, &key)) return;
  IncrementGeneric(context, key, 1);
}

void DecrCommand(CommandContext& context) {
  std::string_view key;
  if (!ReadKey(context, 0, &key)) return;
  IncrementGeneric(context, key, -1);
}

}  // namespace

void RegisterRecordCommands(CommandRegistry& registry) {
  using protocol::Opcode;
  constexpr uint32_t kRead = kCommandReadOnly | kCommandFast | kCommandKeyShardOnly;
  constexpr uint32_t kWriteFast = kCommandWrite | kCommandFast | kCommandKeyShardOnly;
  // Arity, flags and key positions as Redis 7's COMMAND reports them.
  registry.Add({Opcode::kGet, 2, kRead, 1, 1, 1, GetCommand});
  registry.Add({Opcode::kSet, -3, kCommandWrite | kCommandKeyShardOnly, 1, 1, 1, SetCommand});
  registry.Add({Opcode::kDel, -2, kCommandWrite | kCommandKeyShardOnly, 1, -1, 1, DelCommand});
  registry.Add({Opcode::kExists, -2, kRead, 1, -1, 1, ExistsCommand});
  registry.Add({Opcode::kExpire, -3, kWriteFast, 1, 1, 1, ExpireCommand});
  registry.Add({Opcode::kPExpire, -3, kWriteFast, 1, 1, 1, PExpireCommand});
  registry.Add({Opcode::kTtl, 2, kRead, 1, 1, 1, TtlCommand});
  registry.Add({Opcode::kPTtl, 2, kRead, 1, 1, 1, PTtlCommand});
  registry.Add({Opcode::kIncrBy, 3, kWriteFast, 1, 1, 1, IncrByCommand});
  registry.Add({Opcode::kDecrBy, 3, kWriteFast, 1, 1, 1, DecrByCommand});
  registry.Add({Opcode::kIncr, 2, kWriteFast, 1, 1, 1, IncrCommand});
  registry.Add({Opcode::kDecr, 2, kWriteFast, 1, 1, 1, DecrCommand});
}

}  // namespace podium::server
