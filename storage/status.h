// Status and Result<T>: how storage reports operating errors (bad input, limits, shortages,
// I/O, corruption) to its callers. Programmer errors are CHECK/DCHECK failures instead; no
// exception leaves this module.
//
// A Status is cheap when ok (no allocation); an error carries a code the caller can branch on
// and a message a human can read. Both types are [[nodiscard]]: an ignored error is a bug.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <glog/logging.h>

namespace podium::storage {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,  // malformed or out-of-range input; nothing changed
  kNotFound,         // the key, member or counter does not exist
  kLimitExceeded,    // a named bound in storage/limits.h would be crossed; nothing changed
  kSoldOut,          // a reservation asked for more units than are available; nothing changed
  kWrongType,        // the key holds another kind of value
  kCorruption,       // stored bytes failed a check
  kIoError,          // the operating system refused a file operation
  kBusy,             // not now (a window still being built); nothing changed, retry later
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(StatusCode::kNotFound, std::move(message));
  }
  static Status LimitExceeded(std::string message) {
    return Status(StatusCode::kLimitExceeded, std::move(message));
  }
  static Status SoldOut(std::string message) {
    return Status(StatusCode::kSoldOut, std::move(message));
  }
  static Status WrongType(std::string message) {
    return Status(StatusCode::kWrongType, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(StatusCode::kCorruption, std::move(message));
  }
  static Status IoError(std::string message) {
    return Status(StatusCode::kIoError, std::move(message));
  }
  static Status Busy(std::string message) { return Status(StatusCode::kBusy, std::move(message)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or the error that prevented it. value() on an error is a programmer error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    CHECK(!status_.ok()) << "a Result needs a value or an error";
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& {
    CHECK(ok()) << status_.ToString();
    return *value_;
  }
  T&& value() && {
    CHECK(ok()) << status_.ToString();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace podium::storage
