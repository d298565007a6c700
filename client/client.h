// Client: one connection to podium-server (or, over RESP, to Redis) with blocking calls and
// pipelined batches. podium-cli, podium-bench, podium-batch and the gateway use it.
//
//   Result<Client> client = Client::Connect(options);
//   Result<ReplyValue> reply = client->Call(Opcode::kZIncrBy, "board", 1.0, "42");
//   Pipeline pipeline = client->Pipeline();
//   pipeline.Add(Opcode::kZCard, "board");
//   pipeline.Add("ZREVRANGE", "board", 0, 9, "WITHSCORES");
//   PipelineResult batch = pipeline.Execute();  // batch.replies, batch.status
//
// Two kinds of failure. An error *reply* (SOLDOUT, WRONGTYPE, unknown command, ...) is an ok
// Result holding a ReplyValue of type kError; nothing is wrong with the connection. A
// transport failure (closed, reset, timed out, malformed bytes, a reply past
// options.reply_size_bytes_max, the server's PROTOCOL error) is a Status error; the connection
// is closed at once and the client is "broken" until its next call.
//
// Reconnecting. The call after a transport failure first connects again (handshake and AUTH
// included), up to options.reconnect_attempts times, and only then sends its own request. So
// does a call that finds the connection hung up by the server while it was quiet (idle
// timeout, restart, QUIT): each Call and each Execute first checks without waiting (one
// non-blocking recv, TcpSocket::PeerHungUp), since nothing is sent yet and connecting again is
// safe. The server may still close between that check and the request's arrival; the call
// then fails as below. A request whose reply was lost is NEVER resent: the server may or may
// not have executed it, and writes (ZINCRBY, STOCK.RESERVE) are not idempotent, so only the
// caller can decide whether to repeat it (for example after reading the state back).
//
// Error values differ by protocol, as ReplyValue says: binary errors hold the message and
// their status ("3", kSoldOut); RESP errors hold the whole line ("SOLDOUT 3"). ErrorLine() in
// reply_format.h gives the RESP-style line for both.
//
// Ownership and threads: a Client owns its socket and buffers; replies are owned values that
// outlive the call. A Client is used by one thread at a time (no internal locking); use one
// Client per thread. It is movable; moving it invalidates Pipelines made from it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_options.h"
#include "client/request_encoding.h"
#include "client/result.h"
#include "client/tcp_socket.h"
#include "protocol/opcodes.h"
#include "protocol/reply_value.h"
#include "protocol/request.h"
#include "protocol/resp_reply_decoder.h"

namespace podium::client {

class Client;

// What Pipeline::Execute returns: the replies that arrived, in Add order, and how the batch
// ended.
//   - status ok: one reply per request.
//   - status kInvalidArgument: an Add failed (Pipeline::Add); nothing was sent, replies is
//     empty and no request ran.
//   - any other status: a transport failure (see Client); the connection is closed. replies
//     holds the replies of the first replies.size() requests, which ran (or were answered
//     locally) as those replies say. Requests from index replies.size() on have an UNKNOWN
//     outcome: each may or may not have been executed, and none is resent. A STOCK.RESERVE
//     among them must be read back (STOCK.GET) before it is repeated.
struct [[nodiscard]] PipelineResult {
  std::vector<protocol::ReplyValue> replies;
  Status status;

  bool ok() const { return status.ok(); }
};

// A batch of requests sent together (one write, or a few for big batches) whose replies are
// read back in order: one round trip instead of one per request. Made by Client::Pipeline();
// holds a pointer to its Client, which must outlive it and stay in place. Encoding happens at
// Add, so arguments need not outlive the Add call.
class Pipeline {
 public:
  explicit Pipeline(Client* client) : client_(client) {}

  // As Client::Call, queued. A request that cannot be encoded (see AppendRequest) makes
  // Execute fail without sending anything.
  void Add(protocol::Opcode opcode, std::span<const protocol::Argument> args = {}) {
    AddRequest(opcode, {}, args);
  }
  void Add(std::string_view name, std::span<const protocol::Argument> args = {}) {
    AddRequest(protocol::Opcode::kNone, name, args);
  }
  template <ArgumentLike First, ArgumentLike... Rest>
  void Add(protocol::Opcode opcode, const First& first, const Rest&... rest) {
    const std::array<protocol::Argument, 1 + sizeof...(Rest)> args{ToArgument(first),
                                                                   ToArgument(rest)...};
    AddRequest(opcode, {}, args);
  }
  template <ArgumentLike First, ArgumentLike... Rest>
  void Add(std::string_view name, const First& first, const Rest&... rest) {
    const std::array<protocol::Argument, 1 + sizeof...(Rest)> args{ToArgument(first),
                                                                   ToArgument(rest)...};
    AddRequest(protocol::Opcode::kNone, name, args);
  }
  // words[0] is the command name, the rest are sent as bytes (as typed on a command line).
  void AddWords(std::span<const std::string_view> words);

  size_t size() const { return local_replies_.size(); }

  // Sends every request added since the last Execute and returns their replies, one per Add,
  // in order; on a failure, the replies that arrived before it and the reason (see
  // PipelineResult for which requests ran). Either way the pipeline is empty afterwards and
  // can be reused.
  PipelineResult Execute();

 private:
  void AddRequest(protocol::Opcode opcode, std::string_view name,
                  std::span<const protocol::Argument> args);
  void Clear();

  Client* client_;
  std::string requests_;               // encoded, in Add order
  std::vector<uint32_t> request_ids_;  // one per request in requests_
  // One per Add: set when the reply was made locally (no opcode for the name); nullopt when
  // it comes from the server.
  std::vector<std::optional<protocol::ReplyValue>> local_replies_;
  Status error_;  // the first Add that failed; Execute returns it
};

class Client {
 public:
  // Connects (one attempt), does the binary handshake when options.protocol is kBinary, then
  // AUTH when a password is set, all within options.connect_timeout_ms. Errors:
  // kInvalidArgument (ValidateOptions), kConnectFailed (also: the server refused the
  // connection, e.g. past --maxclients), kTimeout, kProtocol (handshake refused), kAuthFailed
  // (the server refused the password), kClosed.
  static Result<Client> Connect(const ClientOptions& options);

  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept = default;

  // One request, waiting for its reply. By opcode (RESP sends the opcode's name), or by name
  // (the binary protocol looks the opcode up; an unknown name gets a local UNKNOWN_COMMAND
  // error reply, nothing is sent; so does an empty name, in both protocols). Arguments:
  // ArgumentLike values, or a span of Arguments.
  Result<protocol::ReplyValue> Call(protocol::Opcode opcode,
                                    std::span<const protocol::Argument> args = {}) {
    return CallRequest(opcode, {}, args);
  }
  Result<protocol::ReplyValue> Call(std::string_view name,
                                    std::span<const protocol::Argument> args = {}) {
    return CallRequest(protocol::Opcode::kNone, name, args);
  }
  template <ArgumentLike First, ArgumentLike... Rest>
  Result<protocol::ReplyValue> Call(protocol::Opcode opcode, const First& first,
                                    const Rest&... rest) {
    const std::array<protocol::Argument, 1 + sizeof...(Rest)> args{ToArgument(first),
                                                                   ToArgument(rest)...};
    return CallRequest(opcode, {}, args);
  }
  template <ArgumentLike First, ArgumentLike... Rest>
  Result<protocol::ReplyValue> Call(std::string_view name, const First& first,
                                    const Rest&... rest) {
    const std::array<protocol::Argument, 1 + sizeof...(Rest)> args{ToArgument(first),
                                                                   ToArgument(rest)...};
    return CallRequest(protocol::Opcode::kNone, name, args);
  }
  // words[0] is the command name (not empty), the rest are sent as bytes, e.g. the words of a
  // podium-cli line. The server parses numbers from text.
  Result<protocol::ReplyValue> CallWords(std::span<const std::string_view> words);

  // A new, empty batch on this client.
  podium::client::Pipeline Pipeline() { return podium::client::Pipeline(this); }

  // The password for the AUTH after every later (re)connect, e.g. the one a podium-cli user
  // typed in an AUTH the server accepted. Sends nothing. kInvalidArgument (and no change)
  // past kPasswordSizeBytesMax; "" means no AUTH.
  Status SetPassword(std::string_view password);

  // False after a transport failure, until a call reconnects.
  bool connected() const { return socket_.is_open(); }
  const ClientOptions& options() const { return options_; }

 private:
  friend class podium::client::Pipeline;

  explicit Client(ClientOptions options) : options_(std::move(options)) {}

  Result<protocol::ReplyValue> CallRequest(protocol::Opcode opcode, std::string_view name,
                                           std::span<const protocol::Argument> args);
  // Connects, handshakes, authenticates, all by options.connect_timeout_ms; on failure the
  // client stays closed.
  Status Open();
  Status Handshake(Deadline deadline);
  Status Authenticate(Deadline deadline);
  // Reconnects a broken client, or one whose quiet connection the server hung up
  // (options.reconnect_attempts).
  Status EnsureConnected();
  // EnsureConnected, then Exchange.
  Status RoundTrip(std::string_view requests, std::span<const uint32_t> request_ids,
                   std::vector<protocol::ReplyValue>* replies);
  // Sends `requests` and appends one reply per id to *replies (binary: checking each reply's
  // id; RESP: ids are ignored). Reads while it writes and decodes replies as they complete,
  // so the read buffer holds at most one partial reply and one receive chunk. On a failure
  // *replies keeps the replies that arrived before it, including those the server sent
  // before a failed send. Each wait is at most options.io_timeout_ms and ends by `deadline`.
  Status Exchange(std::string_view requests, std::span<const uint32_t> request_ids,
                  std::vector<protocol::ReplyValue>* replies, Deadline deadline = kNoDeadline);
  // kProtocol for the server's PROTOCOL error or, binary, a reply for another request.
  Status CheckReply(const protocol::ReplyValue& reply, uint32_t received_id, uint32_t due_id) const;
  // The server's PROTOCOL error if one is buffered (why it closed), else `status`.
  Status ServerReasonOr(Status status);
  // Decodes the reply at the front of the unconsumed bytes, if complete.
  protocol::DecodeResult DecodeBuffered(protocol::ReplyValue* reply, uint32_t* request_id);
  void CompactReadBuffer();
  // Closes the connection and forgets buffered bytes.
  void Disconnect();
  // Disconnect, then return `status`.
  Status Break(Status status);
  // `status` (an error) with "<step>: " before its message.
  static Status WithContext(std::string_view step, Status status);

  ClientOptions options_;
  TcpSocket socket_;
  std::string read_buffer_;  // received bytes; [read_offset_, size) not yet decoded
  size_t read_offset_ = 0;
  protocol::RespReplyDecoder resp_decoder_;
  uint32_t next_request_id_ = 1;
  std::string send_buffer_;                    // Call's request, reused
  std::vector<protocol::ReplyValue> replies_;  // Call's reply, reused
};

}  // namespace podium::client
