#include "storage/status.h"

namespace podium::storage {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kLimitExceeded:
      return "LimitExceeded";
    case StatusCode::kSoldOut:
      return "SoldOut";
    case StatusCode::kBusy:
      return "Busy";
    case StatusCode::kWrongType:
      return "WrongType";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIoError:
      return "IoError";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string text(StatusCodeName(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace podium::storage
