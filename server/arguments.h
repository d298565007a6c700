// Reading a command's arguments, and answering errors the way Redis words them.
//
// Each Read* function either stores the parsed argument and returns true, or writes the error
// reply (the command's one reply) and returns false, so a handler reads:
//
//   int64_t units;
//   if (!ReadInt64(context, 1, &units)) return;
//
// Numbers may come as text (RESP, binary bytes) or as binary int64/float64 arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "server/command.h"
#include "storage/member.h"
#include "storage/status.h"

namespace podium::server {

bool ReadInt64(CommandContext& context, size_t index, int64_t* value);
bool ReadDouble(CommandContext& context, size_t index, double* value);  // no NaN
// A key: a byte string of 1..kKeySizeBytesMax bytes.
bool ReadKey(CommandContext& context, size_t index, std::string_view* key);
// A sorted-set member: bytes, or a binary int64 in [0, kProductIdMax].
bool ReadMember(CommandContext& context, size_t index, storage::MemberKey* member);
// The same parse without a reply: nullopt where ReadMember answers an error.
std::optional<storage::MemberKey> MemberOf(const protocol::Argument& argument);
// A product id: an integer in [0, kProductIdMax].
bool ReadProductId(CommandContext& context, size_t index, uint64_t* product);

// An integer id in [0, 2^63-1] (users, brands); `what` names it in the error.
bool ReadIntegerId(CommandContext& context, size_t index, std::string_view what, uint64_t* id);
// A byte-string id of 1..storage::kIdBytesMax bytes (orders, coupons).
bool ReadBytesId(CommandContext& context, size_t index, std::string_view what,
                 std::string_view* id);

// True if argument `index` is a byte string equal to `word` ignoring ASCII case.
bool ArgumentIs(const CommandContext& context, size_t index, std::string_view word);

// Replies with a storage error: its code mapped onto the protocol's, its message kept.
void ReplyStatus(CommandContext& context, const storage::Status& status);
// "-ERR syntax error".
void ReplySyntaxError(CommandContext& context);
// "-ERR wrong number of arguments for '<name>' command".
void ReplyArityError(protocol::ReplyWriter& reply, std::string_view name);

}  // namespace podium::server
