// EventLoop: one I/O thread running one libuv loop, with its own listening socket.
//
// Every loop binds the same address with SO_REUSEPORT, so the kernel spreads new connections
// over the loops and no loop hands a connection to another; a connection then lives on the
// loop that accepted it. (libuv 1.44 has no UV_TCP_REUSEPORT, so the loop makes the socket
// itself and gives it to uv_tcp_open.) Each loop also runs two timers: the expiry sweep of its
// share of the database's shards, and the check that closes idle or stalled clients; loop 0
// also sweeps expired holds and runs the ranking stepper on a third.
//
// Thread-safety: Start/Stop/Join are called from the main thread; everything else runs on the
// loop's own thread. Stop and NotifyDurable are the cross-thread calls (a uv_async each;
// NotifyDurable also signals the condition variable SleepUntilDurable waits on).
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/server_info.h"
#include "storage/database.h"

namespace podium::server {

class Connection;
using storage::Database;

class EventLoop {
 public:
  EventLoop(int index, Database& db, ServerInfo& info);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Every loop listens on the same port with SO_REUSEPORT, which would also let a second
  // server process join the group silently and take half the connections. Before the loops
  // bind, this binds the address once without SO_REUSEPORT: that fails while anyone listens
  // there. Returns "" if the address is free, else a message naming it and the OS error.
  static std::string CheckAddressFree(const std::string& host, int port);
  // Binds and listens; on failure returns a message naming the address and the OS error.
  std::string Listen(const std::string& host, int port);
  void Start();  // runs the loop on a new thread
  void Stop();   // any thread: closes every handle; the loop's thread then ends
  void Join();

  // For connections, on the loop's thread.
  uv_loop_t* uv() { return &loop_; }
  int index() const { return index_; }
  Database& db() { return db_; }
  ServerInfo& info() { return info_; }
  char* read_buffer() { return read_buffer_.get(); }
  void RemoveConnection(Connection* connection);
  // With --fsync always: `connection` holds its replies until the log is durable through
  // connection->hold_sequence(); the loop calls Connection::OnDurable then.
  void WaitForDurable(Connection* connection);
  // Sends `connection`'s replies at the end of this round of I/O callbacks, once the loop's
  // shard batch has let go: no shard stays locked across a write(2), whose loopback delivery
  // costs microseconds, while the commands of the round's connections still share one lock
  // (Redis likewise writes a round's replies before it sleeps). Call once per round.
  void FlushAtRoundEnd(Connection* connection) { flush_queue_.push_back(connection); }
  // Any thread (the WAL thread, after an fsync that made `durable` the durable sequence):
  // wakes the loop (from its poll or from SleepUntilDurable) to release waiting replies,
  // unless none of its connections waits for `durable` or less. Each wake-up is a context
  // switch, which costs tens of microseconds in a VM (docs/benchmarks.md); an fsync whose
  // records all came from other loops needs none.
  void NotifyDurable(uint64_t durable);
  static int64_t NowMs();  // Unix milliseconds

 private:
  static void OnConnection(uv_stream_t* listener, int status);
  static void OnSweepTimer(uv_timer_t* timer);
  static void OnCheckTimer(uv_timer_t* timer);
  static void OnRankingTimer(uv_timer_t* timer);
  static void OnStop(uv_async_t* async);
  static void OnDurable(uv_async_t* async);
  static void OnIoDone(uv_check_t* check);
  // Lets go of the shard batch, then sends the replies queued by FlushAtRoundEnd.
  void FlushQueue();
  static void OnBeforePoll(uv_prepare_t* prepare);
  // Before the loop polls, while its replies wait for an fsync: sleeps until the log is
  // durable through durable_wanted_, at most kDurableSleepMax (server/limits.h).
  void SleepUntilDurable();
  void Reject(Connection* connection);

  const int index_;
  Database& db_;
  ServerInfo& info_;
  uv_loop_t loop_;
  uv_tcp_t listener_;
  bool listening_ = false;
  uv_timer_t sweep_timer_;
  uv_timer_t check_timer_;
  uv_timer_t ranking_timer_;  // loop 0 only
  uv_async_t stop_async_;
  uv_async_t durable_async_;
  // The loop's shard batch lets go after each round of I/O callbacks, and before the loop
  // waits for I/O (callbacks deferred to the next iteration run before that).
  uv_check_t io_done_;
  uv_prepare_t before_poll_;
  std::vector<Connection*> durable_waiters_;
  // For NotifyDurable: at most the smallest hold_sequence() among durable_waiters_ (UINT64_MAX:
  // none). It may be below the true smallest (a hold that grew while it waited), which costs
  // a wake-up, never a missed one.
  std::atomic<uint64_t> durable_wanted_{UINT64_MAX};
  // SleepUntilDurable waits on durable_ready_; NotifyDurable signals it under durable_mutex_,
  // after the WAL thread has stored the durable sequence, so the wake-up cannot be missed.
  std::mutex durable_mutex_;
  std::condition_variable durable_ready_;
  std::vector<Connection*> flush_queue_;  // FlushAtRoundEnd, in the order they asked
  std::vector<Connection*> flushing_;     // the queue being flushed (OnIoDone)
  std::thread thread_;
  std::unordered_set<Connection*> connections_;
  std::unique_ptr<char[]> read_buffer_;
};

}  // namespace podium::server
