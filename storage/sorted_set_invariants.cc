// SortedSet::CheckInvariants: the whole-structure check the tests run after batches of
// operations. Kept apart from sorted_set.cc because nothing on a serving path calls it.
#include <cmath>
#include <unordered_map>

#include <glog/logging.h>

#include "storage/sorted_set.h"

namespace podium::storage {

void SortedSet::CheckInvariants() const {
  // Level 0: order, counts, back links, tail, node positions.
  std::unordered_map<const Node*, size_t> positions;
  size_t position = 0;
  const Node* previous = nullptr;
  for (const Node* node = head_->links()[0].forward; node != nullptr;
       node = node->links()[0].forward) {
    CHECK(node->count >= 1 && node->count <= kSortedSetNodeEntries);
    CHECK(node->backward == previous);
    CHECK(node->level >= 1 && node->level <= level_);
    CHECK(nodes_[node->id] == node);
    for (int i = 0; i < node->count; ++i) {
      const Entry& entry = node->entries()[i];
      CHECK(!std::isnan(entry.score));
      const Entry* before = i > 0 ? &node->entries()[i - 1]
                                  : (previous ? &previous->entries()[previous->count - 1]
                                              : nullptr);
      if (before != nullptr) CHECK_LT(Compare(*before, entry.score, ViewMember(entry.member)), 0);
      Node* found;
      int index;
      CHECK(Lookup(ViewMember(entry.member), ViewMember(entry.member).Hash(), &found, &index));
      CHECK(found == node && index == i);
    }
    positions.emplace(node, position);
    position += node->count;
    previous = node;
  }
  CHECK(tail_ == previous);
  CHECK_EQ(position, size_);
  CHECK_EQ(index_.size(), size_);
  // Every level: spans equal the position differences; unused levels are empty.
  const auto position_of = [&](const Node* node) {
    if (node == nullptr) return size_;
    if (node == head_) return size_t{0};
    const auto it = positions.find(node);
    CHECK(it != positions.end());
    return it->second;
  };
  for (int i = 0; i < kSortedSetLevelsMax; ++i) {
    if (i >= level_) {
      CHECK(head_->links()[i].forward == nullptr);
      continue;
    }
    for (const Node* node = head_; node != nullptr; node = node->links()[i].forward) {
      const Link& link = node->links()[i];
      CHECK_EQ(size_t{link.span}, position_of(link.forward) - position_of(node))
          << "level " << i;
      if (link.forward != nullptr) {
        CHECK_GT(int{link.forward->level}, i);
        CHECK_EQ(link.first.score, link.forward->entries()[0].score) << "level " << i;
        CHECK_EQ(link.first.member, link.forward->entries()[0].member) << "level " << i;
      }
    }
  }
  CHECK(level_ == 1 || head_->links()[level_ - 1].forward != nullptr);
}

}  // namespace podium::storage
