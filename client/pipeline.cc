// Pipeline: requests are encoded as they are added, so a batch is one buffer and one write;
// replies come back in request order on one connection (docs/protocol.md, "Pipelining and
// ordering"), so reading them is reading the next reply as many times.
#include "client/client.h"
#include "client/limits.h"

namespace podium::client {

void Pipeline::AddWords(std::span<const std::string_view> words) {
  CHECK(!words.empty()) << "AddWords needs a command name";
  std::vector<protocol::Argument> args;
  args.reserve(words.size() - 1);
  for (const std::string_view word : words.subspan(1)) {
    args.push_back(protocol::Argument::Bytes(word));
  }
  AddRequest(protocol::Opcode::kNone, words[0], args);
}

void Pipeline::AddRequest(protocol::Opcode opcode, std::string_view name,
                          std::span<const protocol::Argument> args) {
  if (!error_.ok()) return;  // Execute will fail anyway; keep the first reason
  if (local_replies_.size() >= kPipelineRequestsMax) {
    error_ = Status::InvalidArgument("a pipeline holds at most " +
                                     std::to_string(kPipelineRequestsMax) + " requests");
    return;
  }
  std::optional<protocol::ReplyValue> local_reply;
  const uint32_t request_id = client_->next_request_id_;
  Status status = AppendRequest(client_->options_.protocol, request_id, opcode, name, args,
                                &requests_, &local_reply);
  if (!status.ok()) {
    error_ = std::move(status);
    return;
  }
  if (!local_reply.has_value()) {
    ++client_->next_request_id_;
    request_ids_.push_back(request_id);
  }
  local_replies_.push_back(std::move(local_reply));
}

PipelineResult Pipeline::Execute() {
  PipelineResult result;
  if (!error_.ok()) {
    result.status = std::move(error_);
    Clear();
    return result;
  }
  std::vector<protocol::ReplyValue> received;
  if (!request_ids_.empty()) {
    result.status = client_->RoundTrip(requests_, request_ids_, &received);
  }
  CHECK_LE(received.size(), request_ids_.size());
  if (result.ok()) CHECK_EQ(received.size(), request_ids_.size());
  // Local replies take their places among the server's; on a failure the replies end before
  // the first request the server did not answer, whose outcome (and every later one's) is
  // unknown.
  result.replies.reserve(local_replies_.size());
  size_t next_received = 0;
  for (std::optional<protocol::ReplyValue>& local_reply : local_replies_) {
    if (local_reply.has_value()) {
      result.replies.push_back(std::move(*local_reply));
    } else if (next_received < received.size()) {
      result.replies.push_back(std::move(received[next_received++]));
    } else {
      break;
    }
  }
  CHECK_EQ(next_received, received.size());
  DCHECK(!result.ok() || result.replies.size() == local_replies_.size());
  Clear();
  return result;
}

void Pipeline::Clear() {
  requests_.clear();
  if (requests_.capacity() > kBufferKeptBytesMax) std::string().swap(requests_);
  request_ids_.clear();
  local_replies_.clear();
  error_ = Status::Ok();
}

}  // namespace podium::client
