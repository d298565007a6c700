#include "protocol/status_codes.h"

namespace podium::protocol {

namespace {

constexpr bool TableIsIndexedByCode() {
  for (size_t i = 0; i < kStatusCodes.size(); ++i) {
    if (static_cast<size_t>(kStatusCodes[i].code) != i) return false;
  }
  return true;
}
static_assert(TableIsIndexedByCode(), "kStatusCodes[n] must describe code n");

}  // namespace

const StatusCodeInfo* FindStatusCode(StatusCode code) {
  const auto index = static_cast<size_t>(code);
  return index < kStatusCodes.size() ? &kStatusCodes[index] : nullptr;
}

std::string_view StatusCodeName(StatusCode code) {
  const StatusCodeInfo* info = FindStatusCode(code);
  return info != nullptr ? info->name : "UNKNOWN";
}

std::string_view RespErrorCode(StatusCode code) {
  const StatusCodeInfo* info = FindStatusCode(code);
  return info != nullptr && code != StatusCode::kOk ? info->resp_error_code : "ERR";
}

StatusCode StatusCodeFromRespError(std::string_view error_line) {
  StatusCode best = StatusCode::kErr;
  size_t best_size = 0;
  for (const StatusCodeInfo& info : kStatusCodes) {
    const std::string_view prefix = info.resp_prefix;
    if (prefix.empty() || prefix.size() <= best_size || !error_line.starts_with(prefix)) continue;
    if (error_line.size() > prefix.size()) {
      const char next = error_line[prefix.size()];
      if (next != ' ' && next != ':') continue;
    }
    best = info.code;
    best_size = prefix.size();
  }
  return best;
}

}  // namespace podium::protocol
