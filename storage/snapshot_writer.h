// SnapshotWriter: streams a consistent image of the state into a snapshot file
// (docs/snapshot_format.md), block by block.
//
// Why streaming. A snapshot of a big heap must not double it: the writer keeps one block of
// uncompressed section content (kSnapshotBlockBytesMax) and one compressed block, and hands
// each full block to the file. A sorted set is written member by member (BeginSortedSet,
// AddMember, EndSortedSet), possibly in several parts, so a snapshot of a live server can feed
// it a slice at a time (storage/snapshot_capture.h); AddSortedSet is the one-call form for a
// set the caller may read whole.
//
// Order of calls (CHECKed: a wrong order is a programmer error):
//   Begin, AddStock*, BeginStrings, AddString*, BeginSortedSets,
//   (AddSortedSet | BeginSortedSet AddMember* EndSortedSet)*, BeginBook, AddBookEntries*,
//   BeginRankings, AddRankingChunk*, Finish.
// Entries are data the caller already holds, so out-of-range entries (a key past
// kKeySizeBytesMax, NaN scores, a member count that does not match) are CHECK failures too;
// only file-system errors come back as a Status. After the first error every later call
// returns it, and the writer removes its .tmp file. Destroying a writer that did not finish
// also removes the .tmp file; the final name appears only in Finish, after the data is synced.
//
// Thread-safety: none; one thread drives a writer. The Env must outlive it.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/file.h"
#include "storage/member.h"
#include "storage/snapshot_format.h"
#include "storage/sorted_set.h"
#include "storage/status.h"

namespace podium::storage {

class SnapshotWriter {
 public:
  explicit SnapshotWriter(Env* env);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Creates <dir>/snapshot-<wal_sequence>.snap.tmp, writes the header and opens the stock
  // section. wal_sequence is the last WAL record the image includes.
  Status Begin(const std::string& dir, uint64_t wal_sequence, int64_t created_unix_ms);

  Status AddStock(uint64_t product, int64_t units);

  Status BeginStrings();
  // deadline_ms: absolute Unix ms, nullopt for no TTL.
  Status AddString(std::string_view key, std::string_view value,
                   std::optional<int64_t> deadline_ms);

  Status BeginSortedSets();
  Status AddSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                      const SortedSet& set);
  // member_count >= 1 members must follow, best in ascending (score, member) order (the
  // encoding is smallest then, and loading appends); any order loads correctly.
  // A big set may be written as several parts, each captured while the set was briefly
  // locked: every part after the first passes continues = true and the same key (its
  // deadline replaces the earlier one). The loader merges the parts; a member in two parts
  // takes the later score.
  Status BeginSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                        uint64_t member_count, bool continues = false);
  Status AddMember(const MemberKey& member, double score);
  Status EndSortedSet();

  // The order book (storage/book_effects.h): `entries` is `count` encoded entries, appended
  // as they are.
  Status BeginBook();
  Status AddBookEntries(std::string_view entries, uint64_t count);
  // Rankings (storage/ranking.h): chunks, each written as a varint length and its bytes;
  // `entries` is how many ranking entries they hold in all.
  Status BeginRankings();
  Status AddRankingChunk(std::string_view chunk, uint64_t entries);

  // Ends the last section, writes the footer, syncs, renames the file to its final name and
  // syncs the directory. Returns the final path.
  Result<std::string> Finish();

  // The bytes written so far (the file's size after Finish).
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  enum class Stage : uint8_t {
    kIdle,
    kStock,
    kStrings,
    kSortedSets,
    kInSortedSet,
    kBook,
    kRankings,
    kFinished,
    kFailed
  };

  Status Fail(Status status);
  Status AppendContent(std::string_view bytes);  // section content, spanning blocks
  Status FlushBlock();
  Status EndSection();
  Status StartSection(snapshot_format::SectionType type);
  Status WriteRaw(std::string_view bytes);  // to the file, through the file checksum
  void AppendKeyAndDeadline(std::string_view key, std::optional<int64_t> deadline_ms,
                            std::string* out) const;

  Env* const env_;
  Stage stage_ = Stage::kIdle;
  Status error_;
  std::string dir_;
  std::string temp_path_;
  std::string final_path_;
  std::unique_ptr<WritableFile> file_;
  uint64_t file_bytes_ = 0;
  XXH3_state_t* file_hash_;

  std::string block_;       // uncompressed content of the block being filled
  std::string compressed_;  // block header + LZ4 output of one block
  std::string entry_;       // fixed-size fields of one entry before they go to block_

  uint64_t stock_count_ = 0;
  uint64_t string_count_ = 0;
  uint64_t sorted_set_count_ = 0;
  uint64_t member_count_ = 0;          // members of all sets written
  uint64_t book_entry_count_ = 0;
  uint64_t ranking_entry_count_ = 0;
  uint64_t set_members_expected_ = 0;  // members the open set still owes
  uint64_t previous_score_key_ = 0;    // ScoreKey of the open set's previous member
  std::string set_key_;                // the key of the last set begun, for continuations
};

}  // namespace podium::storage
