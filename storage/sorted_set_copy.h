// SortedSetCopy: a copy of one sorted set's members and scores, taken a slice per lock hold, that
// is exact as of the last slice.
//
// A big set cannot be copied in one hold of its lock without stalling its other users (a
// ZUNIONSTORE of a million-member board). This copies it a slice at a time, each slice resuming
// after the last entry copied, with a SortedSetWatch attached from the first slice: whatever
// moved, arrived or left between slices, the members concerned are read again in the last slice,
// and their earlier copies are ignored. The copy is then exactly the set at that moment.
//
// Usage, under the lock that guards the set each time:
//   SortedSetCopy copy;
//   while (!copy.CopySlice(keys.FindSortedSet(...) /* null: no set */, kSliceEntries)) {
//     ... let go of the lock, take it again ...
//   }
//   copy.ForEach(...);  // no lock needed any more
// A copy dropped before it is complete must be Abandon()ed under the lock.
//
// Thread-safety: none of its own; see above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/member.h"
#include "storage/sorted_set.h"
#include "storage/sorted_set_watch.h"

namespace podium::storage {

class SortedSetCopy {
 public:
  SortedSetCopy() = default;
  SortedSetCopy(const SortedSetCopy&) = delete;
  SortedSetCopy& operator=(const SortedSetCopy&) = delete;

  // `set` is what the key holds now (null: no set). If it is not the set the earlier slices
  // copied (the key was deleted, expired or replaced meanwhile), starts over. Copies up to
  // `max_entries` more entries; returns true once the copy is complete, as of now.
  bool CopySlice(const SortedSet* set, size_t max_entries);
  // Stops an incomplete copy (detaches its watch). Under the set's lock.
  void Abandon() { watch_.Detach(); }
  bool complete() const { return complete_; }

  // Once complete: visit(const MemberKey&, double score) for every member, in no particular
  // order.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    const bool changed = watch_.noted_count() > 0;
    for (size_t i = 0; i < copied_.size(); ++i) {
      const MemberKey member = copied_.member(i);
      if (!changed || !watch_.Noted(member)) visit(member, copied_.score(i));
    }
    for (size_t i = 0; i < reread_.size(); ++i) visit(reread_.member(i), reread_.score(i));
  }

 private:
  // (member, score) pairs; string members packed into one buffer.
  class Entries {
   public:
    void Append(const MemberKey& member, double score);
    void Clear();
    size_t size() const { return entries_.size(); }
    double score(size_t i) const { return entries_[i].score; }
    MemberKey member(size_t i) const;

   private:
    static constexpr uint32_t kIntegerMember = UINT32_MAX;
    struct Entry {
      double score;
      uint64_t integer_or_offset;  // the integer member, or where its bytes start in bytes_
      uint32_t size_bytes;         // kIntegerMember for an integer member
    };
    std::vector<Entry> entries_;
    std::string bytes_;
  };

  Entries copied_;  // slice by slice, members changed since included (the watch names them)
  Entries reread_;  // the members the watch noted, as they were in the last slice
  SortedSetWatch watch_;
  bool started_ = false;
  bool complete_ = false;
};

}  // namespace podium::storage
