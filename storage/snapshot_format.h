// Constants and byte-level codecs of the snapshot file. docs/snapshot_format.md is the
// contract and says every byte; this header only names what the doc defines. Encoding is
// explicit little-endian byte by byte, never a memcpy of a struct.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/coding.h"
#include "storage/limits.h"

namespace podium::storage::snapshot_format {

inline constexpr char kMagic[4] = {'P', 'D', 'S', 'N'};
inline constexpr uint16_t kVersion = 2;
inline constexpr size_t kHeaderBytes = 32;
inline constexpr size_t kHeaderChecksumOffset = 24;  // the checksum covers bytes before it

enum class SectionType : uint8_t {
  kStock = 1,
  kStrings = 2,
  kSortedSets = 3,
  kBook = 4,
  kRankings = 5,
  kEnd = 0xFF
};

// u32 uncompressed length, u32 compressed length, u64 XXH3-64 of the compressed bytes. A
// header of 16 zero bytes ends a section.
inline constexpr size_t kBlockHeaderBytes = 16;
inline constexpr size_t kFooterBytes = 56;  // six u64 counts, u64 file checksum
inline constexpr size_t kStockEntryBytes = 16;
inline constexpr int64_t kNoDeadline = -1;  // a key without a TTL
inline constexpr size_t kVarintBytesMax = 10;

// In a sorted set's member count: this entry continues the set of the entry before it (same
// key), captured a slice at a time while writes went on.
inline constexpr uint64_t kContinuesSetBit = uint64_t{1} << 63;

// K(+0.0): the "previous" score key at the start of every sorted set.
inline constexpr uint64_t kFirstScoreKey = uint64_t{1} << 63;

// "snapshot-" + 20 digits + ".snap"; ".tmp" appended while being written.
inline constexpr std::string_view kFilePrefix = "snapshot-";
inline constexpr std::string_view kFileSuffix = ".snap";
inline constexpr std::string_view kTempSuffix = ".tmp";
inline constexpr size_t kSequenceDigits = 20;

std::string FileName(uint64_t wal_sequence);
// The WAL sequence of a snapshot file name (no directory), or nullopt for any other name,
// ".tmp" files included.
std::optional<uint64_t> ParseFileName(std::string_view name);

// The order-preserving key of a score (docs: K(s)), and back.
inline uint64_t ScoreKey(double score) {
  const uint64_t bits = std::bit_cast<uint64_t>(score);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}
inline double ScoreFromKey(uint64_t key) {
  return std::bit_cast<double>((key >> 63) != 0 ? key & ~(uint64_t{1} << 63) : ~key);
}
inline uint64_t ZigZag(uint64_t delta) {
  return (delta << 1) ^ static_cast<uint64_t>(static_cast<int64_t>(delta) >> 63);
}
inline uint64_t UnZigZag(uint64_t zigzag) { return (zigzag >> 1) ^ (~(zigzag & 1) + 1); }

}  // namespace podium::storage::snapshot_format
