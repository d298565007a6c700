// SortedSetWatch: what changed in one sorted set while a reader copied it in slices.
//
// A big set cannot be copied in one lock hold without stalling its other users (ZUNIONSTORE of
// a million-member board). A reader copies it a slice per lock hold instead, each slice
// resuming after the last entry copied (SortedSet::SeekAfter). Between two slices a member may
// move from the part not yet copied to the part already copied (never seen), or the other way
// (seen twice), or be added or removed. So before its first slice the reader attaches a watch:
// from then on the set notes in it every member it adds, rescores or removes, and its own
// destruction. After the last slice, under that slice's lock, the reader drops what it copied
// of the noted members and reads them again: its copy is then exactly the set at that moment.
//
// Thread-safety: none of its own. Attach, Detach and every read happen under the lock that
// guards the set, which its writers (who note) hold too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "storage/member.h"

namespace podium::storage {

class SortedSet;

class SortedSetWatch {
 public:
  SortedSetWatch() = default;
  // Must be detached (or its set destroyed) first: detaching needs the set's lock.
  ~SortedSetWatch();
  SortedSetWatch(const SortedSetWatch&) = delete;
  SortedSetWatch& operator=(const SortedSetWatch&) = delete;

  // Starts noting the changes of `set` (not null; this watch must not be attached). Watching
  // changes nothing a reader of the set sees, hence const.
  void Attach(const SortedSet* set);
  // Stops; what was noted stays readable. Nothing if not attached.
  void Detach();
  // Forgets the notes and that a set was destroyed; detaches first.
  void Reset();

  // The set watched; null when detached or when it was destroyed.
  const SortedSet* set() const { return set_; }
  // The set was destroyed while this watched it.
  bool set_destroyed() const { return set_destroyed_; }
  bool Noted(const MemberKey& member) const;
  size_t noted_count() const { return integers_.size() + strings_.size(); }
  // fn(const MemberKey&) for every noted member, in no particular order.
  template <typename Fn>
  void ForEachNoted(Fn&& fn) const {
    for (uint64_t integer : integers_) fn(MemberKey::FromInteger(integer));
    for (const std::string& bytes : strings_) fn(MemberKey::FromNonIntegerBytes(bytes));
  }

 private:
  friend class SortedSet;

  // Hash and equality over std::string and std::string_view alike (no copy per lookup).
  struct BytesHash {
    using is_transparent = void;
    size_t operator()(std::string_view bytes) const noexcept;
  };

  void Note(const MemberKey& member);  // by the set, on every change
  void OnSetDestroyed();               // by the set's destructor

  const SortedSet* set_ = nullptr;
  SortedSetWatch* next_ = nullptr;  // the set's next watch
  bool set_destroyed_ = false;
  std::unordered_set<uint64_t> integers_;
  std::unordered_set<std::string, BytesHash, std::equal_to<>> strings_;
};

}  // namespace podium::storage
