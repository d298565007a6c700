#include "storage/wal_format.h"

#include <xxhash.h>

#include <charconv>

#include "storage/coding.h"

namespace podium::storage {
namespace {

constexpr std::string_view kNamePrefix = "wal-";
constexpr std::string_view kNameSuffix = ".log";
constexpr size_t kNameDigits = 20;  // u64 max has 20 decimal digits

}  // namespace

uint32_t WalChecksum(std::string_view bytes) {
  return static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

std::string WalSegmentFileName(uint64_t first_sequence) {
  std::string digits = std::to_string(first_sequence);
  CHECK_LE(digits.size(), kNameDigits);
  std::string name(kNamePrefix);
  name.append(kNameDigits - digits.size(), '0');
  name += digits;
  name += kNameSuffix;
  return name;
}

std::optional<uint64_t> ParseWalSegmentFileName(std::string_view name) {
  if (name.size() != kNamePrefix.size() + kNameDigits + kNameSuffix.size()) return std::nullopt;
  if (!name.starts_with(kNamePrefix) || !name.ends_with(kNameSuffix)) return std::nullopt;
  const std::string_view digits = name.substr(kNamePrefix.size(), kNameDigits);
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

void AppendWalSegmentHeader(uint64_t first_sequence, std::string* out) {
  const size_t start = out->size();
  out->append(kWalSegmentMagic);
  AppendU16(out, static_cast<uint16_t>(kWalFormatVersion));
  AppendU64(out, first_sequence);
  const uint32_t checksum = WalChecksum(std::string_view(*out).substr(start));
  AppendU32(out, checksum);
  CHECK_EQ(out->size() - start, kWalSegmentHeaderBytes);
}

std::string_view WalSegmentHeaderProblem(std::string_view bytes) {
  CHECK_EQ(bytes.size(), kWalSegmentHeaderBytes);
  if (bytes.substr(0, 4) != kWalSegmentMagic) return "bad segment magic";
  const uint32_t checksum = LoadU32(bytes.data() + 14);
  if (checksum != WalChecksum(bytes.substr(0, 14))) return "segment header checksum mismatch";
  return {};
}

Result<uint64_t> DecodeWalSegmentHeader(std::string_view bytes) {
  const std::string_view problem = WalSegmentHeaderProblem(bytes);
  if (!problem.empty()) return Status::Corruption(std::string(problem));
  const uint64_t version = LoadU16(bytes.data() + 4);
  if (version != kWalFormatVersion) {
    return Status::Corruption("unknown segment format version " + std::to_string(version));
  }
  return LoadU64(bytes.data() + 6);
}

void AppendWalRecord(uint8_t type, uint64_t sequence, std::string_view payload, std::string* out) {
  CHECK(IsWalRecordType(type)) << int{type};
  CHECK_LE(payload.size(), kWalRecordPayloadBytesMax);
  const size_t start = out->size();
  AppendU32(out, 0);  // the checksum, filled in below
  AppendU32(out, static_cast<uint32_t>(payload.size()));
  out->push_back(static_cast<char>(type));
  AppendU64(out, sequence);
  out->append(payload);
  const uint32_t checksum =
      WalChecksum(std::string_view(*out).substr(start + kWalRecordChecksummedFrom));
  StoreU32(out->data() + start, checksum);
  CHECK_EQ(out->size() - start, kWalRecordHeaderBytes + payload.size());
}

WalRecordHeader DecodeWalRecordHeader(std::string_view bytes) {
  CHECK_GE(bytes.size(), kWalRecordHeaderBytes);
  WalRecordHeader header;
  header.checksum = LoadU32(bytes.data());
  header.payload_bytes = LoadU32(bytes.data() + 4);
  header.type = static_cast<uint8_t>(bytes[8]);
  header.sequence = LoadU64(bytes.data() + 9);
  return header;
}

std::string_view WalRecordHeaderProblem(const WalRecordHeader& header) {
  if (!IsWalRecordType(header.type)) return "bad record type";
  if (header.payload_bytes > kWalRecordPayloadBytesMax) return "record length past the limit";
  return {};
}

bool WalRecordChecksumMatches(std::string_view record) {
  CHECK_GE(record.size(), kWalRecordHeaderBytes);
  const uint32_t stored = LoadU32(record.data());
  return stored == WalChecksum(record.substr(kWalRecordChecksummedFrom));
}

}  // namespace podium::storage
