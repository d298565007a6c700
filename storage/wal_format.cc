#include "storage/wal_format.h"

#include <xxhash.h>

#include <charconv>

namespace podium::storage {
namespace {

constexpr std::string_view kNamePrefix = "wal-";
constexpr std::string_view kNameSuffix = ".log";
constexpr size_t kNameDigits = 20;  // u64 max has 20 decimal digits

void AppendLittleEndian(uint64_t value, size_t bytes, std::string* out) {
  for (size_t i = 0; i < bytes; ++i) out->push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t LoadLittleEndian(std::string_view bytes, size_t offset, size_t width) {
  DCHECK_LE(offset + width, bytes.size());
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= uint64_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
  }
  return value;
}

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
  AppendLittleEndian(kWalFormatVersion, 2, out);
  AppendLittleEndian(first_sequence, 8, out);
  const uint32_t checksum = WalChecksum(std::string_view(*out).substr(start));
  AppendLittleEndian(checksum, 4, out);
  CHECK_EQ(out->size() - start, kWalSegmentHeaderBytes);
}

std::string_view WalSegmentHeaderProblem(std::string_view bytes) {
  CHECK_EQ(bytes.size(), kWalSegmentHeaderBytes);
  if (bytes.substr(0, 4) != kWalSegmentMagic) return "bad segment magic";
  const uint32_t checksum = static_cast<uint32_t>(LoadLittleEndian(bytes, 14, 4));
  if (checksum != WalChecksum(bytes.substr(0, 14))) return "segment header checksum mismatch";
  return {};
}

Result<uint64_t> DecodeWalSegmentHeader(std::string_view bytes) {
  const std::string_view problem = WalSegmentHeaderProblem(bytes);
  if (!problem.empty()) return Status::Corruption(std::string(problem));
  const uint64_t version = LoadLittleEndian(bytes, 4, 2);
  if (version != kWalFormatVersion) {
    return Status::Corruption("unknown segment format version " + std::to_string(version));
  }
  return LoadLittleEndian(bytes, 6, 8);
}

void AppendWalRecord(uint8_t type, uint64_t sequence, std::string_view payload, std::string* out) {
  CHECK(IsWalRecordType(type)) << int{type};
  CHECK_LE(payload.size(), kWalRecordPayloadBytesMax);
  const size_t start = out->size();
  AppendLittleEndian(0, 4, out);  // the checksum, filled in below
  AppendLittleEndian(payload.size(), 4, out);
  AppendLittleEndian(type, 1, out);
  AppendLittleEndian(sequence, 8, out);
  out->append(payload);
  const uint32_t checksum =
      WalChecksum(std::string_view(*out).substr(start + kWalRecordChecksummedFrom));
  for (size_t i = 0; i < 4; ++i) (*out)[start + i] = static_cast<char>(checksum >> (8 * i));
  CHECK_EQ(out->size() - start, kWalRecordHeaderBytes + payload.size());
}

WalRecordHeader DecodeWalRecordHeader(std::string_view bytes) {
  CHECK_GE(bytes.size(), kWalRecordHeaderBytes);
  WalRecordHeader header;
  header.checksum = static_cast<uint32_t>(LoadLittleEndian(bytes, 0, 4));
  header.payload_bytes = static_cast<uint32_t>(LoadLittleEndian(bytes, 4, 4));
  header.type = static_cast<uint8_t>(LoadLittleEndian(bytes, 8, 1));
  header.sequence = LoadLittleEndian(bytes, 9, 8);
  return header;
}

std::string_view WalRecordHeaderProblem(const WalRecordHeader& header) {
  if (!IsWalRecordType(header.type)) return "bad record type";
  if (header.payload_bytes > kWalRecordPayloadBytesMax) return "record length past the limit";
  return {};
}

bool WalRecordChecksumMatches(std::string_view record) {
  CHECK_GE(record.size(), kWalRecordHeaderBytes);
  const uint32_t stored = static_cast<uint32_t>(LoadLittleEndian(record, 0, 4));
  return stored == WalChecksum(record.substr(kWalRecordChecksummedFrom));
}

}  // namespace podium::storage
