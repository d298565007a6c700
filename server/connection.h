// Connection: one client socket on one event loop, for its whole life.
//
// Bytes in: libuv reads into the loop's shared read buffer. Requests are decoded straight from
// it; only an incomplete tail is copied into the connection's own input buffer, so a client
// that sends whole requests costs no copy. The first byte decides the protocol (0xB0: binary,
// which starts with an 8-byte handshake; anything else: RESP), and one decoder serves the
// connection from then on. On the binary protocol the connection decodes up to
// kLookaheadRequests frames past the one it runs, for the command to prefetch what they will
// touch (CommandContext::upcoming); their bytes count as consumed only once they have run.
//
// Bytes out: every reply is appended to output_ through the protocol's ReplyWriter, in request
// order. The replies to what one read brought are handed to the kernel right after it, or, when
// another loop is waiting for the shard this loop's batch holds, at the end of the round of I/O
// callbacks, once the batch has let go (EventLoop::FlushAtRoundEnd: no contended shard stays
// locked across a write); with uv_try_write, then uv_write for what did not fit. While more
// than kOutputPauseBytes wait, the connection stops decoding and stops reading its socket, so a
// pipelining client that does not read its replies is held by TCP flow control instead of by
// server memory; it is disconnected if, so paused, it reads nothing for kOutputStallMsMax, or
// its queued replies pass kOutputBytesMax. A client that reads a big reply slowly stays paused
// for as long as that takes, and is not stalled: the loop's periodic check sees its unsent
// replies go down (libuv's write queue size shrinks as the kernel takes bytes, even within
// one uv_write, which calls back only once it is all out).
//
// Durability (--fsync always): after a batch of commands, if the log holds records that are not
// yet durable, the replies wait (and decoding stops) until the WAL thread's fsync covers them:
// the records of the batch's own writes, and any other client's record logged before, so that
// no reply ever shows a state a crash could take back. One fsync releases every connection
// waiting on it (group commit). The socket stays read (a stop and restart would cost two epoll
// changes per request) up to kDurableWaitInputBytesMax of held input; an EOF then closes the
// connection only after the held replies, and the replies to what it held, are out.
//
// A malformed request gets an error reply (when the stream allows one) and the connection is
// closed after that reply is written. Nothing here blocks: commands are short by contract.
//
// Thread-safety: owned by its EventLoop's thread; no other thread touches it.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "protocol/binary_request_decoder.h"
#include "protocol/reply_writer.h"
#include "protocol/request.h"
#include "protocol/resp_request_decoder.h"
#include "server/command.h"
#include "server/limits.h"

namespace podium::server {

class EventLoop;

class Connection {
 public:
  Connection(EventLoop* loop, uint64_t id);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uv_tcp_t* tcp() { return &tcp_; }
  uint64_t id() const { return session_.client_id; }

  // Begins reading. Call once, after uv_accept succeeded.
  void Start(int64_t now_ms);
  // Closes the socket; the loop deletes the connection when libuv is done with it.
  void Close();
  // For the loop's periodic check: closes the connection if it has been idle (no request) for
  // idle_ms_max (0: never) or its replies have been stalled too long. Returns true if closed.
  bool CloseIfIdleOrStalled(int64_t now_ms, int64_t idle_ms_max);

  // --fsync always: the log sequence this connection's queued replies wait for, and the loop's
  // call once the log is durable through it (sends them, then decodes what waited).
  uint64_t hold_sequence() const { return hold_sequence_; }
  void OnDurable();
  // The loop's call at the end of a round in which this connection's requests ran
  // (EventLoop::FlushAtRoundEnd): sends their replies.
  void FlushQueued();

 private:
  enum class State : uint8_t { kNew, kHandshake, kBinary, kResp, kClosing };

  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buffer);
  static void OnRead(uv_stream_t* stream, ssize_t bytes, const uv_buf_t* buffer);
  static void OnWrite(uv_write_t* request, int status);
  static void OnClose(uv_handle_t* handle);

  void OnBytes(std::string_view bytes);
  // Decodes and runs requests from `input` until it is used up, the connection pauses, or it
  // closes. Returns the bytes consumed.
  size_t Process(std::string_view input);
  bool ProcessHandshake(std::string_view input, size_t* consumed);
  void Execute(const protocol::Request& request, std::span<const protocol::Request> upcoming);
  // Binary only: puts the request at input[offset...] into request_, taking it from the window
  // decoded ahead when that holds one (the window was decoded, in this same Process call, from
  // the bytes that start at `offset`), and tops the window up to `window` requests from what
  // follows. Returns the result for request_: need_more or an error only when the window was
  // empty; its consumed_bytes() are request_'s.
  protocol::DecodeResult DecodeBinary(std::string_view input, size_t offset, size_t size_max,
                                      size_t window);
  void StartDeferred(const CommandSpec* spec, std::unique_ptr<DeferredCommand> command,
                     uint32_t request_id);
  static void OnDeferredWork(uv_work_t* request);
  static void OnDeferredDone(uv_work_t* request, int status);
  // Decodes what waited in input_ (after a pause or a deferred command) and reads again.
  void Resume();
  void OnPeerClosed();
  void ReplyProtocolError(const std::string& message);
  // After commands ran: with --fsync always, hold their replies until what they logged is
  // durable (the loop's durable waiters), and stop decoding until then.
  void HoldUntilDurable();
  void ResumeIfDrained();
  void Flush();
  // Drops the first `bytes` of input_, decoded; frees a big buffer once nothing is left in it.
  void ConsumeInput(size_t bytes);
  size_t output_pending_bytes() const { return output_.size() + writing_.size(); }
  // Replies the kernel has not taken yet: queued, or in the in-flight write and not yet written.
  size_t output_unsent_bytes() const {
    return output_.size() +
           uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
  }

  EventLoop* const loop_;
  uv_tcp_t tcp_;
  uv_write_t write_request_;
  State state_ = State::kNew;
  bool reading_ = false;
  bool paused_ = false;             // stopped decoding: too many replies queued
  bool close_after_flush_ = false;  // QUIT or a protocol error: close once replies are out
  bool write_in_flight_ = false;
  bool waiting_ = false;         // a deferred command's work is running
  bool closed_waiting_ = false;  // closed while waiting: the work's completion deletes it
  bool durable_waiting_ = false;  // replies held until the log is durable (--fsync always)
  bool peer_closed_ = false;      // EOF came; close once every reply is out
  bool flush_queued_ = false;     // in the loop's queue of replies sent at the round's end
  uint64_t hold_sequence_ = 0;
  std::string input_;    // received bytes not yet decoded (an incomplete request)
  std::string output_;   // replies not yet handed to libuv
  std::string writing_;  // replies in an in-flight uv_write
  protocol::RespRequestDecoder resp_decoder_;
  protocol::BinaryRequestDecoder binary_decoder_;
  std::unique_ptr<protocol::ReplyWriter> writer_;
  protocol::Request request_;
  // Binary requests decoded after request_ (views into the input of the current Process call,
  // so the window is emptied when it returns) and the bytes each took.
  std::array<protocol::Request, kLookaheadRequests> ahead_;
  std::array<size_t, kLookaheadRequests> ahead_bytes_{};
  size_t ahead_count_ = 0;
  Session session_;
  int64_t now_ms_ = 0;            // Unix ms, read once per read event
  int64_t last_request_ms_ = 0;
  // While paused: when the client last read (the kernel took some of its replies), or when it
  // paused, and its unsent reply bytes at the last check; CloseIfIdleOrStalled compares.
  int64_t read_progress_ms_ = 0;
  size_t unsent_bytes_checked_ = 0;
};

}  // namespace podium::server
