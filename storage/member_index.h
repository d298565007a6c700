// MemberIndex: the sorted set's hash index from a member to the skip-list node that holds it.
//
// Each slot is eight bytes: the top 32 bits of the member's hash (its fingerprint) and the
// 32-bit id of the node. The member itself is not stored here: the node has it, and a lookup
// confirms a fingerprint match by scanning that node (a caller-supplied predicate). This halves
// the index compared with storing (member, pointer) and is what keeps a set near 30 bytes per
// member. Because the home slot is derived from the fingerprint alone, the table can be
// rehashed and slots shifted on delete without touching any node.
//
// Two members with the same fingerprint in the same node have identical slots; which of the two
// a Relocate or Erase picks does not matter, since the slots are indistinguishable.
//
// Linear probing, backward-shift deletion, growth by 3/2 past kMaxLoadPercent. Not
// thread-safe: owned by one SortedSet. Rehash is O(capacity) and happens at growth only.
#pragma once

#include <cstdint>
#include <memory>

#include <glog/logging.h>

namespace podium::storage {

class MemberIndex {
 public:
  static constexpr uint32_t kNoNode = UINT32_MAX;

  MemberIndex() = default;
  MemberIndex(const MemberIndex&) = delete;
  MemberIndex& operator=(const MemberIndex&) = delete;

  // Returns the node id of the first slot with hash's fingerprint for which holds(node_id) is
  // true, or kNoNode.
  template <typename Holds>
  uint32_t Find(uint64_t hash, Holds&& holds) const {
    if (size_ == 0) return kNoNode;
    const uint32_t fingerprint = Fingerprint(hash);
    for (size_t slot = Home(fingerprint, capacity_);; slot = Next(slot)) {
      const uint64_t value = slots_[slot];
      const uint32_t node = NodeOf(value);
      if (node == kNoNode) return kNoNode;
      if (FingerprintOf(value) == fingerprint && holds(node)) return node;
    }
  }

  void Insert(uint64_t hash, uint32_t node);
  // Grows the table now, so that `members` inserts in all need no rehash (a rehash of a million
  // slots is milliseconds under the owner's lock), and keeps it at least that large: erasures
  // never shrink it below.
  void Reserve(size_t members);
  // Starts loading the cache line where hash's probe begins (a load that knows its next
  // members hides the miss behind the work on the current one).
  void Prefetch(uint64_t hash) const {
    if (capacity_ != 0) __builtin_prefetch(&slots_[Home(Fingerprint(hash), capacity_)]);
  }
  // The node of the first slot with hash's fingerprint, unverified (a hint: usually the
  // member's node), or kNoNode.
  uint32_t Peek(uint64_t hash) const {
    return Find(hash, [](uint32_t) { return true; });
  }
  // Repoints one slot (hash, from) at node `to`. The slot must exist.
  void Relocate(uint64_t hash, uint32_t from, uint32_t to);
  // Removes one slot (hash, node). The slot must exist.
  void Erase(uint64_t hash, uint32_t node);

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t memory_bytes() const { return capacity_ * sizeof(uint64_t); }

 private:
  static constexpr size_t kMinCapacity = 16;
  static constexpr size_t kMaxLoadPercent = 85;
  static constexpr size_t kMinLoadPercent = 20;  // shrink below this

  static uint32_t Fingerprint(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  static uint32_t FingerprintOf(uint64_t value) { return static_cast<uint32_t>(value >> 32); }
  static uint32_t NodeOf(uint64_t value) { return static_cast<uint32_t>(value); }
  static uint64_t Pack(uint32_t fingerprint, uint32_t node) {
    return (uint64_t{fingerprint} << 32) | node;
  }
  // Maps a fingerprint to [0, capacity) by multiply-shift, so capacity need not be a power of 2.
  static size_t Home(uint32_t fingerprint, size_t capacity) {
    return static_cast<size_t>((uint64_t{fingerprint} * capacity) >> 32);
  }
  size_t Next(size_t slot) const { return slot + 1 == capacity_ ? 0 : slot + 1; }
  size_t FindSlot(uint64_t hash, uint32_t node) const;
  void Resize(size_t capacity);
  void PlaceAt(uint64_t value);

  std::unique_ptr<uint64_t[]> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  size_t reserved_ = 0;  // the capacity Reserve asked for: shrinking stops there
};

}  // namespace podium::storage
