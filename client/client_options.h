// ClientOptions: where and how a Client connects, and the `--server host:port` text that
// names a server on command lines (podium-cli, podium-bench, podium-batch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/result.h"
#include "protocol/limits.h"

namespace podium::client {

enum class ClientProtocol : uint8_t {
  kBinary,  // Podium's frames (docs/protocol.md): request ids, typed numbers, float64 scores
  kResp,    // RESP2, for Redis too: scores arrive as bulk strings
};

struct ClientOptions {
  std::string host = "127.0.0.1";  // a name or a numeric IPv4/IPv6 address (resolved
                                   // blocking, without the connect timeout)
  uint16_t port = 7700;
  // The whole connect: the TCP connect (all resolved addresses together), the binary
  // handshake and AUTH, one deadline for all three. 1..kTimeoutMsMax.
  int64_t connect_timeout_ms = 1000;
  // The longest wait for the socket to become readable or writable during a call (and during
  // the handshake and AUTH, which also end by the connect deadline). Each byte of progress
  // starts a new wait, so a big or slow reply may take longer in all. 0 waits forever. At
  // most kTimeoutMsMax.
  int64_t io_timeout_ms = 5000;
  // When not empty, AUTH <password> right after connecting (and after each reconnect).
  std::string password;
  ClientProtocol protocol = ClientProtocol::kBinary;
  // After a transport failure, how many times the next call tries to connect again before it
  // gives up with the last error. 0 leaves the client broken. At most kReconnectAttemptsMax.
  int reconnect_attempts = 3;
  int64_t reconnect_delay_ms = 100;  // pause between two failed attempts, 0..kTimeoutMsMax
  // Replies declaring or reaching more bytes are refused with kProtocol before the client
  // buffers them. 1..kReplySizeBytesMax.
  size_t reply_size_bytes_max = protocol::kReplySizeBytesMax;
};

// kInvalidArgument naming the first field out of its range.
Status ValidateOptions(const ClientOptions& options);

struct ServerAddress {
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port": "127.0.0.1:7700", "localhost:6379", "[::1]:7700" (an IPv6 address in
// brackets, which are dropped). The port is decimal 1..65535, the host not empty; an IPv6
// address without brackets is refused, since its last ':' is ambiguous. kInvalidArgument with
// the reason otherwise.
Result<ServerAddress> ParseServerAddress(std::string_view text);

// The reverse: "127.0.0.1:7700", "[::1]:7700" (a host with a ':' gets brackets).
std::string FormatServerAddress(std::string_view host, uint16_t port);

}  // namespace podium::client
