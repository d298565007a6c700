// Effects: what the WAL records about each change of state, and how recovery applies them.
//
// The rule (design.md, docs/wal_format.md "Effects"): every effect assigns final values to
// "cells" (one stock counter; one string key with its value and deadline; one sorted-set
// member's score; a key's deadline; a whole key, for a delete or a replacing store), and the
// effects on one cell are logged in the order they were applied. Two properties follow, and
// the durability design rests on them:
//  - replay in log order reaches the live state whatever the interleaving of threads: the
//    last effect on each cell decides it, and that is the last one the live state saw;
//  - replaying an effect whose result a snapshot already holds is harmless (assignments are
//    idempotent), so a snapshot need not be a cut: it records the last sequence S logged
//    before it began, captures each key under its shard's lock whenever it gets to it, and
//    recovery replays every record after S over it.
// Commuting deltas were the alternative; they fail the second property (a delta replayed over
// a snapshot that holds it counts twice), which would force snapshots to stop writers.
//
// Per-cell order: keys change under their shard's lock and log before unlocking; stock
// counters change lock-free, so with a log open a stock change (compare-and-swap, then
// logging the value it wrote) runs under a per-product stripe lock (Database::WithStockLogged).
//
// Expiry is not logged: a deadline is data, and an expired key is invisible whether or not it
// has been swept. Replay therefore treats no key as expired; the sweeps remove them later.
// One consequence: a snapshot's capture may miss a key that expired after S although records
// after S changed it. Those records must not bring it back; the one effect that assigns part
// of a key, a sorted-set put without kSortedSetPutReplace, is skipped when its key is missing
// (the set's creation is always logged with the flag, so only an expiry can have removed it).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/member.h"
#include "storage/sorted_set.h"
#include "storage/status.h"
#include "storage/wal_format.h"

namespace podium::storage {

class Database;

// WAL record types 1..127 (docs/wal_format.md lists the payloads byte by byte).
enum class EffectType : uint8_t {
  kStockSet = 1,         // a counter's units
  kStringPut = 2,        // a string key: value and deadline (replaces any type)
  kKeyDelete = 3,        // a key of any type is gone
  kKeyDeadline = 4,      // a key's deadline (or none)
  kSortedSetPut = 5,     // members' scores in a sorted set
  kSortedSetRemove = 6,  // members gone from a sorted set (the key goes when it empties)
  kBook = 7,             // order-book entries changed together (storage/book_effects.h)
  kRanking = 8,          // ranking entries of one call (storage/ranking.h)
};

// Flags of kSortedSetPut.
inline constexpr uint8_t kSortedSetPutReplace = 1;    // the key starts as a new empty set
inline constexpr uint8_t kSortedSetPutContinued = 2;  // the next record continues this effect
inline constexpr uint8_t kSortedSetPutFlagsAll = kSortedSetPutReplace | kSortedSetPutContinued;

// Encoders: append one effect's payload to *out. Deadlines are absolute Unix ms.
void EncodeStockSet(uint64_t product, int64_t units, std::string* out);
void EncodeStringPut(std::string_view key, std::string_view value,
                     std::optional<int64_t> deadline_ms, std::string* out);
void EncodeKeyDelete(std::string_view key, std::string* out);
void EncodeKeyDeadline(std::string_view key, std::optional<int64_t> deadline_ms,
                       std::string* out);
// A sorted-set effect is its header, then members appended one by one.
void EncodeSortedSetPutHeader(std::string_view key, uint8_t flags, std::string* out);
void AppendPutMember(const MemberKey& member, double score, std::string* out);
void EncodeSortedSetRemoveHeader(std::string_view key, std::string* out);
void AppendRemovedMember(const MemberKey& member, std::string* out);

// Logging: encode one effect and append it to `log`; nothing when `log` is null (no
// persistence). Call while the cell's order is held (storage/effects.h, top).
class EffectLog;
void LogStockSet(EffectLog* log, uint64_t product, int64_t units);
void LogStringPut(EffectLog* log, std::string_view key, std::string_view value,
                  std::optional<int64_t> deadline_ms);
void LogKeyDelete(EffectLog* log, std::string_view key);
void LogKeyDeadline(EffectLog* log, std::string_view key, std::optional<int64_t> deadline_ms);
// Members and their final scores; `replace`: the key was created (or replaced) by this change.
// Splits into a group of records if the members do not fit one.
void LogSortedSetPut(EffectLog* log, std::string_view key, bool replace,
                     std::span<const std::pair<MemberKey, double>> members);
// The whole of `set` as the new value of key (ZUNIONSTORE's destination): encoded first (off
// the event loop, for a big set), logged as one group later. `set` must not be empty.
std::vector<std::string> EncodeSortedSetStore(std::string_view key, const SortedSet& set);
void LogSortedSetRecords(EffectLog* log, std::vector<std::string> records);
void LogSortedSetRemove(EffectLog* log, std::string_view key, std::span<const MemberKey> members);
// The payload bytes of the kSortedSetRemove record of `members` (one record, unlike puts: a
// command must check it against kSortedSetRemoveBytesMax before it removes anything).
size_t SortedSetRemoveBytes(std::string_view key, std::span<const MemberKey> members);
inline constexpr size_t kSortedSetRemoveBytesMax = kWalRecordPayloadBytesMax;

// Applies logged effects to a Database in log order. A kSortedSetPut group (records flagged
// kSortedSetPutContinued, then one without the flag) is applied only when its last record
// arrives, so a group cut by a crash leaves nothing (its command was never acknowledged).
// Not thread-safe; recovery runs before the event loops start.
class EffectReplayer {
 public:
  explicit EffectReplayer(Database* db) : db_(db) {}

  // Corruption (the caller adds file and offset) if the payload does not parse or breaks a
  // limit; nothing is applied then.
  Status Apply(uint8_t type, std::string_view payload);

  // Records of a group still waiting for its last record (dropped at the end of replay).
  size_t pending_group_records() const { return group_.size(); }

 private:
  Status ApplyNow(uint8_t type, std::string_view payload);

  Database* const db_;
  std::vector<std::string> group_;
};

}  // namespace podium::storage
