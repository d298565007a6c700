#include "client/result.h"

namespace podium::client {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kConnectFailed:
      return "ConnectFailed";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kClosed:
      return "Closed";
    case ErrorCode::kProtocol:
      return "Protocol";
    case ErrorCode::kAuthFailed:
      return "AuthFailed";
    case ErrorCode::kIoError:
      return "IoError";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace podium::client
