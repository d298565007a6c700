#include "storage/effects.h"

#include <bit>
#include <cmath>
#include <utility>
#include <vector>

#include "storage/book_effects.h"
#include "storage/coding.h"
#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/limits.h"

namespace podium::storage {
namespace {

// A deadline on disk: absolute Unix ms, or u64 max for none.
constexpr uint64_t kNoDeadlineOnDisk = UINT64_MAX;

void AppendDeadline(std::optional<int64_t> deadline_ms, std::string* out) {
  AppendU64(out, deadline_ms.has_value() ? static_cast<uint64_t>(*deadline_ms) : kNoDeadlineOnDisk);
}

bool ReadDeadline(ByteReader* reader, std::optional<int64_t>* deadline_ms) {
  uint64_t raw = 0;
  if (!reader->ReadU64(&raw)) return false;
  if (raw == kNoDeadlineOnDisk) {
    deadline_ms->reset();
  } else if (raw > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  } else {
    *deadline_ms = static_cast<int64_t>(raw);
  }
  return true;
}

// Member heads as in snapshots: integer m as m << 1; a string of L bytes as (L << 1) | 1.
void AppendMember(const MemberKey& member, std::string* out) {
  if (member.is_integer()) {
    AppendVarint(out, member.integer() << 1);
  } else {
    AppendVarint(out, (uint64_t{member.bytes().size()} << 1) | 1);
    out->append(member.bytes());
  }
}

bool ReadMember(ByteReader* reader, MemberKey* member) {
  uint64_t head = 0;
  if (!reader->ReadVarint(&head)) return false;
  if ((head & 1) == 0) {
    if ((head >> 1) > kProductIdMax) return false;
    *member = MemberKey::FromInteger(head >> 1);
    return true;
  }
  const uint64_t length = head >> 1;
  std::string_view bytes;
  // An empty member is a member: ZADD z 1 "" is valid, as in Redis.
  if (length > kMemberSizeBytesMax || !reader->ReadBytes(length, &bytes)) {
    return false;
  }
  *member = MemberKey::FromBytes(bytes);
  return true;
}

bool ReadKey(ByteReader* reader, std::string_view* key) {
  return reader->ReadLengthPrefixed(key) && !key->empty() && key->size() <= kKeySizeBytesMax;
}

Status Malformed(uint8_t type, std::string_view what) {
  return Status::Corruption("effect of type " + std::to_string(type) + ": " + std::string(what));
}

}  // namespace

void EncodeStockSet(uint64_t product, int64_t units, std::string* out) {
  AppendU64(out, product);
  AppendU64(out, static_cast<uint64_t>(units));
}

void EncodeStringPut(std::string_view key, std::string_view value,
                     std::optional<int64_t> deadline_ms, std::string* out) {
  AppendLengthPrefixed(out, key);
  AppendDeadline(deadline_ms, out);
  AppendLengthPrefixed(out, value);
}

void EncodeKeyDelete(std::string_view key, std::string* out) { AppendLengthPrefixed(out, key); }

void EncodeKeyDeadline(std::string_view key, std::optional<int64_t> deadline_ms,
                       std::string* out) {
  AppendLengthPrefixed(out, key);
  AppendDeadline(deadline_ms, out);
}

void EncodeSortedSetPutHeader(std::string_view key, uint8_t flags, std::string* out) {
  out->push_back(static_cast<char>(flags));
  AppendLengthPrefixed(out, key);
}

void AppendPutMember(const MemberKey& member, double score, std::string* out) {
  AppendMember(member, out);
  AppendU64(out, std::bit_cast<uint64_t>(score));
}

void EncodeSortedSetRemoveHeader(std::string_view key, std::string* out) {
  AppendLengthPrefixed(out, key);
}

void AppendRemovedMember(const MemberKey& member, std::string* out) { AppendMember(member, out); }

namespace {

// A record's payload stays well under kWalRecordPayloadBytesMax: a member is at most
// kMemberSizeBytesMax + 2 + 8 bytes, and a key kKeySizeBytesMax + 2.
constexpr size_t kSortedSetRecordBytesTarget = size_t{1} << 20;

std::string& Scratch() {
  thread_local std::string scratch;
  scratch.clear();
  return scratch;
}

// Builds kSortedSetPut records of at most about kSortedSetRecordBytesTarget each.
class SortedSetPutRecords {
 public:
  SortedSetPutRecords(std::string_view key, bool replace) : key_(key), replace_(replace) {}
  void Add(const MemberKey& member, double score) {
    if (records_.empty() || records_.back().size() >= kSortedSetRecordBytesTarget) {
      records_.emplace_back();
      EncodeSortedSetPutHeader(key_, records_.size() == 1 && replace_ ? kSortedSetPutReplace : 0,
                               &records_.back());
    }
    AppendPutMember(member, score, &records_.back());
  }
  std::vector<std::string> Finish() {
    for (size_t i = 0; i + 1 < records_.size(); ++i) {
      records_[i][0] = static_cast<char>(records_[i][0] | kSortedSetPutContinued);
    }
    return std::move(records_);
  }

 private:
  std::string_view key_;
  bool replace_;
  std::vector<std::string> records_;
};

void AppendEffect(EffectLog* log, EffectType type, const std::string& payload) {
  log->Append(static_cast<uint8_t>(type), payload);
}

}  // namespace

void LogStockSet(EffectLog* log, uint64_t product, int64_t units) {
  if (log == nullptr) return;
  std::string& payload = Scratch();
  EncodeStockSet(product, units, &payload);
  AppendEffect(log, EffectType::kStockSet, payload);
}

void LogStringPut(EffectLog* log, std::string_view key, std::string_view value,
                  std::optional<int64_t> deadline_ms) {
  if (log == nullptr) return;
  std::string& payload = Scratch();
  EncodeStringPut(key, value, deadline_ms, &payload);
  AppendEffect(log, EffectType::kStringPut, payload);
}

void LogKeyDelete(EffectLog* log, std::string_view key) {
  if (log == nullptr) return;
  std::string& payload = Scratch();
  EncodeKeyDelete(key, &payload);
  AppendEffect(log, EffectType::kKeyDelete, payload);
}

void LogKeyDeadline(EffectLog* log, std::string_view key, std::optional<int64_t> deadline_ms) {
  if (log == nullptr) return;
  std::string& payload = Scratch();
  EncodeKeyDeadline(key, deadline_ms, &payload);
  AppendEffect(log, EffectType::kKeyDeadline, payload);
}

void LogSortedSetPut(EffectLog* log, std::string_view key, bool replace,
                     std::span<const std::pair<MemberKey, double>> members) {
  if (log == nullptr) return;
  if (members.size() == 1) {  // ZINCRBY's case, without the vector
    std::string& payload = Scratch();
    EncodeSortedSetPutHeader(key, replace ? kSortedSetPutReplace : 0, &payload);
    AppendPutMember(members[0].first, members[0].second, &payload);
    AppendEffect(log, EffectType::kSortedSetPut, payload);
    return;
  }
  if (members.empty()) return;
  SortedSetPutRecords records(key, replace);
  for (const auto& [member, score] : members) records.Add(member, score);
  LogSortedSetRecords(log, records.Finish());
}

std::vector<std::string> EncodeSortedSetStore(std::string_view key, const SortedSet& set) {
  CHECK_GT(set.size(), 0u);
  SortedSetPutRecords records(key, /*replace=*/true);
  set.RangeByRank(0, set.size() - 1, Order::kAscending,
                  [&](const MemberKey& member, double score) { records.Add(member, score); });
  return records.Finish();
}

void LogSortedSetRecords(EffectLog* log, std::vector<std::string> records) {
  if (log == nullptr || records.empty()) return;
  log->AppendGroup(static_cast<uint8_t>(EffectType::kSortedSetPut), std::move(records));
}

size_t SortedSetRemoveBytes(std::string_view key, std::span<const MemberKey> members) {
  size_t bytes = VarintBytes(key.size()) + key.size();
  for (const MemberKey& member : members) {
    bytes += member.is_integer()
                 ? VarintBytes(member.integer() << 1)
                 : VarintBytes((uint64_t{member.bytes().size()} << 1) | 1) + member.bytes().size();
  }
  return bytes;
}

void LogSortedSetRemove(EffectLog* log, std::string_view key, std::span<const MemberKey> members) {
  if (log == nullptr || members.empty()) return;
  DCHECK_LE(SortedSetRemoveBytes(key, members), kSortedSetRemoveBytesMax);
  std::string& payload = Scratch();
  EncodeSortedSetRemoveHeader(key, &payload);
  for (const MemberKey& member : members) AppendRemovedMember(member, &payload);
  AppendEffect(log, EffectType::kSortedSetRemove, payload);
}

Status EffectReplayer::Apply(uint8_t type, std::string_view payload) {
  const bool in_group = !group_.empty();
  if (type == static_cast<uint8_t>(EffectType::kSortedSetPut)) {
    if (payload.empty()) return Malformed(type, "empty");
    const bool continued = (static_cast<uint8_t>(payload[0]) & kSortedSetPutContinued) != 0;
    if (continued || in_group) {
      group_.emplace_back(payload);
      if (continued) return Status::Ok();
      std::vector<std::string> group;
      group.swap(group_);
      for (const std::string& part : group) {
        if (Status status = ApplyNow(type, part); !status.ok()) return status;
      }
      return Status::Ok();
    }
  } else if (in_group) {
    return Malformed(type, "inside a sorted-set group that was not finished");
  }
  return ApplyNow(type, payload);
}

Status EffectReplayer::ApplyNow(uint8_t type, std::string_view payload) {
  ByteReader reader(payload);
  switch (static_cast<EffectType>(type)) {
    case EffectType::kStockSet: {
      uint64_t product = 0;
      uint64_t units = 0;
      if (!reader.ReadU64(&product) || !reader.ReadU64(&units) || !reader.empty() ||
          product > kProductIdMax || units > static_cast<uint64_t>(kStockUnitsMax)) {
        return Malformed(type, "bad stock counter");
      }
      return db_->stock().Set(product, static_cast<int64_t>(units));
    }
    case EffectType::kStringPut: {
      std::string_view key;
      std::string_view value;
      std::optional<int64_t> deadline_ms;
      if (!ReadKey(&reader, &key) || !ReadDeadline(&reader, &deadline_ms) ||
          !reader.ReadLengthPrefixed(&value) || !reader.empty()) {
        return Malformed(type, "bad string");
      }
      return db_->WithKey(key, [&](Keyspace& keys) {
        return keys.PutString(key, value, deadline_ms);
      });
    }
    case EffectType::kKeyDelete: {
      std::string_view key;
      if (!ReadKey(&reader, &key) || !reader.empty()) return Malformed(type, "bad key");
      db_->WithKey(key, [&](Keyspace& keys) { keys.RemoveKey(key); });
      return Status::Ok();
    }
    case EffectType::kKeyDeadline: {
      std::string_view key;
      std::optional<int64_t> deadline_ms;
      if (!ReadKey(&reader, &key) || !ReadDeadline(&reader, &deadline_ms) || !reader.empty()) {
        return Malformed(type, "bad deadline");
      }
      Result<bool> set = db_->WithKey(
          key, [&](Keyspace& keys) { return keys.SetDeadline(key, deadline_ms); });
      return set.ok() ? Status::Ok() : set.status();
    }
    case EffectType::kSortedSetPut: {
      uint8_t flags = 0;
      std::string_view key;
      if (!reader.ReadU8(&flags) || (flags & ~kSortedSetPutFlagsAll) != 0 ||
          !ReadKey(&reader, &key)) {
        return Malformed(type, "bad sorted-set header");
      }
      std::vector<std::pair<MemberKey, double>> members;
      while (!reader.empty()) {
        MemberKey member = MemberKey::FromInteger(0);
        uint64_t bits = 0;
        if (!ReadMember(&reader, &member) || !reader.ReadU64(&bits) ||
            std::isnan(std::bit_cast<double>(bits))) {
          return Malformed(type, "bad member");
        }
        members.emplace_back(member, std::bit_cast<double>(bits));
      }
      return db_->WithKey(key, [&](Keyspace& keys) -> Status {
        const bool replace = (flags & kSortedSetPutReplace) != 0;
        // Without kSortedSetPutReplace the set existed when the change was made (its creation
        // is logged with the flag). Missing here, it was removed by its expiry, which is not
        // logged, before a snapshot's capture reached it: the key stays gone, as it was.
        if (!replace && keys.FindSortedSetForReplay(key) == nullptr) return Status::Ok();
        Result<SortedSet*> set = keys.SortedSetForReplay(key, replace);
        if (!set.ok()) return set.status();
        Status status;
        for (const auto& [member, score] : members) {
          if (Result<bool> added = (*set)->Set(member, score); !added.ok()) {
            status = added.status();
            break;
          }
        }
        keys.DropIfEmpty(key);
        return status;
      });
    }
    case EffectType::kSortedSetRemove: {
      std::string_view key;
      if (!ReadKey(&reader, &key)) return Malformed(type, "bad key");
      std::vector<MemberKey> members;
      while (!reader.empty()) {
        MemberKey member = MemberKey::FromInteger(0);
        if (!ReadMember(&reader, &member)) return Malformed(type, "bad member");
        members.push_back(member);
      }
      db_->WithKey(key, [&](Keyspace& keys) {
        SortedSet* set = keys.FindSortedSetForReplay(key);
        if (set == nullptr) return;
        for (const MemberKey& member : members) set->Remove(member);
        keys.DropIfEmpty(key);
      });
      return Status::Ok();
    }
    case EffectType::kBook: {
      Status status = ApplyBookRecord(payload, db_);
      return status.ok() ? status : Malformed(type, status.message());
    }
    case EffectType::kRanking: {
      Result<uint64_t> applied = db_->rankings().ApplyEntries(payload);
      return applied.ok() ? Status::Ok() : Malformed(type, applied.status().message());
    }
  }
  return Malformed(type, "unknown effect type");
}

}  // namespace podium::storage
