// Keyspace: one namespace of keys holding values of different types, with expiry for all of
// them, as a Redis database has. A key holds at most one value: a byte string (RecordStore) or
// a sorted set. Commands of one type on a key of another get WrongType; SET replaces a key of
// any type; a sorted set that loses its last member disappears, as in Redis.
//
// Strings live in a RecordStore (which keeps their TTLs); sorted sets in a map of their own with
// an ExpiryIndex for theirs. Keeping the two maps apart keeps the string path exactly as fast as
// RecordStore alone; a type check on a miss costs one extra hash lookup.
//
// Time is a parameter (now_ms, Unix milliseconds), as in RecordStore. Thread-safety: none; the
// server guards each Keyspace (one per shard) with a lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/expiry_index.h"
#include "storage/lazy_free.h"
#include "storage/record_store.h"
#include "storage/sorted_set.h"
#include "storage/status.h"

namespace podium::storage {

enum class KeyType : uint8_t { kNone, kString, kSortedSet };
std::string_view KeyTypeName(KeyType type);  // "none", "string", "zset" (Redis's TYPE names)

class Keyspace {
 public:
  Keyspace() = default;
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  KeyType Type(std::string_view key, int64_t now_ms);

  // Strings. Commands that read or change a string use strings() after checking that the key
  // is not another type (CheckString); SetString replaces whatever the key held.
  RecordStore& strings() { return strings_; }
  Status CheckString(std::string_view key, int64_t now_ms);  // ok, or WrongType
  Status SetString(std::string_view key, std::string_view value, int64_t now_ms,
                   std::optional<int64_t> ttl_ms);

  // Sorted sets. Find returns null for a missing key; both return WrongType for a string.
  Result<SortedSet*> FindSortedSet(std::string_view key, int64_t now_ms);
  Result<SortedSet*> FindOrCreateSortedSet(std::string_view key, int64_t now_ms);
  // Call after removing members: an empty set's key goes away.
  void DropIfEmpty(std::string_view key);
  // Replaces the key's value (any type, TTL cleared) with `set`; an empty set deletes the key.
  // A big sorted set replaced goes to the lazy free (set_lazy_free).
  void ReplaceSortedSet(std::string_view key, std::unique_ptr<SortedSet> set, int64_t now_ms);

  // Any type.
  bool Delete(std::string_view key, int64_t now_ms);
  bool Exists(std::string_view key, int64_t now_ms);
  // Redis EXPIRE: false if missing; ttl_ms <= 0 deletes; past kTtlMsMax is an error.
  Result<bool> Expire(std::string_view key, int64_t ttl_ms, int64_t now_ms);
  int64_t TtlMs(std::string_view key, int64_t now_ms);  // -2 missing, -1 no TTL
  bool Persist(std::string_view key, int64_t now_ms);

  // Removes expired keys of both types, looking at no more than max_keys of each per call.
  size_t SweepExpired(int64_t now_ms, size_t max_keys);

  // Snapshots. Visit every key of one type, expired ones not yet removed included, in no
  // particular order, changing nothing: visitor(key, value, deadline_ms) for strings (see
  // RecordStore::ForEach), visitor(key, const SortedSet&, deadline_ms) for sorted sets.
  // deadline_ms is absolute, nullopt for no TTL. The visitor must not change this keyspace.
  template <typename Visitor>
  void ForEachString(Visitor&& visitor) const {
    strings_.ForEach(visitor);
  }
  template <typename Visitor>
  void ForEachSortedSet(Visitor&& visitor) const {
    for (const auto& [key, set] : sorted_sets_) {
      visitor(std::string_view(key), static_cast<const SortedSet&>(*set),
              sorted_set_expiry_.Deadline(key));
    }
  }

  // The sorted set at key, expired or not, and its deadline; null if there is none. Changes
  // nothing (a snapshot reads a big set in slices, looking it up again for each).
  const SortedSet* PeekSortedSet(std::string_view key, std::optional<int64_t>* deadline_ms) const;

  // Loading one snapshot into an empty keyspace, strings first (the file's order): adds a key
  // with an absolute deadline, which may lie in the past. InvalidArgument, nothing changed, if
  // the key or deadline is out of range (RecordStore::Restore), the set is empty, or the key is
  // already present, with one exception: RestoreSortedSet replaces a string record (live or
  // expired), because that record is the same snapshot's earlier capture of a key that became a
  // sorted set while the snapshot was taken (docs/snapshot_format.md, "A key in both
  // sections"). A key restored twice as the same type is refused.
  Status RestoreString(std::string_view key, std::string_view value,
                       std::optional<int64_t> deadline_ms);
  Status RestoreSortedSet(std::string_view key, std::unique_ptr<SortedSet> set,
                          std::optional<int64_t> deadline_ms);

  // Replaying logged effects (storage/effects.h). These treat no key as expired (a replayed
  // deadline may already have passed; the sweeps remove such keys later), and take absolute
  // deadlines. InvalidArgument, nothing changed, for a key, value or deadline out of range.
  Status PutString(std::string_view key, std::string_view value,
                   std::optional<int64_t> deadline_ms);
  void RemoveKey(std::string_view key);
  // false if there is no such key.
  Result<bool> SetDeadline(std::string_view key, std::optional<int64_t> deadline_ms);
  // The sorted set at key, created if missing or if `replace` (whatever the key held is
  // dropped, its deadline too; so is a string of that name).
  Result<SortedSet*> SortedSetForReplay(std::string_view key, bool replace);
  // The sorted set at key, expired or not; null if there is none.
  SortedSet* FindSortedSetForReplay(std::string_view key);
  // The deadline of a live key (nullopt: none, or no such key), for logging a command's effect.
  std::optional<int64_t> Deadline(std::string_view key, int64_t now_ms);

  // Big sorted sets this keyspace drops go to `lazy_free` (null: freed at once). It must
  // outlive the keyspace's last change.
  void set_lazy_free(LazyFree* lazy_free) { lazy_free_ = lazy_free; }

  size_t string_count() const { return strings_.size(); }
  size_t sorted_set_count() const { return sorted_sets_.size(); }
  // Keys of either type with a TTL (expired ones not yet removed included).
  size_t expiring_count() const { return strings_.keys_with_ttl() + sorted_set_expiry_.size(); }

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const noexcept {
      return static_cast<size_t>(XXH3_64bits(key.data(), key.size()));
    }
  };
  using SortedSetMap =
      std::unordered_map<std::string, std::unique_ptr<SortedSet>, KeyHash, std::equal_to<>>;

  // The live sorted set at key, removing it first if its deadline has passed.
  SortedSetMap::iterator FindLiveSortedSet(std::string_view key, int64_t now_ms);
  void EraseSortedSet(SortedSetMap::iterator it);

  RecordStore strings_;
  LazyFree* lazy_free_ = nullptr;
  SortedSetMap sorted_sets_;
  ExpiryIndex sorted_set_expiry_;
};

}  // namespace podium::storage
