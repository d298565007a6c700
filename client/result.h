// Status and Result<T>: how the client reports operating errors (bad options, a refused or
// lost connection, a timeout, bytes that break the protocol) to its callers. client/ may not
// include storage/, so it has its own small pair, shaped like storage's.
//
// An error *reply* from the server (SOLDOUT, WRONGTYPE, ...) is not a Status error: it is a
// protocol::ReplyValue of type kError inside an ok Result, and the connection stays usable.
// A Status error from a call that reached the network (every code but kInvalidArgument)
// means the connection is broken; see Client for what happens next. Both types are
// [[nodiscard]]: an ignored error is a bug.
#pragma once

#include <glog/logging.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace podium::client {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kInvalidArgument,  // bad options or address, a request past the protocol's limits, an opcode
                     // RESP has no name for; nothing was sent, the connection is unchanged
  kConnectFailed,    // no TCP connection: unknown host, refused, unreachable
  kTimeout,          // the connect or a wait for the socket took longer than the options allow
  kClosed,           // the server closed the connection, or it is broken and may not reconnect
  kProtocol,         // a refused handshake, malformed bytes, a reply past the size limit, a
                     // reply for the wrong request id, or the server's own PROTOCOL error
  kAuthFailed,       // the server refused the password
  kIoError,          // another socket error
};

// "InvalidArgument", "Timeout", ...
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message) {
    CHECK(code != ErrorCode::kOk);
    return Status(code, std::move(message));
  }
  static Status InvalidArgument(std::string message) {
    return Error(ErrorCode::kInvalidArgument, std::move(message));
  }
  static Status Protocol(std::string message) {
    return Error(ErrorCode::kProtocol, std::move(message));
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

 private:
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Either a value or the error that prevented it. value() on an error is a programmer error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    CHECK(!status_.ok()) << "a Result needs a value or an error";
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& {
    CHECK(ok()) << status_.ToString();
    return *value_;
  }
  T& value() & {
    CHECK(ok()) << status_.ToString();
    return *value_;
  }
  T&& value() && {
    CHECK(ok()) << status_.ToString();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace podium::client
