#include "server/event_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include <glog/logging.h>

#include "server/connection.h"
#include "storage/limits.h"
#include "server/limits.h"
#include "storage/effect_log.h"

namespace podium::server {
namespace {

constexpr int kListenBacklog = 511;  // Redis's tcp-backlog default
constexpr std::string_view kMaxClientsError = "-ERR max number of clients reached\r\n";

EventLoop* Of(uv_handle_t* handle) { return static_cast<EventLoop*>(handle->data); }

template <typename Handle>
uv_handle_t* AsHandle(Handle* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}

}  // namespace

EventLoop::EventLoop(int index, Database& db, ServerInfo& info)
    : index_(index), db_(db), info_(info), read_buffer_(new char[kReadChunkBytes]) {
  CHECK_EQ(uv_loop_init(&loop_), 0);
  loop_.data = this;
  CHECK_EQ(uv_timer_init(&loop_, &sweep_timer_), 0);
  CHECK_EQ(uv_timer_init(&loop_, &check_timer_), 0);
  CHECK_EQ(uv_timer_init(&loop_, &ranking_timer_), 0);
  CHECK_EQ(uv_async_init(&loop_, &stop_async_, OnStop), 0);
  CHECK_EQ(uv_async_init(&loop_, &durable_async_, OnDurable), 0);
  CHECK_EQ(uv_check_init(&loop_, &io_done_), 0);
  CHECK_EQ(uv_prepare_init(&loop_, &before_poll_), 0);
  io_done_.data = before_poll_.data = this;
  sweep_timer_.data = check_timer_.data = ranking_timer_.data = this;
  stop_async_.data = durable_async_.data = this;
}

EventLoop::~EventLoop() {
  CHECK(!thread_.joinable()) << "Join before destroying an event loop";
  CHECK_EQ(uv_loop_close(&loop_), 0) << "handles still open";
}

std::string EventLoop::CheckAddressFree(const std::string& host, int port) {
  sockaddr_in address{};
  if (uv_ip4_addr(host.c_str(), port, &address) != 0) return "bad address " + host;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));  // TIME_WAIT is no obstacle
  std::string error;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    error = "cannot bind " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
  }
  ::close(fd);
  return error;
}

std::string EventLoop::Listen(const std::string& host, int port) {
  sockaddr_in address{};
  if (uv_ip4_addr(host.c_str(), port, &address) != 0) return "bad address " + host;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return "cannot bind " + host + ":" + std::to_string(port) + ": " + error;
  }
  CHECK_EQ(uv_tcp_init(&loop_, &listener_), 0);
  listener_.data = this;
  listening_ = true;
  CHECK_EQ(uv_tcp_open(&listener_, fd), 0);
  const int status = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kListenBacklog,
                               OnConnection);
  if (status != 0) return std::string("listen: ") + uv_strerror(status);
  return "";
}

void EventLoop::Start() {
  CHECK_EQ(uv_timer_start(&sweep_timer_, OnSweepTimer, kExpirySweepIntervalMs,
                          kExpirySweepIntervalMs),
           0);
  CHECK_EQ(uv_timer_start(&check_timer_, OnCheckTimer, kConnectionCheckIntervalMs,
                          kConnectionCheckIntervalMs),
           0);
  if (index_ == 0) {  // one stepper is enough
    CHECK_EQ(uv_timer_start(&ranking_timer_, OnRankingTimer, kRankingStepIntervalMs,
                            kRankingStepIntervalMs),
             0);
  }
  CHECK_EQ(uv_check_start(&io_done_, OnIoDone), 0);
  CHECK_EQ(uv_prepare_start(&before_poll_, OnBeforePoll), 0);
  thread_ = std::thread([this] {
    // The I/O callbacks of one round share one shard batch (Database::ShardBatch): the
    // single-key commands of all the connections served in a round take a hot key's lock once
    // per kUsesMax, not once per connection. It lets go at the end of the round (OnIoDone),
    // before the replies held back for a contended shard are written, and before the loop
    // waits (OnBeforePoll); timers pause it.
    storage::Database::ShardBatch batch(db_);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
}

void EventLoop::Stop() { uv_async_send(&stop_async_); }

void EventLoop::Join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::OnStop(uv_async_t* async) {
  EventLoop* loop = Of(AsHandle(async));
  if (loop->listening_) uv_close(AsHandle(&loop->listener_), nullptr);
  uv_close(AsHandle(&loop->sweep_timer_), nullptr);
  uv_close(AsHandle(&loop->check_timer_), nullptr);
  uv_close(AsHandle(&loop->ranking_timer_), nullptr);
  uv_close(AsHandle(&loop->stop_async_), nullptr);
  uv_close(AsHandle(&loop->durable_async_), nullptr);
  uv_close(AsHandle(&loop->io_done_), nullptr);
  uv_close(AsHandle(&loop->before_poll_), nullptr);
  loop->FlushQueue();  // the replies of this round's requests, before their sockets close
  const std::vector<Connection*> open(loop->connections_.begin(), loop->connections_.end());
  for (Connection* connection : open) connection->Close();
}

void EventLoop::OnIoDone(uv_check_t* check) { Of(AsHandle(check))->FlushQueue(); }

void EventLoop::FlushQueue() {
  storage::Database::ShardBatch::ReleaseCurrent();
  while (!flush_queue_.empty()) {
    flushing_.swap(flush_queue_);
    for (Connection* connection : flushing_) connection->FlushQueued();
    flushing_.clear();
  }
  // A flush that drained a paused connection resumed it, and the commands that waited ran
  // under the batch again: let go before the timers.
  storage::Database::ShardBatch::ReleaseCurrent();
}

void EventLoop::OnBeforePoll(uv_prepare_t* prepare) {
  storage::Database::ShardBatch::ReleaseCurrent();
  Of(AsHandle(prepare))->SleepUntilDurable();
}

void EventLoop::SleepUntilDurable() {
  if (durable_waiters_.empty()) return;
  const storage::EffectLog* log = db_.log();
  const uint64_t wanted = durable_wanted_.load(std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(durable_mutex_);
  // On waking, the poll that follows finds the durable wake-up (uv_async) and whatever the
  // clients sent meanwhile, and serves them all in one round.
  durable_ready_.wait_for(lock, kDurableSleepMax,
                          [&] { return log->durable_sequence() >= wanted; });
}

int64_t EventLoop::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void EventLoop::OnConnection(uv_stream_t* listener, int status) {
  EventLoop* loop = Of(AsHandle(listener));
  if (status != 0) {
    LOG(WARNING) << "accept: " << uv_strerror(status);
    return;
  }
  const uint64_t id = loop->info_.next_client_id.fetch_add(1, std::memory_order_relaxed);
  auto* connection = new Connection(loop, id);
  loop->connections_.insert(connection);
  loop->info_.clients_connected.fetch_add(1, std::memory_order_relaxed);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(connection->tcp())) != 0) {
    connection->Close();
    return;
  }
  loop->info_.clients_total.fetch_add(1, std::memory_order_relaxed);
  if (loop->info_.clients_connected.load(std::memory_order_relaxed) >
      loop->info_.settings.clients_max) {
    loop->Reject(connection);
    return;
  }
  connection->Start(NowMs());
}

// Past --maxclients: one error line, as Redis sends it, then close.
void EventLoop::Reject(Connection* connection) {
  info_.clients_rejected.fetch_add(1, std::memory_order_relaxed);
  uv_buf_t buffer =
      uv_buf_init(const_cast<char*>(kMaxClientsError.data()), kMaxClientsError.size());
  uv_try_write(reinterpret_cast<uv_stream_t*>(connection->tcp()), &buffer, 1);
  connection->Close();
}

void EventLoop::WaitForDurable(Connection* connection) {
  durable_waiters_.push_back(connection);
  const uint64_t wanted = connection->hold_sequence();
  if (wanted >= durable_wanted_.load(std::memory_order_relaxed)) return;
  // The WAL thread stores the durable sequence, then reads durable_wanted_ (NotifyDurable);
  // this thread stores durable_wanted_, then reads the durable sequence. All four accesses are
  // sequentially consistent, so at least one side sees the other's store: an fsync that
  // covers `wanted` either wakes the loop or is seen here.
  durable_wanted_.store(wanted, std::memory_order_seq_cst);
  if (db_.log()->durable_sequence() >= wanted) uv_async_send(&durable_async_);
}

void EventLoop::NotifyDurable(uint64_t durable) {
  if (durable < durable_wanted_.load(std::memory_order_seq_cst)) return;
  uv_async_send(&durable_async_);
  { const std::lock_guard<std::mutex> lock(durable_mutex_); }  // see durable_ready_
  durable_ready_.notify_one();
}

void EventLoop::OnDurable(uv_async_t* async) {
  EventLoop* loop = Of(AsHandle(async));
  storage::EffectLog* log = loop->db_.log();
  if (log == nullptr) return;
  const uint64_t durable = log->durable_sequence();
  std::vector<Connection*> waiting;
  waiting.swap(loop->durable_waiters_);
  loop->durable_wanted_.store(UINT64_MAX, std::memory_order_relaxed);
  for (Connection* connection : waiting) {
    if (connection->hold_sequence() <= durable) {
      connection->OnDurable();  // may run more commands and wait again
    } else {
      loop->WaitForDurable(connection);
    }
  }
}

void EventLoop::RemoveConnection(Connection* connection) {
  std::erase(durable_waiters_, connection);
  std::erase(flush_queue_, connection);
  CHECK_EQ(connections_.erase(connection), 1u);
  info_.clients_connected.fetch_sub(1, std::memory_order_relaxed);
  delete connection;
}

// Each loop sweeps the shards s with s % threads == index, so every shard has one sweeper.
void EventLoop::OnSweepTimer(uv_timer_t* timer) {
  const storage::Database::ShardBatch::Pause pause;  // it locks shards itself
  EventLoop* loop = Of(AsHandle(timer));
  const int64_t now_ms = NowMs();
  const auto loops = static_cast<size_t>(std::max(loop->info_.settings.threads, 1));
  for (size_t shard = static_cast<size_t>(loop->index_); shard < Database::kShardCount;
       shard += loops) {
    loop->db_.WithShard(shard, [&](storage::Keyspace& keys) {
      return keys.SweepExpired(now_ms, kExpirySweepKeysPerShard);
    });
  }
  if (loop->index_ != 0) return;  // one loop is enough for the rest
  // Holds past their deadline go back (docs/orders.md).
  loop->db_.orders().ExpireDue(now_ms, storage::kHoldSweepOrdersPerCallMax);
}

// Ranking windows: open ahead, copy carried parts, archive, re-score, expire
// (docs/rankings.md). Slices until the budget is spent; the engine's lock is released between
// slices, so the other loops go on.
void EventLoop::OnRankingTimer(uv_timer_t* timer) {
  const storage::Database::ShardBatch::Pause pause;  // it locks shards itself
  EventLoop* loop = Of(AsHandle(timer));
  const int64_t now_ms = NowMs();
  const auto start = std::chrono::steady_clock::now();
  while (loop->db_.rankings().Step(now_ms) &&
         std::chrono::steady_clock::now() - start < kRankingStepBudget) {
  }
}

void EventLoop::OnCheckTimer(uv_timer_t* timer) {
  EventLoop* loop = Of(AsHandle(timer));
  const int64_t now_ms = NowMs();
  const std::vector<Connection*> open(loop->connections_.begin(), loop->connections_.end());
  for (Connection* connection : open) {
    connection->CloseIfIdleOrStalled(now_ms, loop->info_.settings.idle_timeout_ms);
  }
}

}  // namespace podium::server
