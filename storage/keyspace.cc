#include "storage/keyspace.h"

#include <string>

namespace podium::storage {
namespace {

Status WrongTypeError() {
  return Status::WrongType("Operation against a key holding the wrong kind of value");
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kNone:
      return "none";
    case KeyType::kString:
      return "string";
    case KeyType::kSortedSet:
      return "zset";
  }
  return "none";
}

Keyspace::SortedSetMap::iterator Keyspace::FindLiveSortedSet(std::string_view key,
                                                            int64_t now_ms) {
  auto it = sorted_sets_.find(key);
  if (it == sorted_sets_.end()) return it;
  const std::optional<int64_t> deadline = sorted_set_expiry_.Deadline(key);
  if (deadline.has_value() && now_ms >= *deadline) {
    EraseSortedSet(it);
    return sorted_sets_.end();
  }
  return it;
}

void Keyspace::EraseSortedSet(SortedSetMap::iterator it) {
  sorted_set_expiry_.Clear(it->first);
  if (lazy_free_ != nullptr && it->second != nullptr) {  // ReplaceSortedSet took it already
    it->second->DropWatches();                           // under the lock; it is freed without it
    lazy_free_->Free(std::move(it->second));
  }
  sorted_sets_.erase(it);
}

KeyType Keyspace::Type(std::string_view key, int64_t now_ms) {
  if (strings_.Exists(key, now_ms)) return KeyType::kString;
  if (FindLiveSortedSet(key, now_ms) != sorted_sets_.end()) return KeyType::kSortedSet;
  return KeyType::kNone;
}

Status Keyspace::CheckString(std::string_view key, int64_t now_ms) {
  if (FindLiveSortedSet(key, now_ms) != sorted_sets_.end()) return WrongTypeError();
  return Status::Ok();
}

Status Keyspace::SetString(std::string_view key, std::string_view value, int64_t now_ms,
                           std::optional<int64_t> ttl_ms) {
  // Validate through the store first so that bad input changes nothing, then drop a sorted
  // set of the same name (SET replaces any type).
  if (Status status = strings_.Set(key, value, now_ms, ttl_ms); !status.ok()) return status;
  auto it = sorted_sets_.find(key);
  if (it != sorted_sets_.end()) EraseSortedSet(it);
  return Status::Ok();
}

Result<SortedSet*> Keyspace::FindSortedSet(std::string_view key, int64_t now_ms) {
  auto it = FindLiveSortedSet(key, now_ms);
  if (it != sorted_sets_.end()) return it->second.get();
  if (strings_.Exists(key, now_ms)) return WrongTypeError();
  return static_cast<SortedSet*>(nullptr);
}

Result<SortedSet*> Keyspace::FindOrCreateSortedSet(std::string_view key, int64_t now_ms) {
  Result<SortedSet*> found = FindSortedSet(key, now_ms);
  if (!found.ok() || *found != nullptr) return found;
  if (key.empty() || key.size() > kKeySizeBytesMax) {
    return Status::LimitExceeded("key must be 1 to " + std::to_string(kKeySizeBytesMax) +
                                 " bytes");
  }
  auto [it, inserted] = sorted_sets_.emplace(std::string(key), std::make_unique<SortedSet>());
  DCHECK(inserted);
  return it->second.get();
}

void Keyspace::DropIfEmpty(std::string_view key) {
  auto it = sorted_sets_.find(key);
  if (it != sorted_sets_.end() && it->second->size() == 0) EraseSortedSet(it);
}

void Keyspace::ReplaceSortedSet(std::string_view key, std::unique_ptr<SortedSet> set,
                                int64_t now_ms) {
  strings_.Delete(key, now_ms);
  if (auto it = sorted_sets_.find(key); it != sorted_sets_.end()) EraseSortedSet(it);
  if (set->size() == 0) return;
  CHECK(!key.empty() && key.size() <= kKeySizeBytesMax);
  sorted_sets_.emplace(std::string(key), std::move(set));
}

Status Keyspace::RestoreString(std::string_view key, std::string_view value,
                               std::optional<int64_t> deadline_ms) {
  // A sorted set cannot precede a string of its snapshot (the strings section comes first), so
  // unlike RestoreSortedSet this replaces nothing.
  if (sorted_sets_.find(key) != sorted_sets_.end()) {
    return Status::InvalidArgument("key already present as a sorted set");
  }
  if (strings_.HoldsRecord(key)) return Status::InvalidArgument("key already present as a string");
  return strings_.Restore(key, value, deadline_ms);
}

Status Keyspace::RestoreSortedSet(std::string_view key, std::unique_ptr<SortedSet> set,
                                  std::optional<int64_t> deadline_ms) {
  CHECK(set != nullptr);
  if (set->size() == 0) return Status::InvalidArgument("an empty sorted set is not a key");
  if (key.empty() || key.size() > kKeySizeBytesMax) {
    return Status::InvalidArgument("key must be 1 to " + std::to_string(kKeySizeBytesMax) +
                                   " bytes");
  }
  if (deadline_ms.has_value() &&
      (*deadline_ms < 0 || *deadline_ms > RecordStore::kNowMsMax + kTtlMsMax)) {
    return Status::InvalidArgument("deadline " + std::to_string(*deadline_ms) + " out of range");
  }
  if (sorted_sets_.find(key) != sorted_sets_.end()) {
    return Status::InvalidArgument("key already present as a sorted set");
  }
  // A string record here (live or expired) is this snapshot's own capture of the key from its
  // strings section, which the capture writes before it copies any sorted set; the key became a
  // set in between, so the set is the later capture and replaces it (snapshot_format.md,
  // "A key in both sections").
  strings_.Delete(key, /*now_ms=*/0);  // removes the record whether or not it has expired
  DCHECK(!strings_.HoldsRecord(key));
  auto [it, inserted] = sorted_sets_.emplace(std::string(key), std::move(set));
  CHECK(inserted);
  if (deadline_ms.has_value()) sorted_set_expiry_.Set(it->first, *deadline_ms);
  return Status::Ok();
}

bool Keyspace::Delete(std::string_view key, int64_t now_ms) {
  if (strings_.Delete(key, now_ms)) return true;
  auto it = FindLiveSortedSet(key, now_ms);
  if (it == sorted_sets_.end()) return false;
  EraseSortedSet(it);
  return true;
}

bool Keyspace::Exists(std::string_view key, int64_t now_ms) {
  return Type(key, now_ms) != KeyType::kNone;
}

Result<bool> Keyspace::Expire(std::string_view key, int64_t ttl_ms, int64_t now_ms) {
  if (ttl_ms > kTtlMsMax) {
    return Status::LimitExceeded("invalid expire time: more than " + std::to_string(kTtlMsMax) +
                                 " ms");
  }
  auto it = FindLiveSortedSet(key, now_ms);
  if (it == sorted_sets_.end()) return strings_.Expire(key, ttl_ms, now_ms);
  if (ttl_ms <= 0) {
    EraseSortedSet(it);
  } else {
    sorted_set_expiry_.Set(it->first, now_ms + ttl_ms);
  }
  return true;
}

int64_t Keyspace::TtlMs(std::string_view key, int64_t now_ms) {
  auto it = FindLiveSortedSet(key, now_ms);
  if (it == sorted_sets_.end()) return strings_.TtlMs(key, now_ms);
  const std::optional<int64_t> deadline = sorted_set_expiry_.Deadline(key);
  return deadline.has_value() ? *deadline - now_ms : -1;
}

bool Keyspace::Persist(std::string_view key, int64_t now_ms) {
  auto it = FindLiveSortedSet(key, now_ms);
  if (it == sorted_sets_.end()) return strings_.Persist(key, now_ms);
  return sorted_set_expiry_.Clear(key);
}

size_t Keyspace::SweepExpired(int64_t now_ms, size_t max_keys) {
  size_t removed = strings_.SweepExpired(now_ms, max_keys);
  removed += sorted_set_expiry_.PopDue(now_ms, max_keys, [this](std::string_view key) {
    auto it = sorted_sets_.find(key);
    if (lazy_free_ != nullptr) {
      it->second->DropWatches();
      lazy_free_->Free(std::move(it->second));
    }
    sorted_sets_.erase(it);
  });
  return removed;
}

namespace {
Status CheckDeadline(std::optional<int64_t> deadline_ms) {
  if (deadline_ms.has_value() &&
      (*deadline_ms < 0 || *deadline_ms > RecordStore::kNowMsMax + kTtlMsMax)) {
    return Status::InvalidArgument("deadline " + std::to_string(*deadline_ms) + " out of range");
  }
  return Status::Ok();
}
}  // namespace

Status Keyspace::PutString(std::string_view key, std::string_view value,
                           std::optional<int64_t> deadline_ms) {
  if (Status status = CheckDeadline(deadline_ms); !status.ok()) return status;
  if (key.empty() || key.size() > kKeySizeBytesMax || value.size() > kValueSizeBytesMax) {
    return Status::InvalidArgument("key or value out of range");
  }
  RemoveKey(key);
  return strings_.Restore(key, value, deadline_ms);
}

void Keyspace::RemoveKey(std::string_view key) {
  strings_.Delete(key, /*now_ms=*/0);  // removes the record whether or not it has expired
  auto it = sorted_sets_.find(key);
  if (it != sorted_sets_.end()) EraseSortedSet(it);
}

Result<bool> Keyspace::SetDeadline(std::string_view key, std::optional<int64_t> deadline_ms) {
  if (Status status = CheckDeadline(deadline_ms); !status.ok()) return status;
  auto it = sorted_sets_.find(key);
  if (it == sorted_sets_.end()) return strings_.RestoreDeadline(key, deadline_ms);
  if (deadline_ms.has_value()) {
    sorted_set_expiry_.Set(it->first, *deadline_ms);
  } else {
    sorted_set_expiry_.Clear(it->first);
  }
  return true;
}

Result<SortedSet*> Keyspace::SortedSetForReplay(std::string_view key, bool replace) {
  if (key.empty() || key.size() > kKeySizeBytesMax) {
    return Status::InvalidArgument("key must be 1 to " + std::to_string(kKeySizeBytesMax) +
                                   " bytes");
  }
  if (replace) RemoveKey(key);
  auto it = sorted_sets_.find(key);
  if (it != sorted_sets_.end()) return it->second.get();
  strings_.Delete(key, /*now_ms=*/0);
  it = sorted_sets_.emplace(std::string(key), std::make_unique<SortedSet>()).first;
  return it->second.get();
}

SortedSet* Keyspace::FindSortedSetForReplay(std::string_view key) {
  auto it = sorted_sets_.find(key);
  return it == sorted_sets_.end() ? nullptr : it->second.get();
}

const SortedSet* Keyspace::PeekSortedSet(std::string_view key,
                                         std::optional<int64_t>* deadline_ms) const {
  const auto it = sorted_sets_.find(key);
  if (it == sorted_sets_.end()) return nullptr;
  *deadline_ms = sorted_set_expiry_.Deadline(it->first);
  return it->second.get();
}

std::optional<int64_t> Keyspace::Deadline(std::string_view key, int64_t now_ms) {
  const int64_t ttl_ms = TtlMs(key, now_ms);
  if (ttl_ms < 0) return std::nullopt;
  return now_ms + ttl_ms;
}

}  // namespace podium::storage
