#include "storage/expiry_index.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "storage/limits.h"

namespace podium::storage {
namespace {

// The heap array starts here when it first grows, and is never shrunk below it: small indexes
// are not worth reallocating.
constexpr size_t kHeapCapacityMinEntries = 64;
// The array is shrunk to fit once fewer than 1/kHeapShrinkRatio of its slots are used. Growth
// doubles, so a shrink needs about 3/4 of the capacity in removals first: amortized O(1).
constexpr size_t kHeapShrinkRatio = 4;
// Per key outside the key bytes: the node (next pointer, cached hash, std::string, position),
// about 16 bytes of allocator overhead, one bucket pointer.
constexpr size_t kNodeOverheadBytes =
    sizeof(void*) + sizeof(size_t) + sizeof(std::string) + sizeof(size_t) + 16 + sizeof(void*);

size_t Parent(size_t position) { return (position - 1) / 2; }
size_t FirstChild(size_t position) { return 2 * position + 1; }

}  // namespace

void ExpiryIndex::Set(std::string_view key, int64_t deadline_ms) {
  auto it = keys_.find(key);
  if (it != keys_.end()) {
    const size_t position = it->second;
    DCHECK_LT(position, heap_.size());
    DCHECK_EQ(heap_[position].node, &*it);
    heap_[position].deadline_ms = deadline_ms;
    Repair(position);
    return;
  }
  GrowHeapIfFull();  // before the map changes, so a failed allocation leaves both untouched
  it = keys_.emplace(std::string(key), heap_.size()).first;
  key_bytes_ += key.size();
  heap_.push_back(HeapEntry{deadline_ms, &*it});  // capacity reserved above: cannot throw
  SiftUp(heap_.size() - 1);
  DCHECK_EQ(heap_.size(), keys_.size());
}

bool ExpiryIndex::Clear(std::string_view key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  const size_t position = it->second;
  DCHECK_EQ(heap_[position].node, &*it);
  RemoveHeapAt(position);
  key_bytes_ -= it->first.size();
  keys_.erase(it);
  DCHECK_EQ(heap_.size(), keys_.size());
  return true;
}

std::optional<int64_t> ExpiryIndex::Deadline(std::string_view key) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  DCHECK_LT(it->second, heap_.size());
  return heap_[it->second].deadline_ms;
}

std::optional<int64_t> ExpiryIndex::EarliestDeadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline_ms;
}

size_t ExpiryIndex::PopDue(int64_t now_ms, size_t max_keys, const KeyVisitor& visitor) {
  const size_t keys_max = std::min(max_keys, kExpirySweepKeysPerCallMax);
  size_t popped = 0;
  while (popped < keys_max && !heap_.empty() && heap_.front().deadline_ms <= now_ms) {
    auto it = keys_.find(heap_.front().node->first);
    CHECK(it != keys_.end()) << "heap entry without a map node";
    DCHECK_EQ(it->second, 0u);
    RemoveHeapAt(0);
    // Take the node out of the map but keep its key alive for the visitor, so the index is
    // consistent (and re-enterable) while the visitor runs.
    Map::node_type handle = keys_.extract(it);
    key_bytes_ -= handle.key().size();
    ++popped;
    visitor(handle.key());
  }
  DCHECK_LE(popped, kExpirySweepKeysPerCallMax);
  return popped;
}

size_t ExpiryIndex::memory_bytes_estimate() const {
  return sizeof(*this) + key_bytes_ + keys_.size() * kNodeOverheadBytes +
         keys_.bucket_count() * sizeof(void*) + heap_.capacity() * sizeof(HeapEntry);
}

void ExpiryIndex::CheckInvariants() const {
  CHECK_EQ(heap_.size(), keys_.size());
  size_t key_bytes = 0;
  for (const Node& node : keys_) {
    CHECK_LT(node.second, heap_.size());
    CHECK_EQ(heap_[node.second].node, &node) << "map node and heap entry disagree";
    key_bytes += node.first.size();
  }
  CHECK_EQ(key_bytes, key_bytes_);
  for (size_t position = 1; position < heap_.size(); ++position) {
    CHECK_LE(heap_[Parent(position)].deadline_ms, heap_[position].deadline_ms)
        << "heap order broken at " << position;
  }
}

void ExpiryIndex::Place(size_t position, const HeapEntry& entry) {
  heap_[position] = entry;
  entry.node->second = position;
}

// Moves the entry at `position` towards the root while it is earlier than its parent. Uses a
// hole instead of swaps: each step writes one entry and one position.
void ExpiryIndex::SiftUp(size_t position) {
  DCHECK_LT(position, heap_.size());
  const HeapEntry moving = heap_[position];
  while (position > 0 && moving.deadline_ms < heap_[Parent(position)].deadline_ms) {
    Place(position, heap_[Parent(position)]);
    position = Parent(position);
  }
  Place(position, moving);
}

void ExpiryIndex::SiftDown(size_t position) {
  DCHECK_LT(position, heap_.size());
  const HeapEntry moving = heap_[position];
  const size_t count = heap_.size();
  while (FirstChild(position) < count) {
    size_t child = FirstChild(position);
    if (child + 1 < count && heap_[child + 1].deadline_ms < heap_[child].deadline_ms) ++child;
    if (!(heap_[child].deadline_ms < moving.deadline_ms)) break;
    Place(position, heap_[child]);
    position = child;
  }
  Place(position, moving);
}

// Restores heap order after the deadline at `position` changed in either direction.
void ExpiryIndex::Repair(size_t position) {
  if (position > 0 && heap_[position].deadline_ms < heap_[Parent(position)].deadline_ms) {
    SiftUp(position);
  } else {
    SiftDown(position);
  }
}

// Removes the entry at `position` by moving the last entry into its place. The removed entry's
// map node is not touched; the caller erases or extracts it.
void ExpiryIndex::RemoveHeapAt(size_t position) {
  DCHECK_LT(position, heap_.size());
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  if (position < heap_.size()) {
    Place(position, last);
    Repair(position);
  }
  ShrinkHeapIfSparse();
}

void ExpiryIndex::GrowHeapIfFull() {
  if (heap_.size() < heap_.capacity()) return;
  heap_.reserve(std::max(kHeapCapacityMinEntries, 2 * heap_.capacity()));
  DCHECK_LT(heap_.size(), heap_.capacity());
}

void ExpiryIndex::ShrinkHeapIfSparse() {
  if (heap_.capacity() <= kHeapCapacityMinEntries) return;
  if (heap_.size() >= heap_.capacity() / kHeapShrinkRatio) return;
  // shrink_to_fit() would leave no headroom and make the next insert double again; keep twice
  // the size, which a quarter-full array always has room to drop to.
  std::vector<HeapEntry> smaller;
  smaller.reserve(std::max(kHeapCapacityMinEntries, 2 * heap_.size()));
  smaller.assign(heap_.begin(), heap_.end());
  heap_.swap(smaller);
}

}  // namespace podium::storage
