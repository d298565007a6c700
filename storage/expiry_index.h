// ExpiryIndex: which key expires when, so that expired keys can be found and removed a few at a
// time without ever scanning the keyspace.
//
// It maps key -> deadline (absolute, in milliseconds; the caller picks the clock) and hands out
// due keys earliest first. It knows nothing of what the keys hold: the RecordStore uses one for
// its byte strings, and the server's keyspace can use one for expiring sorted sets as well.
//
// Why an indexed binary heap. Each key has exactly one heap entry, and the key's map node stores
// where that entry sits (updated on every move inside the heap). Setting a new deadline or
// clearing one repairs the heap in place in O(log n) instead of leaving a stale entry behind, so:
//   - there are no stale entries at all: PopDue examines exactly the keys it hands out plus one
//     peek at the top, and the heap holds exactly size() entries however often deadlines change
//     (a lazy-deletion heap would need counting and periodic compaction to get there);
//   - the key bytes live once, in the map node; a heap entry is 16 bytes (deadline, node
//     pointer). std::unordered_map never moves its nodes, not even when it rehashes, so the
//     pointers stay valid. An ordered std::set<(deadline, key)> would cost a second copy of the
//     key or a pointer-chasing tree node of about 48 bytes per key, for no gain here.
// The heap's array gives its memory back when it falls to a quarter of its capacity.
//
// Complexity (n = size()): Set, Clear O(log n); Deadline O(1); PopDue O(k log n) for the k <=
// kExpirySweepKeysPerCallMax keys it hands out, plus O(1); EarliestDeadline O(1).
//
// Thread-safety: none; the owner (one event loop) serializes all calls.
// Keys are opaque byte strings; the caller validates them against storage/limits.h.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace podium::storage {

class ExpiryIndex {
 public:
  // Receives one due key. The view is valid only during the call. The key has already left the
  // index when the visitor runs, so the visitor may call back into this index (for example
  // Clear() the same key as part of a generic delete path, or Set() a new deadline).
  using KeyVisitor = std::function<void(std::string_view key)>;

  ExpiryIndex() = default;
  // The heap points into the map's nodes; a move keeps the nodes, a copy would not.
  ExpiryIndex(const ExpiryIndex&) = delete;
  ExpiryIndex& operator=(const ExpiryIndex&) = delete;
  ExpiryIndex(ExpiryIndex&&) = default;
  ExpiryIndex& operator=(ExpiryIndex&&) = default;

  // Sets or replaces the deadline of `key`. The old deadline, if any, is forgotten.
  void Set(std::string_view key, int64_t deadline_ms);

  // Forgets the deadline of `key`. Returns true if it had one.
  bool Clear(std::string_view key);

  // The deadline of `key`, or nullopt if it has none.
  std::optional<int64_t> Deadline(std::string_view key) const;

  // The smallest deadline in the index, or nullopt if empty: tells a timer when to sweep next.
  std::optional<int64_t> EarliestDeadline() const;

  // Removes up to min(max_keys, kExpirySweepKeysPerCallMax) keys whose deadline <= now_ms,
  // earliest deadline first (ties in no particular order), and passes each to `visitor` right
  // after removing it. Returns how many keys it handed out. Examines at most that many entries
  // plus one, so one call's pause is bounded by the limit whatever the index holds.
  size_t PopDue(int64_t now_ms, size_t max_keys, const KeyVisitor& visitor);

  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }

  // Entries in the heap array. Equals size() by construction; exposed so tests can check that
  // re-setting deadlines never accumulates stale entries.
  size_t heap_entries() const { return heap_.size(); }

  // Approximate bytes held: map nodes and buckets, key bytes, heap array. Not exact (allocator
  // overhead is estimated); meant for INFO-style memory figures.
  size_t memory_bytes_estimate() const;

  // CHECK-fails if an internal invariant is broken (heap order, map <-> heap positions, byte
  // count). O(n): for tests and debugging, never on a request path.
  void CheckInvariants() const;

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const noexcept {
      return static_cast<size_t>(XXH3_64bits(key.data(), key.size()));
    }
  };
  // Value: the position of the key's entry in heap_.
  using Map = std::unordered_map<std::string, size_t, KeyHash, std::equal_to<>>;
  using Node = Map::value_type;

  struct HeapEntry {
    int64_t deadline_ms;
    Node* node;  // owned by keys_; stable for the node's life
  };

  void Place(size_t position, const HeapEntry& entry);
  void SiftUp(size_t position);
  void SiftDown(size_t position);
  void Repair(size_t position);
  void RemoveHeapAt(size_t position);
  void GrowHeapIfFull();
  void ShrinkHeapIfSparse();

  Map keys_;
  std::vector<HeapEntry> heap_;  // binary min-heap on deadline_ms
  size_t key_bytes_ = 0;         // sum of key sizes, for memory_bytes_estimate()
};

}  // namespace podium::storage
