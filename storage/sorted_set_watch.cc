#include "storage/sorted_set_watch.h"

#include <glog/logging.h>
#include <xxhash.h>

#include "storage/sorted_set.h"

namespace podium::storage {

SortedSetWatch::~SortedSetWatch() {
  CHECK(set_ == nullptr) << "a SortedSetWatch destroyed while attached";
}

size_t SortedSetWatch::BytesHash::operator()(std::string_view bytes) const noexcept {
  return static_cast<size_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

void SortedSetWatch::Attach(const SortedSet* set) {
  CHECK(set != nullptr);
  CHECK(set_ == nullptr) << "a SortedSetWatch attached twice";
  set_ = set;
  next_ = set->watches_;
  set->watches_ = this;
}

void SortedSetWatch::Detach() {
  if (set_ == nullptr) return;
  SortedSetWatch** link = &set_->watches_;
  while (*link != this) link = &(*link)->next_;
  *link = next_;
  set_ = nullptr;
  next_ = nullptr;
}

void SortedSetWatch::Reset() {
  Detach();
  set_destroyed_ = false;
  integers_.clear();
  strings_.clear();
}

bool SortedSetWatch::Noted(const MemberKey& member) const {
  if (member.is_integer()) return integers_.contains(member.integer());
  return strings_.contains(member.bytes());
}

void SortedSetWatch::Note(const MemberKey& member) {
  if (member.is_integer()) {
    integers_.insert(member.integer());
  } else if (!strings_.contains(member.bytes())) {
    strings_.emplace(member.bytes());
  }
}

void SortedSetWatch::OnSetDestroyed() {
  set_ = nullptr;
  next_ = nullptr;
  set_destroyed_ = true;
}

}  // namespace podium::storage
