#include "storage/sorted_set_copy.h"

#include <glog/logging.h>

namespace podium::storage {

void SortedSetCopy::Entries::Append(const MemberKey& member, double score) {
  if (member.is_integer()) {
    entries_.push_back({score, member.integer(), kIntegerMember});
    return;
  }
  entries_.push_back({score, bytes_.size(), static_cast<uint32_t>(member.bytes().size())});
  bytes_.append(member.bytes());
}

void SortedSetCopy::Entries::Clear() {
  entries_.clear();
  bytes_.clear();
}

MemberKey SortedSetCopy::Entries::member(size_t i) const {
  const Entry& entry = entries_[i];
  if (entry.size_bytes == kIntegerMember) return MemberKey::FromInteger(entry.integer_or_offset);
  return MemberKey::FromNonIntegerBytes(
      std::string_view(bytes_).substr(entry.integer_or_offset, entry.size_bytes));
}

bool SortedSetCopy::CopySlice(const SortedSet* set, size_t max_entries) {
  CHECK(!complete_) << "CopySlice after the copy is complete";
  CHECK_GT(max_entries, 0u);
  if (!started_ || watch_.set_destroyed() || set != watch_.set()) {
    watch_.Reset();
    copied_.Clear();
    reread_.Clear();
    started_ = true;
    if (set == nullptr) {  // no set: the copy is empty
      complete_ = true;
      return true;
    }
    watch_.Attach(set);
  }
  const size_t last = copied_.size();
  auto cursor = last == 0 ? set->SeekRank(0, Order::kAscending)
                          : set->SeekAfter(copied_.score(last - 1), copied_.member(last - 1));
  for (size_t n = 0; n < max_entries && cursor.valid(); ++n, cursor.Next()) {
    copied_.Append(cursor.member(), cursor.score());
  }
  if (cursor.valid()) return false;
  watch_.ForEachNoted([&](const MemberKey& member) {
    if (const std::optional<double> score = set->Score(member)) reread_.Append(member, *score);
  });
  watch_.Detach();
  complete_ = true;
  return true;
}

}  // namespace podium::storage
