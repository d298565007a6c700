#include "server/arguments.h"

#include <cctype>
#include <cmath>
#include <string>

#include "protocol/number_text.h"
#include "protocol/status_codes.h"
#include "storage/limits.h"

namespace podium::server {

using protocol::ArgumentType;
using protocol::StatusCode;

bool ReadInt64(CommandContext& context, size_t index, int64_t* value) {
  const std::optional<int64_t> parsed = protocol::ArgumentToInt64(context.arg(index));
  if (!parsed.has_value()) {
    context.reply.Error(StatusCode::kErr, "value is not an integer or out of range");
    return false;
  }
  *value = *parsed;
  return true;
}

bool ReadDouble(CommandContext& context, size_t index, double* value) {
  const std::optional<double> parsed = protocol::ArgumentToDouble(context.arg(index));
  if (!parsed.has_value() || std::isnan(*parsed)) {
    context.reply.Error(StatusCode::kErr, "value is not a valid float");
    return false;
  }
  *value = *parsed;
  return true;
}

bool ReadKey(CommandContext& context, size_t index, std::string_view* key) {
  const protocol::Argument& argument = context.arg(index);
  if (argument.type != ArgumentType::kBytes) {
    context.reply.Error(StatusCode::kErr, "a key must be a byte string");
    return false;
  }
  if (argument.bytes.empty() || argument.bytes.size() > storage::kKeySizeBytesMax) {
    context.reply.Error(StatusCode::kLimit, "key must be 1 to " +
                                                std::to_string(storage::kKeySizeBytesMax) +
                                                " bytes");
    return false;
  }
  *key = argument.bytes;
  return true;
}

std::optional<storage::MemberKey> MemberOf(const protocol::Argument& argument) {
  if (argument.type == ArgumentType::kBytes) {
    if (argument.bytes.size() > storage::kMemberSizeBytesMax) return std::nullopt;
    return storage::MemberKey::FromBytes(argument.bytes);
  }
  if (argument.type == ArgumentType::kInt64 && argument.int64 >= 0) {
    return storage::MemberKey::FromInteger(static_cast<uint64_t>(argument.int64));
  }
  return std::nullopt;
}

bool ReadMember(CommandContext& context, size_t index, storage::MemberKey* member) {
  const protocol::Argument& argument = context.arg(index);
  const std::optional<storage::MemberKey> parsed = MemberOf(argument);
  if (parsed.has_value()) {
    *member = *parsed;
    return true;
  }
  if (argument.type == ArgumentType::kBytes &&
      argument.bytes.size() > storage::kMemberSizeBytesMax) {
    context.reply.Error(
        StatusCode::kLimit,
        "member is longer than " + std::to_string(storage::kMemberSizeBytesMax) + " bytes");
  } else {
    context.reply.Error(StatusCode::kErr,
                        "a member must be a byte string or a non-negative integer");
  }
  return false;
}

bool ReadProductId(CommandContext& context, size_t index, uint64_t* product) {
  const std::optional<int64_t> parsed = protocol::ArgumentToInt64(context.arg(index));
  if (!parsed.has_value() || *parsed < 0) {
    context.reply.Error(StatusCode::kErr, "product id must be an integer in [0, 2^63-1]");
    return false;
  }
  *product = static_cast<uint64_t>(*parsed);
  return true;
}

bool ReadIntegerId(CommandContext& context, size_t index, std::string_view what, uint64_t* id) {
  const std::optional<int64_t> parsed = protocol::ArgumentToInt64(context.arg(index));
  if (!parsed.has_value() || *parsed < 0) {
    context.reply.Error(StatusCode::kErr,
                        std::string(what) + " id must be an integer in [0, 2^63-1]");
    return false;
  }
  *id = static_cast<uint64_t>(*parsed);
  return true;
}

bool ReadBytesId(CommandContext& context, size_t index, std::string_view what,
                 std::string_view* id) {
  const protocol::Argument& argument = context.arg(index);
  if (argument.type != ArgumentType::kBytes || argument.bytes.empty() ||
      argument.bytes.size() > storage::kIdBytesMax) {
    context.reply.Error(StatusCode::kErr, std::string(what) + " id must be 1 to " +
                                              std::to_string(storage::kIdBytesMax) + " bytes");
    return false;
  }
  *id = argument.bytes;
  return true;
}

bool ArgumentIs(const CommandContext& context, size_t index, std::string_view word) {
  const protocol::Argument& argument = context.arg(index);
  if (argument.type != ArgumentType::kBytes || argument.bytes.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(argument.bytes[i])) !=
        std::toupper(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

void ReplyStatus(CommandContext& context, const storage::Status& status) {
  DCHECK(!status.ok());
  StatusCode code = StatusCode::kErr;
  switch (status.code()) {
    case storage::StatusCode::kWrongType:
      code = StatusCode::kWrongType;
      break;
    case storage::StatusCode::kNotFound:
      code = StatusCode::kNotFound;
      break;
    case storage::StatusCode::kLimitExceeded:
      code = StatusCode::kLimit;
      break;
    case storage::StatusCode::kSoldOut:
      code = StatusCode::kSoldOut;
      break;
    case storage::StatusCode::kBusy:
      code = StatusCode::kBusy;
      break;
    default:
      code = StatusCode::kErr;
      break;
  }
  context.reply.Error(code, status.message());
}

void ReplySyntaxError(CommandContext& context) {
  context.reply.Error(StatusCode::kErr, "syntax error");
}

void ReplyArityError(protocol::ReplyWriter& reply, std::string_view name) {
  std::string message = "wrong number of arguments for '";
  for (char c : name) message += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  message += "' command";
  reply.Error(StatusCode::kErr, message);
}

}  // namespace podium::server
