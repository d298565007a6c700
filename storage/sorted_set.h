// SortedSet: members ordered by (score, member), with ranks, ranges and a hash index.
//
// Why this shape. A ranking board needs three things fast: bump one member's score, find one
// member's rank, and read the top of the board. Redis answers them with a skip list (one node
// per member, each carrying rank spans) plus a dict from member to score; that costs about 115
// bytes per member. Podium keeps the skip list and its spans but unrolls it: each node holds up
// to kSortedSetNodeEntries (score, member) entries in order, so the per-member cost is the entry
// (16 bytes: a double and a MemberWord, see member.h) plus a share of the node header, and the
// skip list has ~100x fewer nodes to walk. Spans count entries, not nodes, so ranks stay
// O(log n). The hash index (member_index.h) maps a member to its node in eight bytes.
//
// Node policy. An insert into a full node first tries to hand an entry to the next node; only
// when that is full too does the node split in halves (or, when appending past a node's last
// entry, start a new node, so ascending loads fill nodes completely). A remove that leaves a
// node under a quarter full merges the next node into it when both fit in one. A score change
// that keeps the entry inside its node's key range just moves it within the node: no descent.
//
// Contract. Not thread-safe: a set is owned by one thread (or guarded by its caller). Scores are
// never NaN. Members are at most kMemberSizeBytesMax bytes; a set holds at most
// kSortedSetMembersMax members. Costs: Score O(1); Set, IncrementBy, Remove, Rank O(log n);
// range of k entries O(log n + k). A Cursor is invalidated by any change to the set. Every
// change of a member (Set, IncrementBy, Remove) is noted in the set's watches, if any
// (sorted_set_watch.h: a reader copying the set in slices).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "storage/member.h"
#include "storage/member_index.h"
#include "storage/sorted_set_watch.h"
#include "storage/status.h"

namespace podium::storage {

enum class Order : uint8_t { kAscending, kDescending };
enum class Aggregate : uint8_t { kSum, kMin, kMax };

// Redis's union arithmetic (zunionInterAggregate), for every union in Podium: a source score
// times its weight, inf * 0 counting as 0; and the way a member's scores from several sources
// combine, inf + -inf counting as 0.
double WeightedScore(double weight, double score);
double AggregateScores(Aggregate aggregate, double existing, double value);
// -0 is stored as 0: Redis keeps small sets' scores as integers where it can, so "ZADD z -0 m"
// reads back "0" there, and a board showing "-0" helps nobody. With every stored score
// non-negative-zero, sums of stored scores and normalized inputs cannot make -0 either.
inline double WithoutNegativeZero(double score) { return score == 0 ? 0.0 : score; }

// One end of a score range; exclusive like Redis's "(1.5".
struct ScoreBound {
  double value;
  bool exclusive = false;
};

class SortedSet {
 private:
  struct Node;

 public:
  SortedSet();
  ~SortedSet();
  SortedSet(const SortedSet&) = delete;
  SortedSet& operator=(const SortedSet&) = delete;

  size_t size() const { return size_; }
  // Sizes the member index for `members` members (see MemberIndex::Reserve).
  void Reserve(size_t members) { index_.Reserve(members); }

  // Adds the member or moves it to `score`. Returns true if the member is new.
  Result<bool> Set(const MemberKey& member, double score);
  // A hint before Set(member, ...) a few calls later: loads the index slot it will probe.
  void Prefetch(const MemberKey& member) const { index_.Prefetch(member.Hash()); }
  // The second hint, a call or so after Prefetch(member), once its slot is in cache: loads the
  // start of the node the slot names (header, links, first entries), where a change to the
  // member begins. It reads the slot (a real load: a full miss unless Prefetch came first).
  // Both are hints: they change nothing and may name the wrong node.
  void PrefetchNode(const MemberKey& member) const;
  // Adds delta to the member's score (a missing member starts at 0). Returns the new score;
  // a NaN result (inf + -inf) is an error that changes nothing.
  Result<double> IncrementBy(const MemberKey& member, double delta);
  // Returns true if the member was there.
  bool Remove(const MemberKey& member);

  std::optional<double> Score(const MemberKey& member) const;
  // 0-based rank in the given order.
  std::optional<size_t> Rank(const MemberKey& member, Order order) const;
  // How many members have a score below the bound (below or equal, when it is exclusive):
  // the ascending rank where a range starting at `min` begins.
  size_t CountBelow(ScoreBound min) const;

  // A position in the set, walking in one order. Invalidated by any change to the set.
  class Cursor {
   public:
    bool valid() const { return node_ != nullptr; }
    MemberKey member() const;
    double score() const;
    void Next();

   private:
    friend class SortedSet;
    Cursor(const Node* node, int index, Order order) : node_(node), index_(index), order_(order) {}
    const Node* node_;
    int index_;
    Order order_;
  };
  // The entry at 0-based `rank` in `order`; invalid if rank >= size().
  Cursor SeekRank(size_t rank, Order order) const;
  // The first entry after (score, member) in ascending order, whether or not that member is in
  // the set: a scan resumes here after a change, and an entry that did not move since is
  // neither skipped nor repeated. O(log n).
  Cursor SeekAfter(double score, const MemberKey& member) const;

  // Calls visit(member, score) for ranks [start, stop] (inclusive, in `order`, clamped to the
  // set). O(log n + k).
  template <typename Visit>
  void RangeByRank(size_t start, size_t stop, Order order, Visit&& visit) const {
    if (start >= size_ || start > stop) return;
    size_t remaining = std::min(stop, size_ - 1) - start + 1;
    for (Cursor cursor = SeekRank(start, order); remaining > 0; --remaining, cursor.Next()) {
      visit(cursor.member(), cursor.score());
    }
  }

  // Calls visit(member, score) for members with min <= score <= max (bounds may be exclusive),
  // in `order`, skipping `offset` of them and visiting at most `count`. O(log n + k).
  template <typename Visit>
  void RangeByScore(ScoreBound min, ScoreBound max, Order order, size_t offset, size_t count,
                    Visit&& visit) const {
    const size_t first = CountBelow(min);
    const size_t end = CountBelow(ScoreBound{max.value, !max.exclusive});
    if (end <= first || offset >= end - first || count == 0) return;
    const size_t available = end - first - offset;
    const size_t start = order == Order::kAscending ? first + offset : size_ - end + offset;
    RangeByRank(start, start + std::min(count, available) - 1, order, visit);
  }

  // dst[m] = aggregate(dst[m], weight * this[m]) for every member m of this set; a member new to
  // dst takes weight * this[m]. inf * 0 counts as 0, as in Redis. dst must not be this set.
  // O(size() * log(dst size)); callers that must not stall run it on a copy or in slices.
  Status MergeInto(SortedSet* dst, double weight, Aggregate aggregate) const;

  // Tells every watch the set is gone (as its destructor does), for a set about to be freed
  // away from the lock its watches are read under.
  void DropWatches();

  // Bytes the set holds on the heap (nodes, index, string members), for INFO and benchmarks.
  size_t memory_bytes() const;
  // CHECK-fails unless every structural invariant holds. O(n); for tests.
  void CheckInvariants() const;

 private:
  friend class SortedSetWatch;

  struct Entry {
    double score;
    MemberWord member;
  };
  struct Link {
    Node* forward;
    uint32_t span;  // entries from this node's first to forward's first (to the end if null)
    // A copy of forward's first entry, always exact (garbage only while forward is empty), so
    // a descent decides whether the key is before forward without touching forward's cache
    // lines: only the nodes it steps onto are read. Integer members compare in the link alone.
    Entry first;
  };
  struct Node {
    uint32_t id;
    uint8_t level;
    uint8_t count;
    Node* backward;  // previous node at level 0; null for the first node
    Link* links() { return reinterpret_cast<Link*>(this + 1); }
    const Link* links() const { return reinterpret_cast<const Link*>(this + 1); }
    Entry* entries() { return reinterpret_cast<Entry*>(links() + level); }
    const Entry* entries() const { return reinterpret_cast<const Entry*>(links() + level); }
  };
  // The nodes a descent stopped at, per level, and their positions (entries before them).
  struct Path {
    Node* node[kSortedSetLevelsMax];
    size_t position[kSortedSetLevelsMax];
  };
  // Where a key is, or would go: its node, that node's position, the index within it.
  struct Place {
    Node* node;
    size_t position;
    int index;
  };

  static int Compare(const Entry& entry, double score, const MemberKey& member);
  Node* NewNode(int level);
  void FreeNode(Node* node);
  int RandomLevel();
  // The index of member (whose Hash() is hash) in node, or -1.
  static int FindInNode(const Node* node, const MemberKey& member, uint64_t hash);
  Node* NodeById(uint32_t id) const { return nodes_[id]; }

  // Finds the member's node and index through the hash index.
  bool Lookup(const MemberKey& member, uint64_t hash, Node** node, int* index) const;
  // Strict descent: path->node[i] is the last node at level i whose first entry is before
  // (score, member). Returns the node that holds the key, or where it would be inserted.
  // Levels from `from_level` up are taken from `path` as they are (see ReusableLevels);
  // from_level == level_ is a full descent from the head.
  Place Descend(double score, const MemberKey& member, Path* path, int from_level) const;
  // The same descent for an entry already found (through the index) at node's `index`: the
  // path, and the entry's place without searching the node. `member` is the entry's member.
  Place DescendTo(Node* node, int index, const MemberKey& member, Path* path) const;
  // The path to the end of the set (the last node of each level): where an append goes.
  void RightmostPath(Path* path) const;
  Place Descend(double score, const MemberKey& member, Path* path) const {
    return Descend(score, member, path, level_);
  }
  // Finger search: given a path for some other key, the lowest level from which that path is
  // also a path for (score, member). A score change then re-descends only the levels below,
  // O(log distance) instead of O(log n).
  int ReusableLevels(const Path& path, double score, const MemberKey& member) const;
  // The link at level i whose span covers entries of `node`, given a path to it.
  Node* Covering(const Path& path, const Node* node, int level) const {
    return level < node->level ? const_cast<Node*>(node) : path.node[level];
  }
  void AdjustSpans(const Path& path, const Node* node, int delta);
  // Copies node's first entry into the links that end at it, whose nodes at each of its levels
  // are Covering(path, from, i). Called after every change of a node's first entry.
  void RefreshFirsts(const Path& path, const Node* from, const Node* node);

  // No index slot yet: an insert adds one.
  static constexpr uint32_t kNoIndexSlot = UINT32_MAX;
  // Inserts an entry; `path` holds a valid path from `from_level` up (level_: none). A member
  // still indexed at node `indexed_at` (a score change) has its slot moved, not added.
  void Insert(double score, MemberWord word, uint64_t hash, Path* path, int from_level,
              uint32_t indexed_at = kNoIndexSlot);
  void InsertIntoNode(Node* node, int index, double score, MemberWord word, uint64_t hash,
                      uint32_t indexed_at);
  Node* SplitNode(Path* path, Node* node, size_t position, int keep);
  void ShiftLastToNext(const Path& path, Node* node);
  // keep_indexed: the member's index slot stays (a score change re-inserts it at once).
  void RemoveAt(const Path& path, const Place& place, bool keep_indexed = false);
  void UnlinkNode(const Path& path, Node* node);
  void MergeNextInto(const Path& path, Node* node);
  void MoveEntries(Node* from, int from_index, Node* to, int to_index, int count);
  bool MoveWithinNode(Node* node, int index, double score);
  void ChangeScore(Node* node, int index, const MemberKey& member, uint64_t hash, double score);
  const Node* NodeAtRank(size_t rank, size_t* node_position) const;
  void NoteChange(const MemberKey& member) {
    for (SortedSetWatch* watch = watches_; watch != nullptr; watch = watch->next_) {
      watch->Note(member);
    }
  }

  Node* head_;
  Node* tail_ = nullptr;  // last node at level 0
  int level_ = 1;         // levels in use
  size_t size_ = 0;
  MemberIndex index_;
  std::vector<Node*> nodes_;        // by node id; null for free ids
  std::vector<uint32_t> free_ids_;  // ids of freed nodes, reused first
  size_t string_bytes_ = 0;         // heap bytes of string members
  size_t node_bytes_ = 0;           // heap bytes of nodes, head included
  uint64_t random_state_ = 0x9e3779b97f4a7c15ull;  // xorshift64* state for node levels
  mutable SortedSetWatch* watches_ = nullptr;      // a list through SortedSetWatch::next_
};

}  // namespace podium::storage
