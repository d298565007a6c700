#include "client/tcp_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <memory>

#include "client/client_options.h"
#include "client/limits.h"

namespace podium::client {

namespace {

using Clock = std::chrono::steady_clock;

int PollTimeout(int64_t timeout_ms) {
  return timeout_ms == 0 ? -1 : static_cast<int>(std::min<int64_t>(timeout_ms, INT_MAX));
}

// The Status for a failed send or recv, from errno.
Status SocketError(const char* what, int error) {
  if (error == EPIPE || error == ECONNRESET) {
    return Status::Error(ErrorCode::kClosed, std::string(what) + ": " + std::strerror(error));
  }
  return Status::Error(ErrorCode::kIoError, std::string(what) + ": " + std::strerror(error));
}

// Waits until fd is writable after a non-blocking connect; returns the connect's errno (0 on
// success) or ETIMEDOUT.
int FinishConnect(int fd, Clock::time_point deadline) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return ETIMEDOUT;
    pollfd waiting{fd, POLLOUT, 0};
    const int ready = ::poll(&waiting, 1, PollTimeout(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return errno;
    if (ready == 0) return ETIMEDOUT;
    int error = 0;
    socklen_t size = sizeof(error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
    return error;
  }
}

}  // namespace

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void TcpSocket::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<TcpSocket> TcpSocket::Connect(const std::string& host, uint16_t port, int64_t timeout_ms) {
  CHECK_GT(timeout_ms, 0);
  const std::string where = "connect to " + FormatServerAddress(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) {
    return Status::Error(ErrorCode::kConnectFailed, where + ": " + ::gai_strerror(resolved));
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int error = ETIMEDOUT;
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    TcpSocket socket(::socket(address->ai_family,
                              address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                              address->ai_protocol));
    if (!socket.is_open()) {
      error = errno;
      continue;
    }
    error = ::connect(socket.fd_, address->ai_addr, address->ai_addrlen) == 0 ? 0 : errno;
    if (error == EINPROGRESS) error = FinishConnect(socket.fd_, deadline);
    if (error == 0) {
      const int on = 1;
      ::setsockopt(socket.fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
      return socket;
    }
    if (error == ETIMEDOUT) break;  // the deadline is shared by all addresses
  }
  if (error == ETIMEDOUT) {
    return Status::Error(ErrorCode::kTimeout,
                         where + ": timed out after " + std::to_string(timeout_ms) + " ms");
  }
  return Status::Error(ErrorCode::kConnectFailed, where + ": " + std::strerror(error));
}

bool TcpSocket::PeerHungUp() const {
  DCHECK(is_open());
  char byte = 0;
  while (true) {
    const ssize_t peeked = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peeked > 0) return false;
    if (peeked == 0) return true;  // end of stream
    if (errno == EINTR) continue;
    // ECONNRESET and the like: as unusable as a closed connection.
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

Status TcpSocket::SendSome(std::string_view data, size_t* sent_bytes) {
  DCHECK(is_open());
  *sent_bytes = 0;
  while (true) {
    const ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      *sent_bytes = static_cast<size_t>(sent);
      return Status::Ok();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Ok();
    return SocketError("send", errno);
  }
}

Status TcpSocket::ReceiveSome(std::string* buffer, size_t* received_bytes) {
  DCHECK(is_open());
  *received_bytes = 0;
  char chunk[kReceiveChunkBytes];
  while (true) {
    const ssize_t received = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (received > 0) {
      buffer->append(chunk, static_cast<size_t>(received));
      *received_bytes = static_cast<size_t>(received);
      return Status::Ok();
    }
    if (received == 0) return Status::Error(ErrorCode::kClosed, "server closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Ok();
    return SocketError("recv", errno);
  }
}

Status TcpSocket::Wait(bool want_write, int64_t timeout_ms, Deadline deadline) {
  DCHECK(is_open());
  DCHECK_GE(timeout_ms, 0);
  // One end for the whole wait, so that signals arriving faster than the timeout cannot
  // postpone it forever.
  const Clock::time_point timeout_end =
      timeout_ms > 0 ? Clock::now() + std::chrono::milliseconds(timeout_ms) : kNoDeadline;
  const bool timeout_binds = timeout_end < deadline;
  const Deadline end = std::min(timeout_end, deadline);
  pollfd waiting{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
  while (true) {
    int poll_ms = -1;
    if (end != kNoDeadline) {
      const int64_t left_ms =
          std::chrono::ceil<std::chrono::milliseconds>(end - Clock::now()).count();
      if (left_ms <= 0) break;
      poll_ms = PollTimeout(left_ms);
    }
    const int ready = ::poll(&waiting, 1, poll_ms);
    if (ready > 0) return Status::Ok();  // POLLHUP and POLLERR too: the next call reports them
    if (ready < 0 && errno != EINTR) return SocketError("poll", errno);
    // EINTR, or poll's own timeout: the loop's check of the time left decides.
  }
  const std::string what = want_write ? "sending or receiving" : "receiving";
  if (!timeout_binds) {
    return Status::Error(ErrorCode::kTimeout, "the deadline passed while " + what);
  }
  return Status::Error(ErrorCode::kTimeout,
                       "no progress " + what + " for " + std::to_string(timeout_ms) + " ms");
}

Status TcpSocket::SendAll(std::string_view data, int64_t timeout_ms, Deadline deadline) {
  while (!data.empty()) {
    size_t sent = 0;
    Status status = SendSome(data, &sent);
    if (!status.ok()) return status;
    data.remove_prefix(sent);
    if (sent == 0) {
      status = Wait(/*want_write=*/true, timeout_ms, deadline);
      if (!status.ok()) return status;
    }
  }
  return Status::Ok();
}

Status TcpSocket::Receive(int64_t timeout_ms, Deadline deadline, std::string* buffer) {
  while (true) {
    size_t received = 0;
    Status status = ReceiveSome(buffer, &received);
    if (!status.ok() || received > 0) return status;
    status = Wait(/*want_write=*/false, timeout_ms, deadline);
    if (!status.ok()) return status;
  }
}

}  // namespace podium::client
