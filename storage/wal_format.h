// The WAL's on-disk layout: constants and the encode/decode functions shared by WalWriter and
// WalReader. docs/wal_format.md is the specification and says every byte; keep the two equal.
// Every field is encoded and decoded explicitly, little-endian; no struct is copied to disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/limits.h"
#include "storage/status.h"

namespace podium::storage {

inline constexpr std::string_view kWalSegmentMagic = "PDWL";
inline constexpr uint16_t kWalFormatVersion = 1;
// magic (4), version u16, first sequence u64, checksum u32.
inline constexpr size_t kWalSegmentHeaderBytes = 18;
// checksum u32, payload length u32, type u8, sequence u64; the payload follows.
inline constexpr size_t kWalRecordHeaderBytes = 17;
// The checksum covers the record from here on (length, type, sequence, payload).
inline constexpr size_t kWalRecordChecksummedFrom = 4;
inline constexpr size_t kWalRecordPayloadBytesMax = kWalRecordBytesMax - kWalRecordHeaderBytes;
// Types 1..127 belong to the storage engine; 0 is never written, 128..255 are reserved.
inline constexpr uint8_t kWalRecordTypeMin = 1;
inline constexpr uint8_t kWalRecordTypeMax = 127;
// Sequence numbers start here; 0 is never a record's sequence.
inline constexpr uint64_t kWalSequenceFirst = 1;

// The unit a disk writes whole: a power cut leaves each sector of an unsynced write either new
// or as it was, never half of each. 512 bytes, the smallest sector any disk has; what bigger
// sectors or 4 KiB pages leave is whole 512-byte sectors too. The reader tells a torn write
// before intact records from corruption by it (docs/wal_format.md, "A torn write before intact
// records").
inline constexpr uint64_t kWalSectorBytes = 512;

static_assert(kWalSegmentHeaderBytes + kWalRecordBytesMax <= kWalSegmentBytesMax,
              "a record always fits an empty segment");

inline bool IsWalRecordType(uint8_t type) {
  return type >= kWalRecordTypeMin && type <= kWalRecordTypeMax;
}

// The low 32 bits of XXH3-64 (seed 0). Not masked: see docs/wal_format.md.
uint32_t WalChecksum(std::string_view bytes);

// "wal-<first_sequence, 20 digits>.log", and back (nullopt for any other name).
std::string WalSegmentFileName(uint64_t first_sequence);
std::optional<uint64_t> ParseWalSegmentFileName(std::string_view name);

// Appends the 18-byte segment header.
void AppendWalSegmentHeader(uint64_t first_sequence, std::string* out);
// Why exactly kWalSegmentHeaderBytes bytes are not an intact header (bad magic or checksum:
// what a torn write leaves), or empty.
std::string_view WalSegmentHeaderProblem(std::string_view bytes);
// Decodes an intact header; Corruption (without a file name: the caller adds it) on a bad
// magic, checksum or version. Returns the first sequence.
Result<uint64_t> DecodeWalSegmentHeader(std::string_view bytes);

// Appends one framed record. The type and the size are the caller's to check first.
void AppendWalRecord(uint8_t type, uint64_t sequence, std::string_view payload, std::string* out);

struct WalRecordHeader {
  uint32_t checksum = 0;
  uint32_t payload_bytes = 0;
  uint8_t type = 0;
  uint64_t sequence = 0;
};
// Decodes the first kWalRecordHeaderBytes of `bytes` without judging them.
WalRecordHeader DecodeWalRecordHeader(std::string_view bytes);
// Why a record's header cannot be right whatever follows it (bad type or length), or empty.
std::string_view WalRecordHeaderProblem(const WalRecordHeader& header);
// True if `record` (header and payload, exactly) carries a matching checksum.
bool WalRecordChecksumMatches(std::string_view record);

}  // namespace podium::storage
