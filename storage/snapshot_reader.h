// Loading snapshot files (docs/snapshot_format.md) and finding them.
//
// ReadSnapshot validates every byte it reads (header and file checksums, block checksums and
// lengths, entry ranges, footer counts) and hands entries to a SnapshotVisitor as it goes, with
// memory bounded by one block plus the entry being assembled (and the sorted set being built).
// Because the file checksum is only known at the end, a visitor has seen entries by the time a
// late error is found: an error means "throw away everything this call delivered". Recovery
// loads into fresh tables for exactly that reason. Every error is a Corruption (or the Env's
// IoError) whose message names the file and the byte offset.
//
// Thread-safety: none needed; a call uses only its arguments. The Env must be usable from the
// calling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/file.h"
#include "storage/keyspace.h"
#include "storage/sorted_set.h"
#include "storage/status.h"
#include "storage/stock_table.h"

namespace podium::storage {

struct BookEntry;

// Receives a snapshot's entries in file order. A non-ok Status stops the load; the loader
// reports it as corruption at the current offset (the entry contradicts the image, e.g. a key
// twice).
class SnapshotVisitor {
 public:
  virtual ~SnapshotVisitor() = default;
  virtual Status OnStock(uint64_t product, int64_t units) = 0;
  // After the last counter (a visitor may collect counters and create them all at once).
  virtual Status OnStockEnd() { return Status::Ok(); }
  // deadline_ms: absolute Unix ms, nullopt for no TTL. Views are valid during the call only.
  virtual Status OnString(std::string_view key, std::string_view value,
                          std::optional<int64_t> deadline_ms) = 0;
  // A complete, non-empty set; the visitor takes it.
  virtual Status OnSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                             std::unique_ptr<SortedSet> set) = 0;
  // An order-book entry (already decoded and range-checked); the default ignores it.
  virtual Status OnBookEntry(const BookEntry& /*entry*/) { return Status::Ok(); }
  // A chunk of ranking entries (Rankings::ApplyEntries' payload); returns how many entries it
  // held besides namespace ones, for the footer. The default decodes it into a scratch engine
  // (so a check finds damage) and keeps nothing.
  virtual Result<uint64_t> OnRankingChunk(std::string_view chunk);
};

// What a snapshot's header and footer say.
struct SnapshotInfo {
  uint64_t wal_sequence = 0;
  int64_t created_unix_ms = 0;
  uint64_t stock_counters = 0;
  uint64_t strings = 0;
  uint64_t sorted_sets = 0;
  uint64_t sorted_set_members = 0;
  uint64_t book_entries = 0;
  uint64_t ranking_entries = 0;
  uint64_t file_bytes = 0;
};

// Checks only the file checksum (the footer's last field, over every byte before it): fast
// (no decompression, no entries), and what recovery uses to choose the newest snapshot that
// was written whole and has not rotted since, before it loads one. Corruption naming the file
// and the offset, or the Env's IoError.
Status VerifySnapshotFile(Env* env, const std::string& path);

// Reads and checks the whole file at `path`, passing entries to `visitor`.
Result<SnapshotInfo> ReadSnapshot(Env* env, const std::string& path, SnapshotVisitor* visitor);

// ReadSnapshot into a StockTable, which should be empty (a product already there is refused as
// corruption), and a Keyspace, which must be empty (CHECKed; Keyspace::RestoreSortedSet says
// why). On error both hold part of the image: discard them.
Result<SnapshotInfo> LoadSnapshot(Env* env, const std::string& path, StockTable* stock,
                                  Keyspace* keyspace);

struct SnapshotFile {
  std::string path;
  uint64_t wal_sequence;
};
// The snapshot files in `dir` (names as the doc says; .tmp files and other names ignored),
// newest (highest WAL sequence) first. Does not open them: a listed file may still be bad.
// LimitExceeded past kSnapshotFilesListedMax entries in the directory.
Result<std::vector<SnapshotFile>> ListSnapshots(Env* env, const std::string& dir);

}  // namespace podium::storage
