#include "client/request_encoding.h"

#include "protocol/binary_format.h"
#include "protocol/limits.h"
#include "protocol/request_encoder.h"
#include "protocol/status_codes.h"

namespace podium::client {

namespace {

// The binary frame's size (docs/protocol.md, "Request frame"), computed before encoding
// because the encoder CHECKs it.
size_t BinaryRequestSizeBytes(std::span<const protocol::Argument> args) {
  size_t size = protocol::kRequestSizeBytesMin;
  for (const protocol::Argument& argument : args) {
    size += 1 + (argument.type == protocol::ArgumentType::kBytes ? 4 + argument.bytes.size() : 8);
  }
  return size;
}

Status CheckArguments(std::span<const protocol::Argument> args) {
  if (args.size() > protocol::kArgumentsPerRequestMax) {
    return Status::InvalidArgument("a request takes at most " +
                                   std::to_string(protocol::kArgumentsPerRequestMax) +
                                   " arguments, not " + std::to_string(args.size()));
  }
  for (const protocol::Argument& argument : args) {
    if (argument.type == protocol::ArgumentType::kBytes &&
        argument.bytes.size() > protocol::kArgumentSizeBytesMax) {
      return Status::InvalidArgument("an argument of " + std::to_string(argument.bytes.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(protocol::kArgumentSizeBytesMax));
    }
  }
  return Status::Ok();
}

Status TooLarge(size_t size_bytes) {
  return Status::InvalidArgument("a request of " + std::to_string(size_bytes) +
                                 " bytes exceeds the limit of " +
                                 std::to_string(protocol::kRequestSizeBytesMax));
}

}  // namespace

Status AppendRequest(ClientProtocol protocol, uint32_t request_id, protocol::Opcode opcode,
                     std::string_view name, std::span<const protocol::Argument> args,
                     std::string* out, std::optional<protocol::ReplyValue>* local_reply) {
  local_reply->reset();
  if (name.empty() && opcode == protocol::Opcode::kNone) {
    // An empty command name (`""` typed at a prompt) is bad input: no opcode to send, and over
    // RESP the server's answer would differ by server. Redis's reply, made here.
    *local_reply = protocol == ClientProtocol::kResp
                       ? protocol::ReplyValue::Error(protocol::StatusCode::kUnknownCommand,
                                                     "ERR unknown command ''")
                       : protocol::ReplyValue::Error(protocol::StatusCode::kUnknownCommand,
                                                     "unknown command ''");
    return Status::Ok();
  }
  Status status = CheckArguments(args);
  if (!status.ok()) return status;

  if (protocol == ClientProtocol::kResp) {
    if (name.empty()) {
      const protocol::CommandName* command = protocol::FindCommand(opcode);
      if (command == nullptr) {
        return Status::InvalidArgument("opcode " + std::to_string(static_cast<int>(opcode)) +
                                       " has no RESP name");
      }
      name = command->name;
    }
    const size_t start = out->size();
    protocol::AppendRespRequest(name, args, out);
    const size_t size = out->size() - start;
    if (size > protocol::kRequestSizeBytesMax) {
      out->resize(start);
      return TooLarge(size);
    }
    return Status::Ok();
  }

  if (!name.empty()) {
    const protocol::CommandName* command = protocol::FindCommand(name);
    if (command == nullptr) {
      *local_reply = protocol::ReplyValue::Error(protocol::StatusCode::kUnknownCommand,
                                                 "unknown command '" + std::string(name) + "'");
      return Status::Ok();
    }
    opcode = command->opcode;
  }
  const size_t size = BinaryRequestSizeBytes(args);
  if (size > protocol::kRequestSizeBytesMax) return TooLarge(size);
  protocol::AppendBinaryRequest(request_id, opcode, args, out);
  return Status::Ok();
}

}  // namespace podium::client
