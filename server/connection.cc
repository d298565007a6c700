#include "server/connection.h"

#include <glog/logging.h>

#include "protocol/binary_reply_writer.h"
#include "protocol/handshake.h"
#include "protocol/resp_reply_writer.h"
#include "server/arguments.h"
#include "server/command_table.h"
#include "server/event_loop.h"
#include "server/limits.h"

namespace podium::server {
namespace {

// Bytes of an unknown command's arguments quoted back in its error, as Redis does.
constexpr size_t kUnknownCommandEchoBytesMax = 128;

Connection* Of(uv_handle_t* handle) { return static_cast<Connection*>(handle->data); }

std::string UnknownCommandMessage(const protocol::Request& request) {
  if (request.name.empty()) {
    return "unknown command opcode " + std::to_string(static_cast<int>(request.opcode));
  }
  std::string message = "unknown command '";
  message.append(request.name.substr(0, kUnknownCommandEchoBytesMax));
  message += "', with args beginning with: ";
  for (const protocol::Argument& argument : request.args) {
    if (message.size() > 2 * kUnknownCommandEchoBytesMax) break;
    if (argument.type != protocol::ArgumentType::kBytes) continue;
    message += "'";
    message.append(argument.bytes.substr(0, kUnknownCommandEchoBytesMax));
    message += "' ";
  }
  return message;
}

}  // namespace

Connection::Connection(EventLoop* loop, uint64_t id) : loop_(loop) {
  CHECK_EQ(uv_tcp_init(loop->uv(), &tcp_), 0);
  tcp_.data = this;
  write_request_.data = this;
  session_.client_id = id;
  session_.loop_index = loop->index();
  session_.authenticated = loop->info().settings.requirepass.empty();
}

void Connection::Start(int64_t now_ms) {
  last_request_ms_ = now_ms;
  uv_tcp_nodelay(&tcp_, 1);
  CHECK_EQ(uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), OnAlloc, OnRead), 0);
  reading_ = true;
}

void Connection::Close() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  if (reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnClose);
}

void Connection::OnClose(uv_handle_t* handle) {
  Connection* connection = Of(handle);
  if (connection->waiting_) {  // a worker still runs its command; OnDeferredDone deletes it
    connection->closed_waiting_ = true;
    return;
  }
  connection->loop_->RemoveConnection(connection);  // deletes it
}

// Stalled is paused and reading nothing: a paused client whose unsent replies went down since
// the last check has read, however slowly, and its stall clock starts over. Replies added
// meanwhile (a deferred command's) only raise the mark the next check compares with.
bool Connection::CloseIfIdleOrStalled(int64_t now_ms, int64_t idle_ms_max) {
  if (state_ == State::kClosing) return false;
  if (paused_) {
    const size_t unsent = output_unsent_bytes();
    if (unsent < unsent_bytes_checked_) read_progress_ms_ = now_ms;
    unsent_bytes_checked_ = unsent;
  }
  const bool stalled =
      paused_ && now_ms - read_progress_ms_ > loop_->info().settings.output_stall_ms_max;
  const bool idle = idle_ms_max > 0 && !paused_ && now_ms - last_request_ms_ > idle_ms_max;
  if (!stalled && !idle) return false;
  LOG(INFO) << "closing client " << id() << (stalled ? ": replies unread" : ": idle");
  Close();
  return true;
}

void Connection::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buffer) {
  *buffer = uv_buf_init(Of(handle)->loop_->read_buffer(), kReadChunkBytes);
}

void Connection::OnRead(uv_stream_t* stream, ssize_t bytes, const uv_buf_t* buffer) {
  Connection* connection = Of(reinterpret_cast<uv_handle_t*>(stream));
  if (bytes == UV_EOF) {
    connection->OnPeerClosed();
    return;
  }
  if (bytes < 0) {  // a reset or an error: nothing more can be sent either
    connection->Close();
    return;
  }
  if (bytes > 0) connection->OnBytes(std::string_view(buffer->base, static_cast<size_t>(bytes)));
}

// A client that sent its last requests and shut down its side still gets every reply: those
// queued or being written, those waiting for the log or for a worker, and those to requests
// held back meanwhile (Resume closes after them).
void Connection::OnPeerClosed() {
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
  peer_closed_ = true;
  if (durable_waiting_ || waiting_ || paused_) return;
  close_after_flush_ = true;
  Flush();
}

// Decodes from the read buffer directly when nothing is pending; keeps only the undecoded tail.
void Connection::OnBytes(std::string_view bytes) {
  now_ms_ = loop_->NowMs();
  if (input_.empty()) {
    const size_t consumed = Process(bytes);
    if (state_ != State::kClosing && consumed < bytes.size()) input_.assign(bytes.substr(consumed));
  } else {
    input_.append(bytes);
    ConsumeInput(Process(input_));
  }
  // While another loop waits for the shard this loop's batch holds, the replies wait for the
  // end of the round, when the batch lets go, rather than keep the shard locked across the
  // write. Otherwise they go at once: a client that gets its replies sooner sends sooner, and a
  // lone loop never sits idle while its clients answer together.
  if (!storage::Database::ShardBatch::CurrentHoldsContended()) {
    Flush();
  } else if (!flush_queued_) {
    flush_queued_ = true;
    loop_->FlushAtRoundEnd(this);
  }
}

void Connection::FlushQueued() {
  flush_queued_ = false;
  Flush();
}

size_t Connection::Process(std::string_view input) {
  DCHECK_EQ(ahead_count_, 0u) << "Process is not re-entered; its window ends with it";
  const bool password_set = !loop_->info().settings.requirepass.empty();
  size_t offset = 0;
  bool executed = false;
  while (state_ != State::kClosing && !paused_ && !waiting_ && !durable_waiting_ &&
         !close_after_flush_ && offset < input.size()) {
    const std::string_view rest = input.substr(offset);
    if (state_ == State::kNew) {
      const bool binary = protocol::DetectProtocol(rest) == protocol::WireProtocol::kBinary;
      state_ = binary ? State::kHandshake : State::kResp;
      if (binary) {
        writer_ = std::make_unique<protocol::BinaryReplyWriter>(&output_);
      } else {
        writer_ = std::make_unique<protocol::RespReplyWriter>(&output_);
      }
      continue;
    }
    if (state_ == State::kHandshake) {
      size_t used = 0;
      if (!ProcessHandshake(rest, &used)) break;
      offset += used;
      continue;
    }
    const size_t size_max = !password_set || session_.authenticated
                                ? loop_->info().settings.request_bytes_max
                                : protocol::kUnauthenticatedRequestSizeBytesMax;
    // Before AUTH only commands that prefetch nothing may run: no window.
    const size_t window = !password_set || session_.authenticated ? kLookaheadRequests : 0;
    const protocol::DecodeResult result = state_ == State::kResp
                                              ? resp_decoder_.Decode(rest, size_max, &request_)
                                              : DecodeBinary(input, offset, size_max, window);
    offset += result.consumed_bytes();
    if (result.need_more()) break;
    if (result.error()) {
      ReplyProtocolError(result.error_message());
      break;
    }
    last_request_ms_ = now_ms_;
    Execute(request_, std::span<const protocol::Request>(ahead_.data(), ahead_count_));
    executed = true;
    if (session_.close_after_reply) close_after_flush_ = true;
    if (request_.args.capacity() > kRetainedArgumentsMax) request_.args = {};
    if (state_ == State::kResp) resp_decoder_.ReleaseInlineBuffers();
    if (output_pending_bytes() > loop_->info().settings.output_bytes_max) {
      LOG(WARNING) << "closing client " << id() << ": " << output_pending_bytes()
                   << " bytes of replies queued";
      Close();
    } else if (output_pending_bytes() > loop_->info().settings.output_pause_bytes) {
      paused_ = true;
      read_progress_ms_ = now_ms_;
      // The first check only takes the mark: what the kernel takes of the replies before the
      // pause's flush is not the client reading.
      unsent_bytes_checked_ = 0;
    }
  }
  ahead_count_ = 0;  // its views into `input` end here; its bytes were not consumed
  for (protocol::Request& ahead : ahead_) {
    if (ahead.args.capacity() > kRetainedArgumentsMax) ahead.args = {};
  }
  if (executed) HoldUntilDurable();
  const bool held_too_much = durable_waiting_ && input.size() - offset > kDurableWaitInputBytesMax;
  if ((paused_ || waiting_ || held_too_much || close_after_flush_) && reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
  return offset;
}

void Connection::HoldUntilDurable() {
  storage::EffectLog* log = loop_->db().log();
  if (log == nullptr || log->fsync_policy() != storage::FsyncPolicy::kAlways ||
      state_ == State::kClosing) {
    return;
  }
  const uint64_t logged = log->last_sequence();
  if (logged <= log->durable_sequence()) return;
  // Sequences only grow, so a wait already running (a deferred command finished and logged
  // after the batch before it) now covers this record too.
  hold_sequence_ = logged;
  if (durable_waiting_) return;
  durable_waiting_ = true;
  loop_->WaitForDurable(this);
}

void Connection::OnDurable() {
  durable_waiting_ = false;
  if (state_ == State::kClosing) return;
  Flush();
  if (!durable_waiting_ && !paused_) Resume();
  Flush();
}

protocol::DecodeResult Connection::DecodeBinary(std::string_view input, size_t offset,
                                                size_t size_max, size_t window) {
  protocol::DecodeResult result = protocol::DecodeResult::NeedMore();
  if (ahead_count_ == 0) {
    result = binary_decoder_.Decode(input.substr(offset), size_max, &request_);
    if (!result.complete()) return result;
  } else {
    result = protocol::DecodeResult::Complete(ahead_bytes_[0]);
    std::swap(request_, ahead_[0]);
    for (size_t i = 1; i < ahead_count_; ++i) {
      std::swap(ahead_[i - 1], ahead_[i]);
      ahead_bytes_[i - 1] = ahead_bytes_[i];
    }
    --ahead_count_;
  }
  // Frames decode the same whenever they are decoded (the decoder keeps no state), so a frame
  // decoded ahead and then dropped is simply decoded again; one that is incomplete or bad
  // stops the window and is dealt with when it comes first.
  size_t next = offset + result.consumed_bytes();
  for (size_t i = 0; i < ahead_count_; ++i) next += ahead_bytes_[i];
  while (ahead_count_ < window && next < input.size()) {
    const protocol::DecodeResult ahead =
        binary_decoder_.Decode(input.substr(next), size_max, &ahead_[ahead_count_]);
    if (!ahead.complete()) break;
    ahead_bytes_[ahead_count_++] = ahead.consumed_bytes();
    next += ahead.consumed_bytes();
  }
  return result;
}

bool Connection::ProcessHandshake(std::string_view input, size_t* consumed) {
  protocol::ClientHello hello;
  const protocol::DecodeResult result = protocol::DecodeClientHello(input, &hello);
  if (result.need_more()) return false;
  protocol::ServerHello answer;
  if (result.error()) {
    answer.status = protocol::StatusCode::kProtocol;
  } else {
    answer = protocol::AnswerClientHello(hello);
  }
  protocol::AppendServerHello(answer, &output_);
  *consumed = result.error() ? input.size() : result.consumed_bytes();
  if (answer.status != protocol::StatusCode::kOk) {
    loop_->info().protocol_errors.fetch_add(1, std::memory_order_relaxed);
    close_after_flush_ = true;
  } else {
    state_ = State::kBinary;
  }
  return true;
}

void Connection::Execute(const protocol::Request& request,
                         std::span<const protocol::Request> upcoming) {
  const CommandTable& table = CommandTable::Get();
  const CommandSpec* spec = table.Find(request.opcode);
  protocol::ReplyWriter& reply = *writer_;
  reply.BeginReply(request.request_id);
  if (spec == nullptr) {
    reply.Error(protocol::StatusCode::kUnknownCommand, UnknownCommandMessage(request));
  } else if (!CommandTable::ArityOk(*spec, request.args.size())) {
    ReplyArityError(reply, CommandTable::NameOf(*spec));  // before NOAUTH, as Redis 7 does
  } else if (!session_.authenticated && (spec->flags & kCommandNoAuth) == 0) {
    reply.Error(protocol::StatusCode::kNoAuth, "Authentication required.");
  } else {
    CommandContext context{loop_->db(), request, reply, session_, loop_->info(), now_ms_};
    context.upcoming = upcoming;
    if ((spec->flags & kCommandKeyShardOnly) != 0) {
      spec->handler(context);
    } else {
      const storage::Database::ShardBatch::Pause pause;  // other locks, or long work
      spec->handler(context);
    }
    if (context.deferred != nullptr) {
      storage::Database::ShardBatch::ReleaseCurrent();
      // The reply is begun again when the work is done: a binary frame's header left in the
      // buffer meanwhile would be sent, and dropped from it, before its length is known.
      reply.CancelReply();
      StartDeferred(spec, std::move(context.deferred), request.request_id);
      return;
    }
    loop_->info().CountCall(loop_->index(), table.IndexOf(spec));
  }
  reply.EndReply();
}

namespace {
struct DeferredRun {
  uv_work_t request;
  Connection* connection;
  const CommandSpec* spec;
  std::unique_ptr<DeferredCommand> command;
  uint32_t request_id;  // of the request whose reply `finish` writes
};
}  // namespace

void Connection::StartDeferred(const CommandSpec* spec, std::unique_ptr<DeferredCommand> command,
                               uint32_t request_id) {
  DCHECK(!waiting_);
  auto* run = new DeferredRun{{}, this, spec, std::move(command), request_id};
  run->request.data = run;
  waiting_ = true;
  CHECK_EQ(uv_queue_work(loop_->uv(), &run->request, OnDeferredWork, OnDeferredDone), 0);
}

void Connection::OnDeferredWork(uv_work_t* request) {
  static_cast<DeferredRun*>(request->data)->command->work();
}

void Connection::OnDeferredDone(uv_work_t* request, int) {
  std::unique_ptr<DeferredRun> run(static_cast<DeferredRun*>(request->data));
  Connection* connection = run->connection;
  connection->waiting_ = false;
  if (connection->closed_waiting_) {
    connection->loop_->RemoveConnection(connection);
    return;
  }
  connection->now_ms_ = connection->loop_->NowMs();
  const storage::Database::ShardBatch::Pause pause;
  protocol::Request none;
  CommandContext context{connection->loop_->db(), none,
                         *connection->writer_, connection->session_,
                         connection->loop_->info(), connection->now_ms_};
  connection->writer_->BeginReply(run->request_id);
  run->command->finish(context);
  connection->writer_->EndReply();
  connection->HoldUntilDurable();
  connection->loop_->info().CountCall(connection->loop_->index(),
                                      CommandTable::Get().IndexOf(run->spec));
  if (connection->state_ == State::kClosing) return;
  connection->Resume();
  connection->Flush();
}

void Connection::ReplyProtocolError(const std::string& message) {
  loop_->info().protocol_errors.fetch_add(1, std::memory_order_relaxed);
  writer_->BeginReply(0);
  writer_->Error(protocol::StatusCode::kProtocol, message);
  writer_->EndReply();
  close_after_flush_ = true;
}

// Hands queued replies to the kernel. When the kernel takes them all at once, a connection
// paused for back-pressure resumes here (no write callback will come to resume it), decoding
// the requests it held back; that repeats until the input is used up or the kernel pushes back.
void Connection::Flush() {
  if (durable_waiting_) return;  // OnDurable flushes
  while (state_ != State::kClosing && !durable_waiting_ && !write_in_flight_ &&
         !output_.empty()) {
    uv_buf_t buffer = uv_buf_init(output_.data(), static_cast<unsigned>(output_.size()));
    auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
    int written = uv_try_write(stream, &buffer, 1);
    if (written == UV_EAGAIN) written = 0;
    if (written < 0) {
      Close();
      return;
    }
    output_.erase(0, static_cast<size_t>(written));
    if (!output_.empty()) {
      writing_.swap(output_);
      buffer = uv_buf_init(writing_.data(), static_cast<unsigned>(writing_.size()));
      CHECK_EQ(uv_write(&write_request_, stream, &buffer, 1, OnWrite), 0);
      write_in_flight_ = true;
      return;
    }
    if (output_.capacity() > kOutputPauseBytes) std::string().swap(output_);
    ResumeIfDrained();
  }
  if (close_after_flush_ && !durable_waiting_ && state_ != State::kClosing && !write_in_flight_ &&
      output_.empty()) {
    Close();
  }
}

void Connection::OnWrite(uv_write_t* request, int status) {
  Connection* connection = static_cast<Connection*>(request->data);
  connection->write_in_flight_ = false;
  connection->writing_.clear();
  if (connection->writing_.capacity() > kOutputPauseBytes) std::string().swap(connection->writing_);
  if (status < 0) {
    connection->Close();
    return;
  }
  connection->ResumeIfDrained();
  connection->Flush();
}

void Connection::ConsumeInput(size_t bytes) {
  input_.erase(0, bytes);
  // A big request is gone: its buffer is not kept for a client that may now sit idle.
  if (input_.empty() && input_.capacity() > kReadChunkBytes) std::string().swap(input_);
}

// Once the queued replies have gone out, decode what was held back and read again.
void Connection::ResumeIfDrained() {
  if (!paused_ || state_ == State::kClosing ||
      output_pending_bytes() > loop_->info().settings.output_pause_bytes / 2) {
    return;
  }
  paused_ = false;
  Resume();
}

void Connection::Resume() {
  now_ms_ = loop_->NowMs();
  ConsumeInput(Process(input_));
  if (!paused_ && !waiting_ && !durable_waiting_ && !close_after_flush_ &&
      state_ != State::kClosing && !reading_) {
    if (peer_closed_) {
      close_after_flush_ = true;
      return;
    }
    CHECK_EQ(uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), OnAlloc, OnRead), 0);
    reading_ = true;
  }
}

}  // namespace podium::server
