#include "client/client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>
#include <utility>

#include "client/limits.h"
#include "client/reply_format.h"
#include "protocol/binary_reply_decoder.h"
#include "protocol/handshake.h"
#include "protocol/status_codes.h"

namespace podium::client {

namespace {

using protocol::ReplyValue;

// A server that refuses a connection (past --maxclients) sends a RESP error line instead of its
// hello: '-' is never the hello's first byte (0xB0). Bytes of that line shown at most.
constexpr char kRefusalFirstByte = '-';
constexpr size_t kRefusalLineBytesMax = 256;

// The server's PROTOCOL error is its last word before closing: a transport failure, not a
// reply the caller could act on.
bool IsServerProtocolError(const ReplyValue& reply) {
  return reply.type == protocol::ValueType::kError &&
         reply.status == protocol::StatusCode::kProtocol;
}

// Whether an error reply to AUTH refuses the password itself, so that the same password fails
// again: WRONGPASS, NOAUTH, or a message about the password (older Redis: "ERR invalid
// password", "ERR Client sent AUTH, but no password is set"). Anything else (a RESP server
// past --maxclients answers the AUTH with "ERR max number of clients reached") refuses this
// connection only, and a later attempt may be let in.
bool RefusesThePassword(const ReplyValue& error, ClientProtocol protocol) {
  if (error.status == protocol::StatusCode::kWrongPass ||
      error.status == protocol::StatusCode::kNoAuth) {
    return true;
  }
  std::string line = ErrorLine(error, protocol);
  for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return line.find("password") != std::string::npos;
}

}  // namespace

Result<Client> Client::Connect(const ClientOptions& options) {
  Status status = ValidateOptions(options);
  if (!status.ok()) return status;
  Client client(options);
  status = client.Open();
  if (!status.ok()) return status;
  return client;
}

Result<ReplyValue> Client::CallWords(std::span<const std::string_view> words) {
  CHECK(!words.empty()) << "CallWords needs a command name";
  std::vector<protocol::Argument> args;
  args.reserve(words.size() - 1);
  for (const std::string_view word : words.subspan(1)) {
    args.push_back(protocol::Argument::Bytes(word));
  }
  return CallRequest(protocol::Opcode::kNone, words[0], args);
}

Result<ReplyValue> Client::CallRequest(protocol::Opcode opcode, std::string_view name,
                                       std::span<const protocol::Argument> args) {
  send_buffer_.clear();
  std::optional<ReplyValue> local_reply;
  const uint32_t request_id = next_request_id_;
  Status status =
      AppendRequest(options_.protocol, request_id, opcode, name, args, &send_buffer_, &local_reply);
  if (!status.ok()) return status;
  if (local_reply.has_value()) return std::move(*local_reply);
  ++next_request_id_;
  replies_.clear();
  status = RoundTrip(send_buffer_, {&request_id, 1}, &replies_);
  if (send_buffer_.capacity() > kBufferKeptBytesMax) std::string().swap(send_buffer_);
  if (!status.ok()) return status;
  DCHECK_EQ(replies_.size(), 1u);
  return std::move(replies_[0]);
}

Status Client::Open() {
  Disconnect();
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
  Result<TcpSocket> socket =
      TcpSocket::Connect(options_.host, options_.port, options_.connect_timeout_ms);
  if (!socket.ok()) return socket.status();
  socket_ = std::move(socket).value();
  if (options_.protocol == ClientProtocol::kBinary) {
    Status status = Handshake(deadline);
    if (!status.ok()) return Break(std::move(status));
  }
  if (!options_.password.empty()) {
    Status status = Authenticate(deadline);
    if (!status.ok()) return Break(std::move(status));
  }
  DCHECK(socket_.is_open());
  return Status::Ok();
}

Status Client::Handshake(Deadline deadline) {
  std::string hello;
  protocol::AppendClientHello(protocol::ClientHello{}, &hello);
  Status status = socket_.SendAll(hello, options_.io_timeout_ms, deadline);
  if (!status.ok()) return WithContext("handshake", std::move(status));
  protocol::ServerHello answer;
  while (true) {
    const std::string_view input = std::string_view(read_buffer_).substr(read_offset_);
    if (!input.empty() && input[0] == kRefusalFirstByte) {
      // Past --maxclients the server writes one RESP error line where its hello would be, then
      // closes (docs/protocol.md, "Handshake").
      const size_t end = input.find("\r\n");
      if (end != std::string_view::npos || input.size() > kRefusalLineBytesMax) {
        return Status::Error(
            ErrorCode::kConnectFailed,
            "the server refused the connection: " +
                std::string(input.substr(1, std::min(end, kRefusalLineBytesMax) - 1)));
      }
    }
    const protocol::DecodeResult result = protocol::DecodeServerHello(input, &answer);
    if (result.error()) return Status::Protocol("handshake: " + result.error_message());
    if (result.complete()) {
      read_offset_ += result.consumed_bytes();
      break;
    }
    status = socket_.Receive(options_.io_timeout_ms, deadline, &read_buffer_);
    if (!status.ok()) return WithContext("handshake", std::move(status));
  }
  if (answer.status != protocol::StatusCode::kOk) {
    return Status::Protocol("the server refused the handshake with status " +
                            std::string(protocol::StatusCodeName(answer.status)));
  }
  if (answer.version < protocol::kProtocolVersionMin ||
      answer.version > protocol::kProtocolVersion) {
    return Status::Protocol("the server chose protocol version " + std::to_string(answer.version) +
                            ", this client speaks " +
                            std::to_string(protocol::kProtocolVersionMin) + " to " +
                            std::to_string(protocol::kProtocolVersion));
  }
  CompactReadBuffer();
  return Status::Ok();
}

Status Client::Authenticate(Deadline deadline) {
  const protocol::Argument password = protocol::Argument::Bytes(options_.password);
  std::string request;
  std::optional<ReplyValue> local_reply;
  const uint32_t request_id = next_request_id_++;
  Status status = AppendRequest(options_.protocol, request_id, protocol::Opcode::kAuth, {},
                                {&password, 1}, &request, &local_reply);
  CHECK(status.ok() && !local_reply.has_value()) << status.ToString();
  std::vector<ReplyValue> replies;
  status = Exchange(request, {&request_id, 1}, &replies, deadline);
  if (!status.ok()) return WithContext("AUTH", std::move(status));
  DCHECK_EQ(replies.size(), 1u);
  if (replies[0].type != protocol::ValueType::kError) return Status::Ok();
  const std::string line = ErrorLine(replies[0], options_.protocol);
  if (RefusesThePassword(replies[0], options_.protocol)) {
    return Status::Error(ErrorCode::kAuthFailed, "AUTH refused: " + line);
  }
  return Status::Error(ErrorCode::kConnectFailed, "the server refused the connection: " + line);
}

Status Client::SetPassword(std::string_view password) {
  if (password.size() > kPasswordSizeBytesMax) {
    return Status::InvalidArgument("password is longer than " +
                                   std::to_string(kPasswordSizeBytesMax) + " bytes");
  }
  options_.password = password;
  return Status::Ok();
}

Status Client::EnsureConnected() {
  if (socket_.is_open()) {
    // Bytes received and not yet decoded count as an open connection, as unread ones do in
    // PeerHungUp: they may be the server's last word.
    if (read_offset_ < read_buffer_.size() || !socket_.PeerHungUp()) return Status::Ok();
    // The server closed the connection while it was quiet (idle timeout, restart, QUIT).
    // Nothing of this call is sent yet, so a new connection is safe.
    Disconnect();
  }
  if (options_.reconnect_attempts == 0) {
    return Status::Error(ErrorCode::kClosed,
                         "not connected: the connection broke and reconnect_attempts is 0");
  }
  Status status;
  int attempt = 0;
  while (attempt < options_.reconnect_attempts) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.reconnect_delay_ms));
    }
    ++attempt;
    status = Open();
    if (status.ok()) return status;
    if (status.code() == ErrorCode::kAuthFailed) break;  // the same password fails again
  }
  return Status::Error(status.code(), "reconnect failed after " + std::to_string(attempt) +
                                          " attempt(s): " + status.message());
}

Status Client::RoundTrip(std::string_view requests, std::span<const uint32_t> request_ids,
                         std::vector<ReplyValue>* replies) {
  Status status = EnsureConnected();
  if (!status.ok()) return status;
  return Exchange(requests, request_ids, replies);
}

Status Client::Exchange(std::string_view requests, std::span<const uint32_t> request_ids,
                        std::vector<ReplyValue>* replies, Deadline deadline) {
  DCHECK(socket_.is_open());
  const size_t replies_before = replies->size();
  const size_t replies_wanted = replies_before + request_ids.size();
  size_t sent = 0;
  // Once a send fails nothing more is sent, but the replies the server wrote before it closed
  // may still be unread: they are read and decoded until the receive side fails too.
  Status send_failure;
  while (true) {
    // Decode every complete reply first, so the buffer holds at most one partial reply.
    while (replies->size() < replies_wanted) {
      ReplyValue reply;
      uint32_t received_id = 0;
      const protocol::DecodeResult result = DecodeBuffered(&reply, &received_id);
      if (result.error()) return Break(Status::Protocol(result.error_message()));
      read_offset_ += result.consumed_bytes();
      if (!result.complete()) break;
      Status status = CheckReply(reply, received_id, request_ids[replies->size() - replies_before]);
      if (!status.ok()) return Break(std::move(status));
      replies->push_back(std::move(reply));
    }
    CompactReadBuffer();
    if (replies->size() == replies_wanted) {
      if (sent < requests.size()) {
        return Break(Status::Protocol("the server replied to requests it had not received"));
      }
      return Status::Ok();
    }
    size_t progress = 0;
    if (sent < requests.size() && send_failure.ok()) {
      send_failure = socket_.SendSome(requests.substr(sent), &progress);
      sent += progress;
    }
    size_t received = 0;
    Status status = socket_.ReceiveSome(&read_buffer_, &received);
    if (!status.ok()) {
      return Break(ServerReasonOr(send_failure.ok() ? std::move(status) : std::move(send_failure)));
    }
    if (progress > 0 || received > 0) continue;
    const bool want_write = sent < requests.size() && send_failure.ok();
    status = socket_.Wait(want_write, options_.io_timeout_ms, deadline);
    if (!status.ok()) {
      return Break(send_failure.ok() ? std::move(status) : ServerReasonOr(std::move(send_failure)));
    }
  }
}

Status Client::CheckReply(const ReplyValue& reply, uint32_t received_id, uint32_t due_id) const {
  if (IsServerProtocolError(reply)) {
    return Status::Protocol("server: " + ErrorLine(reply, options_.protocol));
  }
  if (options_.protocol == ClientProtocol::kBinary && received_id != due_id) {
    return Status::Protocol("a reply for request " + std::to_string(received_id) +
                            " arrived when request " + std::to_string(due_id) + " was due");
  }
  return Status::Ok();
}

Status Client::ServerReasonOr(Status status) {
  // A server that closes on a bad request first sends a PROTOCOL error saying why; it may
  // still be in the buffer after the replies already decoded.
  ReplyValue reply;
  uint32_t request_id = 0;
  if (DecodeBuffered(&reply, &request_id).complete() && IsServerProtocolError(reply)) {
    return Status::Protocol("server: " + ErrorLine(reply, options_.protocol));
  }
  return status;
}

protocol::DecodeResult Client::DecodeBuffered(ReplyValue* reply, uint32_t* request_id) {
  const std::string_view input = std::string_view(read_buffer_).substr(read_offset_);
  if (options_.protocol == ClientProtocol::kResp) {
    *request_id = 0;
    return resp_decoder_.Decode(input, options_.reply_size_bytes_max, reply);
  }
  protocol::BinaryReply binary_reply;
  protocol::DecodeResult result =
      protocol::BinaryReplyDecoder().Decode(input, options_.reply_size_bytes_max, &binary_reply);
  if (result.complete()) {
    *request_id = binary_reply.request_id;
    *reply = std::move(binary_reply.value);
  }
  return result;
}

void Client::CompactReadBuffer() {
  DCHECK_LE(read_offset_, read_buffer_.size());
  if (read_offset_ == read_buffer_.size()) {
    read_buffer_.clear();
    read_offset_ = 0;
    if (read_buffer_.capacity() > kBufferKeptBytesMax) std::string().swap(read_buffer_);
  } else if (read_offset_ >= kReadBufferCompactBytesMin &&
             read_offset_ * 2 >= read_buffer_.size()) {
    // The RESP decoder's progress is relative to the unconsumed bytes, which do not change.
    read_buffer_.erase(0, read_offset_);
    read_offset_ = 0;
  }
}

void Client::Disconnect() {
  socket_.Close();
  read_buffer_.clear();
  read_offset_ = 0;
  resp_decoder_.Reset();
}

Status Client::Break(Status status) {
  Disconnect();
  return status;
}

Status Client::WithContext(std::string_view step, Status status) {
  return Status::Error(status.code(), std::string(step) + ": " + status.message());
}

}  // namespace podium::client
