#include "storage/snapshot_format.h"

#include <glog/logging.h>

#include <charconv>
#include <cstdio>

namespace podium::storage::snapshot_format {

std::string FileName(uint64_t wal_sequence) {
  char digits[kSequenceDigits + 1];
  const int written = std::snprintf(digits, sizeof(digits), "%020llu",
                                    static_cast<unsigned long long>(wal_sequence));
  CHECK_EQ(written, static_cast<int>(kSequenceDigits)) << "UINT64_MAX has 20 digits";
  return std::string(kFilePrefix) + digits + std::string(kFileSuffix);
}

std::optional<uint64_t> ParseFileName(std::string_view name) {
  if (name.size() != kFilePrefix.size() + kSequenceDigits + kFileSuffix.size() ||
      !name.starts_with(kFilePrefix) || !name.ends_with(kFileSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kFilePrefix.size(), kSequenceDigits);
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t sequence = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return sequence;
}

}  // namespace podium::storage::snapshot_format
