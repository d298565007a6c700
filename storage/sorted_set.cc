#include "storage/sorted_set.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <glog/logging.h>

namespace podium::storage {
namespace {

constexpr int kNodeEntries = static_cast<int>(kSortedSetNodeEntries);
// A node left under this many entries by a remove absorbs the next node when both fit in one.
constexpr int kMergeBelowEntries = kNodeEntries / 4;
static_assert(kMergeBelowEntries >= 1);

// Starts loading every cache line of [begin, begin + bytes) at once (a hint).
void PrefetchLines(const void* begin, size_t bytes) {
  const char* line = static_cast<const char*>(begin);
  for (const char* end = line + bytes; line < end; line += kCacheLineBytes) {
    __builtin_prefetch(line);
  }
}

}  // namespace

// ---- Nodes ----------------------------------------------------------------------------------

SortedSet::SortedSet() {
  const size_t bytes = sizeof(Node) + kSortedSetLevelsMax * sizeof(Link);
  head_ = static_cast<Node*>(std::malloc(bytes));
  CHECK(head_ != nullptr) << "out of memory";
  head_->id = MemberIndex::kNoNode;
  head_->level = kSortedSetLevelsMax;
  head_->count = 0;
  head_->backward = nullptr;
  for (int i = 0; i < kSortedSetLevelsMax; ++i) head_->links()[i] = Link{nullptr, 0, Entry{0, 0}};
  node_bytes_ = bytes;
}

void SortedSet::DropWatches() {
  while (watches_ != nullptr) {
    SortedSetWatch* watch = watches_;
    watches_ = watch->next_;
    watch->OnSetDestroyed();
  }
}

SortedSet::~SortedSet() {
  DropWatches();
  Node* node = head_->links()[0].forward;
  while (node != nullptr) {
    Node* next = node->links()[0].forward;
    for (int i = 0; i < node->count; ++i) FreeMemberWord(node->entries()[i].member);
    std::free(node);
    node = next;
  }
  std::free(head_);
}

SortedSet::Node* SortedSet::NewNode(int level) {
  DCHECK(level >= 1 && level <= kSortedSetLevelsMax);
  const size_t bytes = sizeof(Node) + level * sizeof(Link) + kNodeEntries * sizeof(Entry);
  Node* node = static_cast<Node*>(std::malloc(bytes));
  CHECK(node != nullptr) << "out of memory";
  if (free_ids_.empty()) {
    CHECK_LT(nodes_.size(), size_t{MemberIndex::kNoNode});
    node->id = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(node);
  } else {
    node->id = free_ids_.back();
    free_ids_.pop_back();
    nodes_[node->id] = node;
  }
  node->level = static_cast<uint8_t>(level);
  node->count = 0;
  node->backward = nullptr;
  node_bytes_ += bytes;
  return node;
}

void SortedSet::FreeNode(Node* node) {
  DCHECK_EQ(node->count, 0);
  node_bytes_ -= sizeof(Node) + node->level * sizeof(Link) + kNodeEntries * sizeof(Entry);
  nodes_[node->id] = nullptr;
  free_ids_.push_back(node->id);
  std::free(node);
}

// Levels follow a geometric distribution with p = 1/4, as in Redis: two random bits per level.
int SortedSet::RandomLevel() {
  random_state_ ^= random_state_ >> 12;
  random_state_ ^= random_state_ << 25;
  random_state_ ^= random_state_ >> 27;
  uint64_t bits = random_state_ * 0x2545f4914f6cdd1dull;
  int level = 1;
  while ((bits & 3) == 0 && level < kSortedSetLevelsMax) {
    ++level;
    bits >>= 2;
  }
  return level;
}

int SortedSet::Compare(const Entry& entry, double score, const MemberKey& member) {
  if (entry.score < score) return -1;
  if (entry.score > score) return 1;
  if (member.is_integer() && (entry.member & kMemberStringTag) == 0) {
    return CompareIntegersAsText(entry.member, member.integer());
  }
  return CompareMembers(ViewMember(entry.member), member);
}

int SortedSet::FindInNode(const Node* node, const MemberKey& member, uint64_t hash) {
  const Entry* entries = node->entries();
  if (member.is_integer()) {
    const MemberWord word = member.integer();
    for (int i = 0; i < node->count; ++i) {
      if (entries[i].member == word) return i;
    }
    return -1;
  }
  for (int i = 0; i < node->count; ++i) {
    if (MemberWordEquals(entries[i].member, member, hash)) return i;
  }
  return -1;
}

void SortedSet::PrefetchNode(const MemberKey& member) const {
  // A node's header, its links and its first entries (a scan for the member starts there; the
  // hardware prefetcher follows the scan).
  constexpr int kNodePrefetchLines = 4;
  const uint32_t id = index_.Peek(member.Hash());
  if (id == MemberIndex::kNoNode) return;
  PrefetchLines(NodeById(id), kNodePrefetchLines * kCacheLineBytes);
}

bool SortedSet::Lookup(const MemberKey& member, uint64_t hash, Node** node, int* index) const {
  int found = -1;
  const uint32_t id = index_.Find(hash, [&](uint32_t candidate) {
    found = FindInNode(NodeById(candidate), member, hash);
    return found >= 0;
  });
  if (id == MemberIndex::kNoNode) return false;
  *node = NodeById(id);
  *index = found;
  return true;
}

// ---- Descents -------------------------------------------------------------------------------

SortedSet::Place SortedSet::Descend(double score, const MemberKey& member, Path* path,
                                    int from_level) const {
  DCHECK(from_level >= 0 && from_level <= level_);
  Node* node = from_level == level_ ? head_ : path->node[from_level];
  size_t position = from_level == level_ ? 0 : path->position[from_level];
  for (int i = from_level - 1; i >= 0; --i) {
    for (;;) {
      const Link& link = node->links()[i];
      if (link.forward == nullptr || Compare(link.first, score, member) >= 0) break;
      position += link.span;
      node = link.forward;
    }
    path->node[i] = node;
    path->position[i] = position;
  }
  Node* next = node->links()[0].forward;
  if (node == head_) return Place{next, 0, 0};
  if (next != nullptr && Compare(node->links()[0].first, score, member) == 0) {
    return Place{next, position + node->count, 0};
  }
  // The first entry at or after the key; the first entry itself is before it. The search's
  // probes would miss one after another (a node's entries span some 30 lines, a probe each
  // halving the distance), so every line is asked for at once first: the probes then wait for
  // about one miss, and an insert's shift finds the lines after the key loaded too.
  // (docs/benchmarks.md, "Prefetching a node before its search".)
  PrefetchLines(node->entries(), node->count * sizeof(Entry));
  int low = 1;
  int high = node->count;
  while (low < high) {
    const int middle = (low + high) / 2;
    if (Compare(node->entries()[middle], score, member) < 0) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return Place{node, position, low};
}

SortedSet::Place SortedSet::DescendTo(Node* node, int index, const MemberKey& member,
                                      Path* path) const {
  const double score = node->entries()[index].score;
  Node* at = head_;
  size_t position = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    for (;;) {
      const Link& link = at->links()[i];
      if (link.forward == nullptr) break;
      if (link.forward == node) {
        if (index == 0) break;  // the node itself is before the key unless it is its first
      } else if (Compare(link.first, score, member) >= 0) {
        break;
      }
      position += link.span;
      at = link.forward;
    }
    path->node[i] = at;
    path->position[i] = position;
  }
  DCHECK(at == node || at->links()[0].forward == node);
  return Place{node, at == node ? position : position + at->count, index};
}

// A path level stays valid for the new key when its node is still before the key and its link
// still ends at or after it. Both halves are monotone in the level (upper path nodes come
// earlier, their links reach further), so the first valid level from the bottom is the answer.
int SortedSet::ReusableLevels(const Path& path, double score, const MemberKey& member) const {
  for (int i = 0; i < level_; ++i) {
    const Node* node = path.node[i];
    if (node != head_ && Compare(node->entries()[0], score, member) >= 0) continue;
    const Link& link = node->links()[i];
    if (link.forward == nullptr || Compare(link.first, score, member) >= 0) return i;
  }
  return level_;
}

const SortedSet::Node* SortedSet::NodeAtRank(size_t rank, size_t* node_position) const {
  DCHECK_LT(rank, size_);
  const Node* node = head_;
  size_t position = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    for (;;) {
      const Link& link = node->links()[i];
      if (link.forward == nullptr || position + link.span > rank) break;
      position += link.span;
      node = link.forward;
    }
  }
  DCHECK(node != head_);
  DCHECK_LT(rank - position, size_t{node->count});
  *node_position = position;
  return node;
}

size_t SortedSet::CountBelow(ScoreBound min) const {
  const auto before = [&min](double score) {
    return min.exclusive ? score <= min.value : score < min.value;
  };
  const Node* node = head_;
  size_t position = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    for (;;) {
      const Link& link = node->links()[i];
      if (link.forward == nullptr || !before(link.first.score)) break;
      position += link.span;
      node = link.forward;
    }
  }
  if (node == head_) return 0;
  int low = 1;
  int high = node->count;
  while (low < high) {
    const int middle = (low + high) / 2;
    if (before(node->entries()[middle].score)) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return position + low;
}

// ---- Structure changes ----------------------------------------------------------------------

void SortedSet::AdjustSpans(const Path& path, const Node* node, int delta) {
  for (int i = 0; i < level_; ++i) {
    Link& link = Covering(path, node, i)->links()[i];
    link.span = static_cast<uint32_t>(static_cast<int64_t>(link.span) + delta);
  }
}

void SortedSet::RefreshFirsts(const Path& path, const Node* from, const Node* node) {
  DCHECK_GT(int{node->count}, 0);
  const Entry first = node->entries()[0];
  for (int i = 0; i < node->level; ++i) {
    Link& link = Covering(path, from, i)->links()[i];
    DCHECK(link.forward == node);
    link.first = first;
  }
}

void SortedSet::MoveEntries(Node* from, int from_index, Node* to, int to_index, int count) {
  DCHECK(from != to);
  DCHECK_LE(from_index + count, int{from->count});
  DCHECK_LE(to->count + count, kNodeEntries);
  Entry* source = from->entries() + from_index;
  Entry* target = to->entries() + to_index;
  std::memmove(target + count, target, (to->count - to_index) * sizeof(Entry));
  std::memcpy(target, source, count * sizeof(Entry));
  std::memmove(source, source + count, (from->count - from_index - count) * sizeof(Entry));
  from->count = static_cast<uint8_t>(from->count - count);
  to->count = static_cast<uint8_t>(to->count + count);
  for (int i = 0; i < count; ++i) {
    index_.Relocate(ViewMember(target[i].member).Hash(), from->id, to->id);
  }
}

void SortedSet::InsertIntoNode(Node* node, int index, double score, MemberWord word, uint64_t hash,
                               uint32_t indexed_at) {
  DCHECK_LT(int{node->count}, kNodeEntries);
  DCHECK(index >= 0 && index <= node->count);
  Entry* entries = node->entries();
  std::memmove(entries + index + 1, entries + index, (node->count - index) * sizeof(Entry));
  entries[index] = Entry{score, word};
  ++node->count;
  if (indexed_at == kNoIndexSlot) {
    index_.Insert(hash, node->id);
  } else if (indexed_at != node->id) {
    index_.Relocate(hash, indexed_at, node->id);
  }
}

// Links a new node after `node` (at `position`) and moves node's entries from `keep` on into it.
// `node` may be the head, for the first node of an empty set. Entry positions do not change, so
// only the links the new node cuts in two get new spans. Levels it opens go into `path`.
SortedSet::Node* SortedSet::SplitNode(Path* path, Node* node, size_t position, int keep) {
  const int level = RandomLevel();
  for (int i = level_; i < level; ++i) {
    head_->links()[i] = Link{nullptr, static_cast<uint32_t>(size_), Entry{0, 0}};
    path->node[i] = head_;
    path->position[i] = 0;
  }
  level_ = std::max(level_, level);
  Node* fresh = NewNode(level);
  const size_t fresh_position = position + keep;
  for (int i = 0; i < level; ++i) {
    Node* before = Covering(*path, node, i);
    const size_t before_position = i < node->level ? position : path->position[i];
    Link& link = before->links()[i];
    const size_t span = before_position + link.span - fresh_position;
    fresh->links()[i] = Link{link.forward, static_cast<uint32_t>(span), link.first};
    link = Link{fresh, static_cast<uint32_t>(fresh_position - before_position), Entry{0, 0}};
  }
  fresh->backward = node == head_ ? nullptr : node;
  Node* after = fresh->links()[0].forward;
  (after != nullptr ? after->backward : tail_) = fresh;
  if (node != head_) MoveEntries(node, keep, fresh, 0, node->count - keep);
  if (fresh->count > 0) RefreshFirsts(*path, node, fresh);
  return fresh;
}

// Hands node's last entry to the next node, which has room. Only the next node's position
// moves (down by one), so only the links that end or start at it change.
void SortedSet::ShiftLastToNext(const Path& path, Node* node) {
  Node* next = node->links()[0].forward;
  DCHECK(next != nullptr && next->count < kNodeEntries);
  MoveEntries(node, node->count - 1, next, 0, 1);
  for (int i = 0; i < next->level; ++i) {
    Covering(path, node, i)->links()[i].span -= 1;
    next->links()[i].span += 1;
  }
  RefreshFirsts(path, node, next);
}

void SortedSet::Insert(double score, MemberWord word, uint64_t hash, Path* path_in, int from_level,
                       uint32_t indexed_at) {
  const MemberKey member = ViewMember(word);
  Path& path = *path_in;
  Place place = Descend(score, member, &path, from_level);
  Node* node = place.node;
  // The node whose Covering() links are the target's predecessors, for their copies of the
  // first entry when the key becomes a node's first: the head if the key sorts before everything.
  Node* before = path.node[0] == head_ ? head_ : nullptr;
  if (node == nullptr) {  // empty set
    place = Place{SplitNode(&path, head_, 0, 0), 0, 0};
  } else if (node->count == kNodeEntries) {
    Node* next = node->links()[0].forward;
    const bool next_has_room = next != nullptr && next->count < kNodeEntries;
    const bool append = place.index == node->count;
    if (append && next_has_room) {
      place = Place{next, place.position + node->count, 0};
      before = node;
    } else if (next_has_room) {
      ShiftLastToNext(path, node);
    } else {
      // Appending after the last entry starts a new node (ascending loads fill nodes);
      // anything else splits the node in halves.
      const int keep = append ? node->count : kNodeEntries / 2;
      Node* fresh = SplitNode(&path, node, place.position, keep);
      if (append || place.index > keep) {
        place = Place{fresh, place.position + keep, place.index - keep};
        before = node;
      }
    }
  }
  InsertIntoNode(place.node, place.index, score, word, hash, indexed_at);
  AdjustSpans(path, place.node, +1);
  if (place.index == 0) {
    DCHECK(before != nullptr);
    RefreshFirsts(path, before, place.node);
  }
  ++size_;
}

void SortedSet::RemoveAt(const Path& path, const Place& place, bool keep_indexed) {
  Node* node = place.node;
  Entry* entries = node->entries();
  if (!keep_indexed) index_.Erase(ViewMember(entries[place.index].member).Hash(), node->id);
  std::memmove(entries + place.index, entries + place.index + 1,
               (node->count - place.index - 1) * sizeof(Entry));
  --node->count;
  AdjustSpans(path, node, -1);
  --size_;
  if (node->count == 0) {
    UnlinkNode(path, node);
    return;
  }
  // Removing a first entry means the key was the node's first, so the descent stopped at the
  // node's strict predecessors, which Covering(path, path.node[0], i) yields level by level.
  if (place.index == 0) RefreshFirsts(path, path.node[0], node);
  Node* next = node->links()[0].forward;
  if (node->count < kMergeBelowEntries && next != nullptr &&
      node->count + next->count <= kNodeEntries) {
    MergeNextInto(path, node);
  }
}

// Unlinks an empty node. The path must hold the node's strict predecessors, which a descent
// for the node's only (just removed) entry does: that entry was the node's first.
void SortedSet::UnlinkNode(const Path& path, Node* node) {
  DCHECK_EQ(node->count, 0);
  for (int i = 0; i < node->level; ++i) {
    Link& link = path.node[i]->links()[i];
    DCHECK(link.forward == node);
    link = Link{node->links()[i].forward, link.span + node->links()[i].span,
                node->links()[i].first};
  }
  Node* after = node->links()[0].forward;
  (after != nullptr ? after->backward : tail_) = node->backward;
  while (level_ > 1 && head_->links()[level_ - 1].forward == nullptr) --level_;
  FreeNode(node);
}

// Moves every entry of the next node to the end of `node` and unlinks the emptied next node.
// Entry positions do not change; the links that ended at the next node now end where its own
// links did, so their spans add up.
void SortedSet::MergeNextInto(const Path& path, Node* node) {
  Node* next = node->links()[0].forward;
  MoveEntries(next, 0, node, node->count, next->count);
  for (int i = 0; i < next->level; ++i) {
    Link& link = Covering(path, node, i)->links()[i];
    DCHECK(link.forward == next);
    link = Link{next->links()[i].forward, link.span + next->links()[i].span,
                next->links()[i].first};
  }
  Node* after = next->links()[0].forward;
  (after != nullptr ? after->backward : tail_) = node;
  while (level_ > 1 && head_->links()[level_ - 1].forward == nullptr) --level_;
  FreeNode(next);
}

// A new score that keeps the entry between its node's neighbours moves it within the node: no
// descent, no span or index change. Decided without touching other nodes (the link holds the
// next node's first entry), and never for the node's first entry, which the links that end at
// the node copy (changing it needs their path).
bool SortedSet::MoveWithinNode(Node* node, int index, double score) {
  Entry* entries = node->entries();
  const int last = node->count - 1;
  const MemberWord word = entries[index].member;
  const MemberKey member = ViewMember(word);
  if (index == 0 || Compare(entries[0], score, member) >= 0) return false;
  const Link& next = node->links()[0];
  const bool below_last = index != last && Compare(entries[last], score, member) > 0;
  if (!below_last && next.forward != nullptr && Compare(next.first, score, member) < 0) {
    return false;
  }
  int target = index;
  while (target > 0 && Compare(entries[target - 1], score, member) > 0) {
    entries[target] = entries[target - 1];
    --target;
  }
  while (target < last && Compare(entries[target + 1], score, member) < 0) {
    entries[target] = entries[target + 1];
    ++target;
  }
  entries[target] = Entry{score, word};
  return true;
}

void SortedSet::ChangeScore(Node* node, int index, const MemberKey& member, uint64_t hash,
                            double score) {
  if (MoveWithinNode(node, index, score)) return;
  const Entry entry = node->entries()[index];
  const uint32_t indexed_at = node->id;
  Path path;
  // The member's index slot stays, naming its old node, until the insert moves it (one probe
  // instead of an erase and an insert). Meanwhile that node may be merged, freed, even reused
  // by a split: harmless, since the index is only a multiset of (fingerprint, node) pairs that
  // lookups verify against the node, and the pair is exactly right again after the insert.
  RemoveAt(path, DescendTo(node, index, member, &path), /*keep_indexed=*/true);
  Insert(score, entry.member, hash, &path, ReusableLevels(path, score, member), indexed_at);
}

// ---- Public operations ----------------------------------------------------------------------

Result<bool> SortedSet::Set(const MemberKey& member, double score) {
  if (std::isnan(score)) return Status::InvalidArgument("score is not a number");
  if (member.size_bytes() > kMemberSizeBytesMax) {
    return Status::LimitExceeded("member is longer than " + std::to_string(kMemberSizeBytesMax) +
                                 " bytes");
  }
  if (watches_ != nullptr) NoteChange(member);
  const uint64_t hash = member.Hash();
  Node* node;
  int index;
  if (Lookup(member, hash, &node, &index)) {
    if (node->entries()[index].score != score) ChangeScore(node, index, member, hash, score);
    return false;
  }
  if (size_ >= kSortedSetMembersMax) {
    return Status::LimitExceeded("sorted set is full (" + std::to_string(kSortedSetMembersMax) +
                                 " members)");
  }
  const MemberWord word = StoreMember(member, hash);
  string_bytes_ += MemberHeapBytes(word);
  Path path;
  if (tail_ != nullptr && Compare(tail_->entries()[tail_->count - 1], score, member) < 0) {
    // After the last entry (an ascending load, a new best score): the right spine is the
    // path, found without comparing keys on the way down.
    RightmostPath(&path);
    Insert(score, word, hash, &path, 0);
  } else {
    Insert(score, word, hash, &path, level_);
  }
  return true;
}

void SortedSet::RightmostPath(Path* path) const {
  Node* node = head_;
  size_t position = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    for (const Link* link = &node->links()[i]; link->forward != nullptr;
         link = &node->links()[i]) {
      position += link->span;
      node = link->forward;
    }
    path->node[i] = node;
    path->position[i] = position;
  }
}

Result<double> SortedSet::IncrementBy(const MemberKey& member, double delta) {
  if (std::isnan(delta)) return Status::InvalidArgument("increment is not a number");
  if (watches_ != nullptr) NoteChange(member);
  const uint64_t hash = member.Hash();
  Node* node;
  int index;
  if (!Lookup(member, hash, &node, &index)) {
    Result<bool> added = Set(member, delta);
    if (!added.ok()) return added.status();
    return delta;
  }
  const double score = node->entries()[index].score + delta;
  if (std::isnan(score)) return Status::InvalidArgument("resulting score is not a number (NaN)");
  if (score != node->entries()[index].score) ChangeScore(node, index, member, hash, score);
  return score;
}

bool SortedSet::Remove(const MemberKey& member) {
  if (watches_ != nullptr) NoteChange(member);
  Node* node;
  int index;
  if (!Lookup(member, member.Hash(), &node, &index)) return false;
  const Entry entry = node->entries()[index];
  Path path;
  RemoveAt(path, DescendTo(node, index, member, &path));
  string_bytes_ -= MemberHeapBytes(entry.member);
  FreeMemberWord(entry.member);
  return true;
}

std::optional<double> SortedSet::Score(const MemberKey& member) const {
  Node* node;
  int index;
  if (!Lookup(member, member.Hash(), &node, &index)) return std::nullopt;
  return node->entries()[index].score;
}

std::optional<size_t> SortedSet::Rank(const MemberKey& member, Order order) const {
  Node* node;
  int index;
  if (!Lookup(member, member.Hash(), &node, &index)) return std::nullopt;
  Path path;
  const Place place = DescendTo(node, index, member, &path);
  const size_t rank = place.position + static_cast<size_t>(index);
  return order == Order::kAscending ? rank : size_ - 1 - rank;
}

SortedSet::Cursor SortedSet::SeekRank(size_t rank, Order order) const {
  if (rank >= size_) return Cursor(nullptr, 0, order);
  const size_t ascending = order == Order::kAscending ? rank : size_ - 1 - rank;
  size_t position;
  const Node* node = NodeAtRank(ascending, &position);
  return Cursor(node, static_cast<int>(ascending - position), order);
}

SortedSet::Cursor SortedSet::SeekAfter(double score, const MemberKey& member) const {
  Path path;
  const Place place = Descend(score, member, &path);
  const Node* node = place.node;
  int index = place.index;
  if (node != nullptr && index < node->count &&
      Compare(node->entries()[index], score, member) == 0) {
    ++index;
  }
  if (node != nullptr && index >= node->count) {
    node = node->links()[0].forward;
    index = 0;
  }
  return Cursor(node, index, Order::kAscending);
}

MemberKey SortedSet::Cursor::member() const {
  DCHECK(valid());
  return ViewMember(node_->entries()[index_].member);
}

double SortedSet::Cursor::score() const {
  DCHECK(valid());
  return node_->entries()[index_].score;
}

void SortedSet::Cursor::Next() {
  DCHECK(valid());
  if (order_ == Order::kAscending) {
    if (++index_ == node_->count) {
      node_ = node_->links()[0].forward;
      index_ = 0;
    }
  } else if (--index_ < 0) {
    node_ = node_->backward;
    index_ = node_ != nullptr ? node_->count - 1 : 0;
  }
}

double WeightedScore(double weight, double score) {
  const double value = weight * score;
  return std::isnan(value) ? 0 : value;
}

double AggregateScores(Aggregate aggregate, double existing, double value) {
  switch (aggregate) {
    case Aggregate::kSum: {
      const double sum = existing + value;
      return std::isnan(sum) ? 0 : sum;
    }
    case Aggregate::kMin:
      return std::min(value, existing);
    case Aggregate::kMax:
      return std::max(value, existing);
  }
  return value;
}

Status SortedSet::MergeInto(SortedSet* dst, double weight, Aggregate aggregate) const {
  if (dst == this) return Status::InvalidArgument("cannot merge a sorted set into itself");
  if (std::isnan(weight)) return Status::InvalidArgument("weight is not a number");
  for (Cursor cursor = SeekRank(0, Order::kAscending); cursor.valid(); cursor.Next()) {
    double value = WeightedScore(weight, cursor.score());
    if (const std::optional<double> existing = dst->Score(cursor.member())) {
      value = AggregateScores(aggregate, *existing, value);
    }
    Result<bool> set = dst->Set(cursor.member(), value);
    if (!set.ok()) return set.status();
  }
  return Status::Ok();
}

size_t SortedSet::memory_bytes() const {
  return sizeof(*this) + node_bytes_ + index_.memory_bytes() + string_bytes_ +
         nodes_.capacity() * sizeof(Node*) + free_ids_.capacity() * sizeof(uint32_t);
}


}  // namespace podium::storage
