// TcpSocket's waits: bounded by the timeout and the deadline as fixed when the wait starts,
// whatever signals interrupt poll() meanwhile, and PeerHungUp on a live, a closed and a reset
// connection. The peer is a plain listening socket of the test's own.
#include "client/tcp_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace podium::client {
namespace {

using Clock = std::chrono::steady_clock;

// Signals come this often, more often than the wait's timeout, for at most kSignalsFor.
constexpr auto kSignalInterval = std::chrono::milliseconds(50);
constexpr auto kSignalsFor = std::chrono::seconds(3);
constexpr int64_t kWaitTimeoutMs = 300;

// A listening socket on 127.0.0.1 at an ephemeral port; connections complete in its backlog.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_GE(fd_, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    CHECK_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), size), 0);
    CHECK_EQ(::listen(fd_, 4), 0);
    CHECK_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size), 0);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd_); }

  uint16_t port() const { return port_; }
  // The server side of the next connection (blocking accept).
  int Accept() { return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

void IgnoreSignal(int) {}

// Interrupts `target` with SIGUSR1 every kSignalInterval until stopped or kSignalsFor passed.
class SignalStorm {
 public:
  explicit SignalStorm(pthread_t target) {
    struct sigaction action {};
    action.sa_handler = IgnoreSignal;  // no SA_RESTART, though poll() never restarts anyway
    sigemptyset(&action.sa_mask);
    CHECK_EQ(::sigaction(SIGUSR1, &action, &previous_), 0);
    thread_ = std::thread([this, target] {
      const Clock::time_point end = Clock::now() + kSignalsFor;
      while (!stop_.load() && Clock::now() < end) {
        std::this_thread::sleep_for(kSignalInterval);  // the storm's cadence
        if (!stop_.load()) ::pthread_kill(target, SIGUSR1);
      }
    });
  }
  ~SignalStorm() {
    stop_.store(true);
    thread_.join();
    ::sigaction(SIGUSR1, &previous_, nullptr);
  }

 private:
  struct sigaction previous_ {};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(TcpSocketTest, SignalsDoNotPostponeTheTimeout) {
  Listener listener;
  Result<TcpSocket> socket = TcpSocket::Connect("127.0.0.1", listener.port(), 1000);
  ASSERT_TRUE(socket.ok()) << socket.status().ToString();
  const Clock::time_point start = Clock::now();
  Status status;
  {
    SignalStorm storm(::pthread_self());
    status = socket->Wait(/*want_write=*/false, kWaitTimeoutMs);  // nothing will arrive
  }
  const Clock::duration elapsed = Clock::now() - start;
  EXPECT_EQ(status.code(), ErrorCode::kTimeout) << status.ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(kWaitTimeoutMs));
  // Restarting the full timeout after every signal would last until the storm ends.
  EXPECT_LT(elapsed, kSignalsFor / 2);
}

TEST(TcpSocketTest, ADeadlineEarlierThanTheTimeoutEndsTheWait) {
  Listener listener;
  Result<TcpSocket> socket = TcpSocket::Connect("127.0.0.1", listener.port(), 1000);
  ASSERT_TRUE(socket.ok()) << socket.status().ToString();
  const Clock::time_point start = Clock::now();
  Status status;
  {
    SignalStorm storm(::pthread_self());
    status = socket->Wait(/*want_write=*/false, /*timeout_ms=*/0,
                          start + std::chrono::milliseconds(kWaitTimeoutMs));
  }
  const Clock::duration elapsed = Clock::now() - start;
  EXPECT_EQ(status.code(), ErrorCode::kTimeout) << status.ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(kWaitTimeoutMs));
  EXPECT_LT(elapsed, kSignalsFor / 2);
}

TEST(TcpSocketTest, PeerHungUpTellsAClosedPeerFromAQuietOne) {
  Listener listener;
  Result<TcpSocket> socket = TcpSocket::Connect("127.0.0.1", listener.port(), 1000);
  ASSERT_TRUE(socket.ok()) << socket.status().ToString();
  const int peer = listener.Accept();
  ASSERT_GE(peer, 0);
  EXPECT_FALSE(socket->PeerHungUp());  // quiet, open

  ASSERT_EQ(::send(peer, "x", 1, MSG_NOSIGNAL), 1);
  ::close(peer);
  ASSERT_TRUE(socket->Wait(/*want_write=*/false, 1000).ok());
  EXPECT_FALSE(socket->PeerHungUp());  // closed, but a byte is still unread
  std::string buffer;
  size_t received = 0;
  ASSERT_TRUE(socket->ReceiveSome(&buffer, &received).ok());
  EXPECT_EQ(buffer, "x");
  EXPECT_TRUE(socket->PeerHungUp());  // closed, nothing left
}

TEST(TcpSocketTest, PeerHungUpSeesAReset) {
  Listener listener;
  Result<TcpSocket> socket = TcpSocket::Connect("127.0.0.1", listener.port(), 1000);
  ASSERT_TRUE(socket.ok()) << socket.status().ToString();
  const int peer = listener.Accept();
  ASSERT_GE(peer, 0);
  const linger abort_on_close{1, 0};  // close sends RST
  ASSERT_EQ(::setsockopt(peer, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close)), 0);
  ::close(peer);
  ASSERT_TRUE(socket->Wait(/*want_write=*/false, 1000).ok());
  EXPECT_TRUE(socket->PeerHungUp());
}

}  // namespace
}  // namespace podium::client
