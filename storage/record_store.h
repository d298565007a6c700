// RecordStore: byte-string values by key, each with an optional time to live. The server maps
// GET, SET, DEL, EXISTS, EXPIRE/PEXPIRE, PERSIST, TTL/PTTL and INCRBY/DECRBY onto it, so the
// semantics follow Redis wherever Redis defines them.
//
// Expiry. A key with a deadline is gone from the moment now_ms >= deadline: visible at
// deadline - 1, absent at deadline. Expired keys leave in two ways, as in Redis:
//   - lazily: any call that touches an expired key removes it first and then behaves as if the
//     key was missing;
//   - by SweepExpired(), which the owner calls from a timer; it pops due keys from an
//     ExpiryIndex earliest first and looks at no more than kExpirySweepKeysPerCallMax of them
//     per call, so a sweep never pauses the loop for long, however many keys expire at once.
// Until one of those happens an expired key still takes memory and counts in size().
//
// Time is a parameter. Every call takes now_ms (milliseconds on the owner's clock, normally
// Unix time) and nothing reads a clock inside, so tests are deterministic. now_ms must lie in
// [0, kNowMsMax] and should not go backwards; a smaller now_ms than before can make an expired
// key visible again until it is removed.
//
// Layout and why. One std::unordered_map from key to {value, deadline_ms} with heterogeneous
// lookup, so a string_view from the wire finds a key without building a std::string, and the
// key bytes are stored once in the map node. The deadline is kept in the record as well as in
// the ExpiryIndex: GET on a key then costs one hash lookup and one comparison (a key without a
// TTL has deadline kNoDeadline, which no now_ms reaches), and the index is touched only when a
// TTL is set, changed or removed. The price is 8 bytes per record plus, for keys with a TTL,
// the index's copy of the key (the index also serves the server's other expiring keys, so it
// cannot point into this map).
//
// Errors. Bad input (empty or oversized key, oversized value, TTL out of range, a value that is
// not an integer for IncrementBy) returns a Status and changes nothing. Nothing aborts on user
// input; CHECK/DCHECK failures mean a bug here or a broken precondition on now_ms.
//
// Keys are hashed with XXH3, unseeded: fast, but no defence against a client that crafts
// colliding keys on purpose (Redis seeds SipHash for that). Revisit if untrusted clients can
// choose keys freely.
//
// Complexity (k = keys with a TTL): Get, Exists, Delete, TtlMs, Persist O(1) average plus
// O(log k) when a TTL is removed; Set, Expire, IncrementBy O(1) average plus O(log k) when a TTL
// changes, plus copying the value; SweepExpired O(m log k) for the m <= kExpirySweepKeysPerCallMax
// keys it removes.
//
// Thread-safety: none. A RecordStore is owned by one event loop, which makes every call.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/expiry_index.h"
#include "storage/limits.h"
#include "storage/status.h"

namespace podium::storage {

// Parses `text` as a decimal int64 in canonical form, the way Redis' string2ll does, and
// returns nullopt otherwise. Accepted: "0", and an optional '-' followed by a digit 1-9 and
// more digits, within [INT64_MIN, INT64_MAX]. Rejected: "", "-", "+1", " 1", "1 ", "01", "00",
// "-0" (Redis rejects it too: only the single digit "0" may start with 0), "1.0", "1e3",
// anything out of range. Canonical form means a value that parses formats back to the same
// bytes, so INCRBY can store its result without changing what GET returned before.
std::optional<int64_t> ParseCanonicalInt64(std::string_view text);

class RecordStore {
 public:
  // The deadline of a key without a TTL; no now_ms reaches it.
  static constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();
  // The latest now_ms any call accepts: keeps now_ms + kTtlMsMax below kNoDeadline.
  static constexpr int64_t kNowMsMax = kNoDeadline - kTtlMsMax - 1;

  RecordStore() = default;
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;
  RecordStore(RecordStore&&) = default;
  RecordStore& operator=(RecordStore&&) = default;

  // The value of `key`, or nullopt if missing or expired (an expired key is removed). The view
  // points into the store and is valid until the next non-const call on this store.
  std::optional<std::string_view> Get(std::string_view key, int64_t now_ms);

  // Stores `value` under `key` (Redis SET). With ttl_ms the key expires at now_ms + ttl_ms;
  // without, any old TTL is cleared. Errors, nothing changed: InvalidArgument for an empty key or
  // ttl_ms <= 0; LimitExceeded for a key over kKeySizeBytesMax, a value over
  // kValueSizeBytesMax, or ttl_ms over kTtlMsMax. `value` may be a view returned by Get().
  Status Set(std::string_view key, std::string_view value, int64_t now_ms,
             std::optional<int64_t> ttl_ms = std::nullopt);

  // Removes `key`. Returns true if a live key was removed (an expired one is removed too, but
  // counts as missing, as in Redis DEL).
  bool Delete(std::string_view key, int64_t now_ms);

  bool Exists(std::string_view key, int64_t now_ms);

  // Redis PEXPIRE: gives a live key the deadline now_ms + ttl_ms and returns true; returns false
  // if the key is missing. ttl_ms <= 0 deletes the key (and returns true if it existed).
  // ttl_ms > kTtlMsMax is LimitExceeded whether or not the key exists, and changes nothing.
  Result<bool> Expire(std::string_view key, int64_t ttl_ms, int64_t now_ms);

  // Redis PERSIST: removes the TTL of a live key. Returns true if there was one to remove.
  bool Persist(std::string_view key, int64_t now_ms);

  // Redis PTTL: -2 if the key is missing, -1 if it has no TTL, else the milliseconds left (>= 1).
  int64_t TtlMs(std::string_view key, int64_t now_ms);

  // Redis INCRBY (DECRBY is IncrementBy(-delta); the caller must refuse delta == INT64_MIN
  // there, as Redis does, since it has no negation). A missing key counts as "0" and is created
  // without a TTL; an existing key keeps its TTL. Returns the new value, stored in canonical
  // decimal. Errors, nothing changed: InvalidArgument "value is not an integer or out of range"
  // if the stored value is not a canonical int64 (see ParseCanonicalInt64), InvalidArgument
  // "increment or decrement would overflow", or the key errors of Set() for a new key.
  Result<int64_t> IncrementBy(std::string_view key, int64_t delta, int64_t now_ms);

  // Removes keys whose deadline <= now_ms, earliest first. Looks at no more than
  // min(max_keys, kExpirySweepKeysPerCallMax) index entries; returns how many keys it removed.
  // A return equal to that bound means more may be due: call again (on a later loop turn).
  size_t SweepExpired(int64_t now_ms, size_t max_keys);

  // The earliest deadline of any key, or nullopt: tells the owner when a sweep has work.
  std::optional<int64_t> EarliestDeadline() const { return expiry_.EarliestDeadline(); }

  // Snapshots. Calls visitor(key, value, deadline_ms) for every record, expired ones not yet
  // removed included, in no particular order; deadline_ms is absolute, nullopt for no TTL.
  // Changes nothing; the views are valid during the call. The visitor must not change the store.
  template <typename Visitor>
  void ForEach(Visitor&& visitor) const {
    for (const auto& [key, record] : records_) {
      visitor(std::string_view(key), std::string_view(record.value),
              record.deadline_ms == kNoDeadline ? std::nullopt
                                                : std::optional<int64_t>(record.deadline_ms));
    }
  }

  // Whether the map holds a record for `key`, live or expired; changes nothing.
  bool HoldsRecord(std::string_view key) const { return records_.find(key) != records_.end(); }

  // Loading a snapshot: adds `key` with an absolute deadline (nullopt: no TTL), which may lie in
  // the past (the key then expires on first touch or sweep, as it would have). Errors, nothing
  // changed: InvalidArgument if the key is already present (expired or not) or the deadline is
  // negative or past kNowMsMax + kTtlMsMax; the key and value errors of Set().
  Status Restore(std::string_view key, std::string_view value, std::optional<int64_t> deadline_ms);

  // Live keys plus expired keys not yet removed.
  // Replay: sets the absolute deadline of a record, expired or not (nullopt: none). false if
  // there is no record. The deadline is the caller's to check.
  bool RestoreDeadline(std::string_view key, std::optional<int64_t> deadline_ms);

  size_t size() const { return records_.size(); }
  // Keys with a TTL (live or not yet removed).
  size_t keys_with_ttl() const { return expiry_.size(); }

  // Approximate bytes held by keys, values, the map and the expiry index. Allocator overhead is
  // estimated; meant for INFO-style memory figures.
  size_t memory_bytes_estimate() const;

  // CHECK-fails if an internal invariant is broken (records and expiry index agree, byte
  // counts). O(n): for tests and debugging, never on a request path.
  void CheckInvariants() const;

 private:
  struct Record {
    std::string value;
    int64_t deadline_ms = kNoDeadline;  // kNoDeadline: no TTL
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const noexcept {
      return static_cast<size_t>(XXH3_64bits(key.data(), key.size()));
    }
  };
  using Map = std::unordered_map<std::string, Record, KeyHash, std::equal_to<>>;

  // Finds `key` if it is live; removes it first if it has expired.
  Map::iterator FindLive(std::string_view key, int64_t now_ms);
  // Adds a record without a TTL for a key not in the map; key and value already validated.
  Map::iterator Insert(std::string_view key, std::string_view value);
  // Erases a record and its deadline, if any.
  void Erase(Map::iterator it);
  // Erases a record whose deadline the index no longer holds.
  void EraseRecordOnly(Map::iterator it);
  // Gives an existing record a new deadline (kNoDeadline clears it) in the record and the index.
  void SetDeadline(Map::iterator it, int64_t deadline_ms);
  void ReplaceValue(Record& record, std::string_view value);

  Map records_;
  ExpiryIndex expiry_;
  size_t payload_bytes_ = 0;  // key sizes plus value capacities held outside the map nodes
};

}  // namespace podium::storage
