#include "storage/member_index.h"

#include <algorithm>

namespace podium::storage {

void MemberIndex::Insert(uint64_t hash, uint32_t node) {
  DCHECK_NE(node, kNoNode);
  if ((size_ + 1) * 100 > capacity_ * kMaxLoadPercent) {
    Resize(std::max(kMinCapacity, capacity_ + capacity_ / 2));
  }
  PlaceAt(Pack(Fingerprint(hash), node));
  ++size_;
}

void MemberIndex::Reserve(size_t members) {
  const size_t capacity = members * 100 / kMaxLoadPercent + 1;
  reserved_ = std::max(reserved_, capacity);
  if (capacity > capacity_) Resize(std::max(kMinCapacity, capacity));
}

void MemberIndex::PlaceAt(uint64_t value) {
  size_t slot = Home(FingerprintOf(value), capacity_);
  while (NodeOf(slots_[slot]) != kNoNode) slot = Next(slot);
  slots_[slot] = value;
}

size_t MemberIndex::FindSlot(uint64_t hash, uint32_t node) const {
  const uint64_t wanted = Pack(Fingerprint(hash), node);
  for (size_t slot = Home(Fingerprint(hash), capacity_);; slot = Next(slot)) {
    CHECK_NE(NodeOf(slots_[slot]), kNoNode) << "member index has no slot for node " << node;
    if (slots_[slot] == wanted) return slot;
  }
}

void MemberIndex::Relocate(uint64_t hash, uint32_t from, uint32_t to) {
  DCHECK_NE(to, kNoNode);
  slots_[FindSlot(hash, from)] = Pack(Fingerprint(hash), to);
}

void MemberIndex::Erase(uint64_t hash, uint32_t node) {
  size_t hole = FindSlot(hash, node);
  // Backward shift: pull later members of the probe run into the hole when their home is at or
  // before it, so every run stays contiguous from its home and no tombstones are needed.
  for (size_t slot = Next(hole);; slot = Next(slot)) {
    const uint64_t value = slots_[slot];
    if (NodeOf(value) == kNoNode) break;
    const size_t home = Home(FingerprintOf(value), capacity_);
    const size_t distance_to_home = (slot + capacity_ - home) % capacity_;
    const size_t distance_to_hole = (slot + capacity_ - hole) % capacity_;
    if (distance_to_home >= distance_to_hole) {
      slots_[hole] = value;
      hole = slot;
    }
  }
  slots_[hole] = kNoNode;
  --size_;
  if (capacity_ > std::max(kMinCapacity, reserved_) && size_ * 100 < capacity_ * kMinLoadPercent) {
    Resize(std::max({kMinCapacity, reserved_,
                     size_ * 100 / ((kMaxLoadPercent + kMinLoadPercent) / 2)}));
  }
}

void MemberIndex::Resize(size_t capacity) {
  CHECK_GT(capacity * kMaxLoadPercent, size_ * 100);
  std::unique_ptr<uint64_t[]> old = std::move(slots_);
  const size_t old_capacity = capacity_;
  slots_ = std::make_unique_for_overwrite<uint64_t[]>(capacity);
  std::fill_n(slots_.get(), capacity, uint64_t{kNoNode});
  capacity_ = capacity;
  for (size_t slot = 0; slot < old_capacity; ++slot) {
    if (NodeOf(old[slot]) != kNoNode) PlaceAt(old[slot]);
  }
}

}  // namespace podium::storage
