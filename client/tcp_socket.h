// TcpSocket: the client's TCP connection. The descriptor is non-blocking underneath so that
// every wait is a poll() with a bound (the connect timeout, the I/O timeout). It offers both
// the non-blocking steps (SendSome, ReceiveSome, Wait), from which Client builds its pipelined
// exchange (reading replies while it is still writing requests, so that neither side can
// block the other on full socket buffers), and blocking helpers for short exchanges.
//
// Ownership: owns the descriptor, closes it on Close() and destruction; movable, not copyable.
// Thread-safety: none; one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "client/result.h"

namespace podium::client {

// A point in time a wait may not pass; kNoDeadline for none.
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket() { Close(); }
  TcpSocket(TcpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  TcpSocket& operator=(TcpSocket&& other) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Resolves `host` (blocking, getaddrinfo) and connects to the first address that accepts,
  // all within timeout_ms; sets TCP_NODELAY. Errors: kConnectFailed (unknown host, refused,
  // unreachable), kTimeout.
  static Result<TcpSocket> Connect(const std::string& host, uint16_t port, int64_t timeout_ms);

  bool is_open() const { return fd_ >= 0; }
  void Close();

  // True when the peer has closed or reset the connection and left nothing unread: one
  // non-blocking recv(MSG_PEEK), never a wait. Bytes waiting to be read count as open (they
  // may say why the peer closed). For a connection that has been quiet: a request sent on a
  // hung-up connection is lost, one not yet sent can go on a new connection.
  bool PeerHungUp() const;

  // Non-blocking steps. SendSome sends what the kernel takes now (*sent_bytes, maybe 0);
  // ReceiveSome appends what has arrived, at most kReceiveChunkBytes (*received_bytes, maybe
  // 0). Errors: kClosed (end of stream, reset, broken pipe), kIoError.
  Status SendSome(std::string_view data, size_t* sent_bytes);
  Status ReceiveSome(std::string* buffer, size_t* received_bytes);
  // Waits until the socket is readable, or writable when `want_write`, or has an error, for at
  // most timeout_ms (0: no bound) and not past `deadline`. Both are fixed when the call starts:
  // a signal (EINTR) does not restart them. Errors: kTimeout, kIoError.
  Status Wait(bool want_write, int64_t timeout_ms, Deadline deadline = kNoDeadline);

  // Blocking helpers: send all of `data`; receive at least one byte. Each wait is at most
  // timeout_ms (0: no bound), and none goes past `deadline`; errors as above.
  Status SendAll(std::string_view data, int64_t timeout_ms, Deadline deadline = kNoDeadline);
  Status Receive(int64_t timeout_ms, Deadline deadline, std::string* buffer);

 private:
  explicit TcpSocket(int fd) : fd_(fd) {}

  int fd_ = -1;
};

}  // namespace podium::client
