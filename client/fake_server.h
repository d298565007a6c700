// FakeServer: a scripted peer for the client's tests (not part of podium_client). It listens
// on 127.0.0.1 at an ephemeral port; a thread accepts connections one after another and runs
// the next script on each, so a test says byte for byte what the server does: answer the
// handshake, read requests, send canned or malformed replies, split them, stall, close.
//
// Every wait is bounded (kWaitMs), so a client bug fails the test instead of hanging it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "protocol/testing.h"

namespace podium::client::testing {

// One accepted connection, as a script sees it.
class FakeConnection {
 public:
  static constexpr int kWaitMs = 5000;

  explicit FakeConnection(int fd) : fd_(fd) {}
  ~FakeConnection() { Close(); }
  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;

  // Reads the 8-byte client hello and answers it with version 1 and `status`; false if the
  // hello did not come or was malformed.
  bool AcceptHandshake(protocol::StatusCode status = protocol::StatusCode::kOk);
  // Reads `count` binary request frames; fewer if the client stops sending or closes.
  std::vector<protocol::testing::OwnedRequest> ReadBinaryRequests(size_t count);
  // Reads `count` RESP requests (multibulk or inline).
  std::vector<protocol::testing::OwnedRequest> ReadRespRequests(size_t count);
  // True when the client closed its end (reads end of stream within kWaitMs).
  bool WaitForClientClose();

  void Write(std::string_view bytes);
  // One byte per send, with TCP_NODELAY, so the client receives the bytes in many pieces.
  void WriteByteByByte(std::string_view bytes);
  void Close();
  // Closes with a TCP reset (SO_LINGER 0), as a server does that closes with requests unread.
  void CloseWithReset();

 private:
  // Appends what arrives within kWaitMs to buffer_; false on end of stream or timeout.
  bool ReadMore();
  // Decodes up to `count` requests with either request decoder, reading as needed.
  template <typename Decoder>
  std::vector<protocol::testing::OwnedRequest> ReadRequests(Decoder& decoder, size_t count);

  int fd_;
  std::string buffer_;  // received, not yet decoded
};

// A binary reply frame for request `request_id` holding `value` (an error value gives the
// frame its status).
std::string BinaryReplyBytes(uint32_t request_id, const protocol::ReplyValue& value);
// The same value over RESP.
std::string RespReplyBytes(const protocol::ReplyValue& value);

class FakeServer {
 public:
  using Script = std::function<void(FakeConnection& connection)>;

  // Runs scripts[i] on the i-th accepted connection, which is closed when its script returns.
  explicit FakeServer(std::vector<Script> scripts);
  // Joins the thread: waits for the running script, and stops waiting for connections.
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  uint16_t port() const { return port_; }
  size_t connections_accepted() const { return accepted_.load(); }

 private:
  void Serve(std::vector<Script> scripts);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> accepted_{0};
  std::thread thread_;
};

}  // namespace podium::client::testing
