// Every bound the storage engine enforces, in one place. Units are last in each name.
// Input past a bound is refused with Status::LimitExceeded or InvalidArgument before anything
// is allocated or changed. The server's own limits (frames, connections, buffers) live in
// server/limits.h; these are the ones that belong to the data.
#pragma once

#include <cstddef>
#include <cstdint>

namespace podium::storage {

// Product ids (stock counters, integer sorted-set members) are non-negative 63-bit integers:
// the top bit is the tag that tells an inline integer member from a string member.
inline constexpr uint64_t kProductIdMax = (uint64_t{1} << 63) - 1;

// Stock counters.
inline constexpr int64_t kStockUnitsMax = 1'000'000'000'000;  // per counter, 10^12 units
inline constexpr size_t kStockCountersMax = size_t{1} << 26;  // 67M products per table

// Keys and values of records.
inline constexpr size_t kKeySizeBytesMax = 1024;
inline constexpr size_t kValueSizeBytesMax = size_t{8} << 20;  // 8 MiB
inline constexpr int64_t kTtlMsMax = int64_t{100} * 365 * 24 * 3600 * 1000;  // 100 years

// Expiry sweeps: how many keys one sweep call may look at. Bounds the pause it causes.
inline constexpr size_t kExpirySweepKeysPerCallMax = 1024;

// Assumed cache line size: for keeping read-mostly and written fields apart, and for
// prefetching a structure line by line. A constant rather than
// std::hardware_destructive_interference_size, which g++ warns about in headers because its
// value may differ between compilers.
inline constexpr size_t kCacheLineBytes = 64;

// Sorted sets.
inline constexpr size_t kMemberSizeBytesMax = 1024;
inline constexpr size_t kSortedSetMembersMax = (size_t{1} << 31) - 1;  // rank spans are 32-bit
// Entries per unrolled skip-list node: 125 makes a level-1 node (16-byte header, one 32-byte
// link, 16-byte entries) exactly 2 KiB (a jemalloc size class). Measured against 30 and 62 on a 1M-member set (docs/benchmarks.md): fewer nodes mean
// fewer cache misses per descent, which is what an increment pays for.
inline constexpr size_t kSortedSetNodeEntries = 125;
inline constexpr int kSortedSetLevelsMax = 16;       // 4^16 nodes, far past kSortedSetMembersMax

static_assert(kMemberSizeBytesMax <= kKeySizeBytesMax, "a member fits wherever a key does");
static_assert(kSortedSetNodeEntries >= 4 && kSortedSetNodeEntries <= 255,
              "node entry counts are stored in one byte and nodes split in halves");
static_assert(kStockUnitsMax < INT64_MAX / 2, "adding two counters' worth never overflows int64");

// Orders, points, coupons, likes and the catalog (docs/orders.md).
inline constexpr size_t kOrderItemsMax = 32;
inline constexpr int64_t kOrderQuantityMax = 1'000'000;
inline constexpr int64_t kAmountMax = 1'000'000'000'000;  // prices, totals, points: 10^12
// A user's points balance plus the points their pending orders hold: POINTS.CHARGE refuses to
// pass it, so no refund can make a balance pass it either (docs/orders.md, "Points").
inline constexpr int64_t kPointsMax = kAmountMax;
inline constexpr int64_t kHoldMsMax = int64_t{24} * 3600 * 1000;
inline constexpr size_t kIdBytesMax = 64;     // order and coupon ids
inline constexpr size_t kNameBytesMax = 256;  // brand and product names
inline constexpr size_t kListCountMax = 100;  // one page of ORDER.LIST or LIKE.LIST
// One encoded order-book entry (an order of kOrderItemsMax items is about 1 KiB).
inline constexpr size_t kBookEntryBytesMax = 4096;
// Holds expired per sweep call: bounds the time a sweep holds the order book.
inline constexpr size_t kHoldSweepOrdersPerCallMax = 256;
static_assert(kAmountMax <= (INT64_MAX - kAmountMax) / kOrderQuantityMax,
              "a running total (at most kAmountMax) plus one item's price x quantity fits int64");

// Rankings (docs/rankings.md): carried parts copied into a new window per step of the
// background stepper; about a quarter of a millisecond, so no request waits longer for it.
inline constexpr size_t kRankingCarrySliceMembers = 1024;
// Of an expired window's 256 parts, how many the stepper moves into the day's archive per
// step (a 256th of a million-product day is about 4,000 products, a fraction of a millisecond).
inline constexpr size_t kRankingArchiveSliceShards = 1;
// How long before a window opens the server's housekeeper thread sizes its tables
// (RankingOptions::spare_lead_ms): well inside the hour a window opens ahead, and late enough
// that the day before has its final size.
inline constexpr int64_t kRankingSpareLeadMs = 10'000;
// RANK.SCAN: the most products one reply is asked for.
inline constexpr size_t kRankScanCountMax = 65536;
// RANK.PUBLISH: the most products on a weekly or monthly board.
inline constexpr size_t kRankBoardMembersMax = 10000;

// A chunk of a snapshot's ranking section (one ApplyEntries payload), and the most a loader
// accepts.
inline constexpr size_t kRankingSnapshotChunkBytes = size_t{64} << 10;
inline constexpr size_t kRankingChunkBytesMax = size_t{1} << 20;

// Snapshots (docs/snapshot_format.md). One block of section content, before compression: the
// writer's only buffer and the most a loader decompresses at once. 64 KiB is LZ4's match window.
inline constexpr size_t kSnapshotBlockBytesMax = size_t{64} << 10;
// A snapshot of a live server copies at most this many sorted-set members per shard-lock hold
// (storage/snapshot_capture.h): about a millisecond, so no write waits longer for a snapshot.
inline constexpr size_t kSnapshotSliceMembers = 4096;
// Snapshots a directory listing takes: far more than retention ever keeps (the log segments
// beside them do not count).
inline constexpr size_t kSnapshotFilesListedMax = 4096;

static_assert(kSnapshotBlockBytesMax <= (size_t{1} << 30), "block lengths fit the u32 fields");

// Write-ahead log (docs/wal_format.md). A record, header included, is at most 16 MiB: a SET of
// the largest value with the largest key fits with room to spare. A segment is at most 64 MiB;
// the writer starts a new one before an append would pass that.
inline constexpr size_t kWalRecordBytesMax = size_t{16} << 20;
inline constexpr uint64_t kWalSegmentBytesMax = uint64_t{64} << 20;
// A WalWriter gathers framed records up to this size before one write to the file.
inline constexpr size_t kWalWriteBufferBytes = size_t{1} << 20;
// A WalWriter keeps up to this many zero bytes written ahead of its appends, extended when an
// append reaches them: a sync over written blocks commits no metadata (docs/benchmarks.md).
inline constexpr uint64_t kWalReserveBytes = uint64_t{1} << 20;
// A WAL directory listing stops here: far more segments than retention ever keeps.
inline constexpr size_t kWalSegmentsListedMax = 65536;

static_assert(kWalRecordBytesMax >= kValueSizeBytesMax + kKeySizeBytesMax + 4096,
              "the largest record value fits one WAL record with its key and framing");
static_assert(kWalSegmentBytesMax >= 2 * kWalRecordBytesMax,
              "a record always fits an empty segment, with room for others");
static_assert(kWalRecordBytesMax <= UINT32_MAX, "record lengths fit the u32 length field");

}  // namespace podium::storage
