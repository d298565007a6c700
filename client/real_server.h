// RealServer: the real podium-server binary as a child process, for the client library's
// tests over real sockets (not part of podium_client). FakeServer (fake_server.h) says byte
// for byte what a peer does; RealServer is the other half: the replies are whatever the
// server built from this tree answers, so a test of the pair fails when either side drifts
// from docs/protocol.md.
//
// The binary's path is compiled in (PODIUM_SERVER_PATH, set by client/CMakeLists.txt). Every
// wait is bounded: Start polls until PING answers or kStartTimeoutMs passes, Stop waits
// kStopTimeoutMs for a clean exit and then kills. The server's output goes to a file in a
// temporary directory, removed with the RealServer; log() reads it for failure messages.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/client_options.h"
#include "protocol/reply_value.h"
#include "protocol/status_codes.h"

namespace podium::client::testing {

class RealServer {
 public:
  static constexpr int64_t kStartTimeoutMs = 10'000;
  static constexpr int64_t kStopTimeoutMs = 5'000;
  static constexpr int kStartAttemptsMax = 5;  // a free port can be taken before the bind

  // `flags` follow --port, --threads=2 and --data_dir= (no persistence) on the command line;
  // a later flag of the same name wins (gflags).
  explicit RealServer(std::vector<std::string> flags = {});
  ~RealServer();  // kills a server still running, removes the directory
  RealServer(const RealServer&) = delete;
  RealServer& operator=(const RealServer&) = delete;

  // Starts the server and waits until it answers PING over the binary protocol. port 0 picks
  // a free port (and tries another if it is taken before the server binds it); another port
  // is used as is (a restart on the port of before). Returns "" or what went wrong, with the
  // server's output.
  [[nodiscard]] std::string Start(uint16_t port = 0);
  // SIGTERM, then the exit status (0 for the clean shutdown the server promises), or -1 when
  // it had to be killed or ended by a signal. No-op returning 0 when not running.
  int Stop();
  // SIGKILL and reap: a crash, as a client sees it (connections reset, nothing flushed).
  void Kill();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  // Client options for this server: short timeouts and no reconnect delay, so that a failing
  // test fails in seconds.
  ClientOptions Options(ClientProtocol protocol) const;
  // The server's stdout and stderr so far.
  std::string log() const;

 private:
  // One start on `port`; "" once PING answers.
  std::string StartOn(uint16_t port);
  // Reaps the child if it exited; true if it did (*status: waitpid's).
  bool Reaped(int* status);

  std::vector<std::string> flags_;
  std::string directory_;  // mkdtemp's, holds the log
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Expected replies in the form each protocol delivers them, so one assertion serves both: a
// score is a float64 over binary and its shortest round-trip text as a RESP bulk string; an
// error value holds the message over binary and the whole line ("SOLDOUT 3") over RESP.
protocol::ReplyValue ExpectedScore(ClientProtocol protocol, double score);
// Short names for the replies both protocols deliver alike.
inline protocol::ReplyValue Ok() { return protocol::ReplyValue::SimpleString("OK"); }
inline protocol::ReplyValue Int(int64_t value) { return protocol::ReplyValue::Int64(value); }
inline protocol::ReplyValue Bytes(std::string_view bytes) {
  return protocol::ReplyValue::Bytes(bytes);
}
inline protocol::ReplyValue Array(std::vector<protocol::ReplyValue> elements) {
  return protocol::ReplyValue::Array(std::move(elements));
}
// "Binary" or "Resp": the suffix of a parameterized test's name.
inline std::string ProtocolSuffix(ClientProtocol protocol) {
  return protocol == ClientProtocol::kBinary ? "Binary" : "Resp";
}
protocol::ReplyValue ExpectedError(ClientProtocol protocol, protocol::StatusCode status,
                                   std::string_view message);

}  // namespace podium::client::testing
