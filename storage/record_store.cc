#include "storage/record_store.h"

#include <glog/logging.h>

#include <charconv>
#include <system_error>
#include <utility>

namespace podium::storage {
namespace {

// "-9223372036854775808": the longest decimal int64.
constexpr size_t kInt64DecimalCharsMax = 20;
// Bytes a std::string keeps inside itself (small-string optimization); longer strings allocate.
const size_t kStringInlineCapacityBytes = std::string().capacity();
// Per record outside key and value bytes: the node (next pointer, cached hash, key, record)
// and an estimate of the allocator's per-allocation overhead.
constexpr size_t kAllocationOverheadBytes = 16;

constexpr std::string_view kNotAnIntegerMessage = "value is not an integer or out of range";
constexpr std::string_view kOverflowMessage = "increment or decrement would overflow";

// Heap bytes a string holds beyond its inline buffer.
size_t OutOfLineBytes(const std::string& text) {
  return text.capacity() > kStringInlineCapacityBytes ? text.capacity() + 1 : 0;
}

void DcheckNow(int64_t now_ms) {
  DCHECK_GE(now_ms, 0);
  DCHECK_LE(now_ms, RecordStore::kNowMsMax);
}

// The deadline of a TTL set now. CHECK rather than DCHECK: a now_ms past kNowMsMax would make
// the sum overflow (undefined behaviour), and this runs only when a TTL is set.
int64_t DeadlineAfter(int64_t now_ms, int64_t ttl_ms) {
  CHECK_GE(now_ms, 0);
  CHECK_LE(now_ms, RecordStore::kNowMsMax);
  DCHECK_GE(ttl_ms, 1);
  DCHECK_LE(ttl_ms, kTtlMsMax);
  return now_ms + ttl_ms;
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("key is empty");
  if (key.size() > kKeySizeBytesMax) {
    return Status::LimitExceeded("key is " + std::to_string(key.size()) + " bytes; the limit is " +
                                 std::to_string(kKeySizeBytesMax));
  }
  return Status::Ok();
}

Status ValidateValue(std::string_view value) {
  if (value.size() > kValueSizeBytesMax) {
    return Status::LimitExceeded("value is " + std::to_string(value.size()) +
                                 " bytes; the limit is " + std::to_string(kValueSizeBytesMax));
  }
  return Status::Ok();
}

// A TTL given with SET: must be positive (SET has no "expire now").
Status ValidateSetTtl(int64_t ttl_ms) {
  if (ttl_ms <= 0) {
    return Status::InvalidArgument("invalid expire time: ttl_ms must be positive, got " +
                                   std::to_string(ttl_ms));
  }
  if (ttl_ms > kTtlMsMax) {
    return Status::LimitExceeded("invalid expire time: ttl_ms " + std::to_string(ttl_ms) +
                                 " is past the limit of " + std::to_string(kTtlMsMax));
  }
  return Status::Ok();
}

}  // namespace

std::optional<int64_t> ParseCanonicalInt64(std::string_view text) {
  if (text.empty() || text.size() > kInt64DecimalCharsMax) return std::nullopt;
  if (text == "0") return 0;
  // Everything else starts with an optional '-' and then a digit 1-9. This rejects '+', spaces,
  // leading zeros and "-0" before from_chars sees them (from_chars would accept "01" and "-0").
  const size_t first_digit = text.front() == '-' ? 1 : 0;
  if (first_digit >= text.size() || text[first_digit] < '1' || text[first_digit] > '9') {
    return std::nullopt;
  }
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [parsed_end, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || parsed_end != end) return std::nullopt;
  return value;
}

std::optional<std::string_view> RecordStore::Get(std::string_view key, int64_t now_ms) {
  auto it = FindLive(key, now_ms);
  if (it == records_.end()) return std::nullopt;
  return std::string_view(it->second.value);
}

Status RecordStore::Set(std::string_view key, std::string_view value, int64_t now_ms,
                        std::optional<int64_t> ttl_ms) {
  DcheckNow(now_ms);
  if (Status status = ValidateKey(key); !status.ok()) return status;
  if (Status status = ValidateValue(value); !status.ok()) return status;
  int64_t deadline_ms = kNoDeadline;
  if (ttl_ms.has_value()) {
    if (Status status = ValidateSetTtl(*ttl_ms); !status.ok()) return status;
    deadline_ms = DeadlineAfter(now_ms, *ttl_ms);
  }
  // An expired record still in the map is simply overwritten: value and deadline both change.
  auto it = records_.find(key);
  if (it == records_.end()) {
    it = Insert(key, value);
  } else {
    ReplaceValue(it->second, value);
  }
  SetDeadline(it, deadline_ms);
  DCHECK_EQ(it->second.value.size(), value.size());
  return Status::Ok();
}

Status RecordStore::Restore(std::string_view key, std::string_view value,
                            std::optional<int64_t> deadline_ms) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  if (Status status = ValidateValue(value); !status.ok()) return status;
  if (deadline_ms.has_value() && (*deadline_ms < 0 || *deadline_ms > kNowMsMax + kTtlMsMax)) {
    return Status::InvalidArgument("deadline " + std::to_string(*deadline_ms) + " out of range");
  }
  if (records_.find(key) != records_.end()) {
    return Status::InvalidArgument("key already present");
  }
  auto it = Insert(key, value);
  SetDeadline(it, deadline_ms.value_or(kNoDeadline));
  DCHECK_EQ(it->second.deadline_ms, deadline_ms.value_or(kNoDeadline));
  return Status::Ok();
}

bool RecordStore::RestoreDeadline(std::string_view key, std::optional<int64_t> deadline_ms) {
  auto it = records_.find(key);
  if (it == records_.end()) return false;
  SetDeadline(it, deadline_ms.value_or(kNoDeadline));
  return true;
}

bool RecordStore::Delete(std::string_view key, int64_t now_ms) {
  DcheckNow(now_ms);
  auto it = records_.find(key);
  if (it == records_.end()) return false;
  const bool live = it->second.deadline_ms > now_ms;
  Erase(it);
  return live;
}

bool RecordStore::Exists(std::string_view key, int64_t now_ms) {
  return FindLive(key, now_ms) != records_.end();
}

Result<bool> RecordStore::Expire(std::string_view key, int64_t ttl_ms, int64_t now_ms) {
  if (ttl_ms > kTtlMsMax) {
    return Status::LimitExceeded("invalid expire time: ttl_ms " + std::to_string(ttl_ms) +
                                 " is past the limit of " + std::to_string(kTtlMsMax));
  }
  auto it = FindLive(key, now_ms);
  if (it == records_.end()) return false;
  if (ttl_ms <= 0) {
    Erase(it);  // Redis: a deadline in the past deletes the key
    return true;
  }
  SetDeadline(it, DeadlineAfter(now_ms, ttl_ms));
  return true;
}

bool RecordStore::Persist(std::string_view key, int64_t now_ms) {
  auto it = FindLive(key, now_ms);
  if (it == records_.end() || it->second.deadline_ms == kNoDeadline) return false;
  SetDeadline(it, kNoDeadline);
  return true;
}

int64_t RecordStore::TtlMs(std::string_view key, int64_t now_ms) {
  constexpr int64_t kTtlMissing = -2;
  constexpr int64_t kTtlNone = -1;
  auto it = FindLive(key, now_ms);
  if (it == records_.end()) return kTtlMissing;
  if (it->second.deadline_ms == kNoDeadline) return kTtlNone;
  const int64_t remaining_ms = it->second.deadline_ms - now_ms;
  DCHECK_GE(remaining_ms, 1);
  return remaining_ms;
}

Result<int64_t> RecordStore::IncrementBy(std::string_view key, int64_t delta, int64_t now_ms) {
  auto it = FindLive(key, now_ms);
  int64_t current = 0;
  if (it != records_.end()) {
    const std::optional<int64_t> parsed = ParseCanonicalInt64(it->second.value);
    if (!parsed.has_value()) return Status::InvalidArgument(std::string(kNotAnIntegerMessage));
    current = *parsed;
  } else if (Status status = ValidateKey(key); !status.ok()) {
    return status;
  }
  int64_t result = 0;
  if (__builtin_add_overflow(current, delta, &result)) {
    return Status::InvalidArgument(std::string(kOverflowMessage));
  }
  char buffer[kInt64DecimalCharsMax];
  const auto [text_end, error] = std::to_chars(buffer, buffer + sizeof(buffer), result);
  CHECK(error == std::errc()) << "an int64 always fits in " << kInt64DecimalCharsMax << " chars";
  const std::string_view text(buffer, static_cast<size_t>(text_end - buffer));
  if (it == records_.end()) {
    Insert(key, text);  // a new counter has no TTL
  } else {
    ReplaceValue(it->second, text);  // keeps the TTL, as Redis does
  }
  return result;
}

size_t RecordStore::SweepExpired(int64_t now_ms, size_t max_keys) {
  DcheckNow(now_ms);
  const size_t removed = expiry_.PopDue(now_ms, max_keys, [this, now_ms](std::string_view key) {
    auto it = records_.find(key);
    CHECK(it != records_.end()) << "the expiry index holds a key the store does not";
    DCHECK_LE(it->second.deadline_ms, now_ms);
    EraseRecordOnly(it);
  });
  DCHECK_LE(removed, kExpirySweepKeysPerCallMax);
  return removed;
}

size_t RecordStore::memory_bytes_estimate() const {
  constexpr size_t kNodeBytes =
      sizeof(void*) + sizeof(size_t) + sizeof(Map::value_type) + kAllocationOverheadBytes;
  return sizeof(*this) - sizeof(expiry_) + payload_bytes_ + records_.size() * kNodeBytes +
         records_.bucket_count() * sizeof(void*) + expiry_.memory_bytes_estimate();
}

void RecordStore::CheckInvariants() const {
  size_t payload_bytes = 0;
  size_t keys_with_ttl = 0;
  for (const auto& [key, record] : records_) {
    CHECK(ValidateKey(key).ok()) << "stored key of " << key.size() << " bytes";
    CHECK_LE(record.value.size(), kValueSizeBytesMax);
    const std::optional<int64_t> indexed = expiry_.Deadline(key);
    if (record.deadline_ms == kNoDeadline) {
      CHECK(!indexed.has_value()) << "a key without a TTL is in the expiry index";
    } else {
      CHECK(indexed.has_value()) << "a key with a TTL is missing from the expiry index";
      CHECK_EQ(*indexed, record.deadline_ms);
      ++keys_with_ttl;
    }
    payload_bytes += OutOfLineBytes(key) + OutOfLineBytes(record.value);
  }
  CHECK_EQ(keys_with_ttl, expiry_.size()) << "the expiry index holds keys the store does not";
  CHECK_EQ(payload_bytes, payload_bytes_);
  expiry_.CheckInvariants();
}

RecordStore::Map::iterator RecordStore::FindLive(std::string_view key, int64_t now_ms) {
  DcheckNow(now_ms);
  auto it = records_.find(key);
  if (it != records_.end() && it->second.deadline_ms <= now_ms) {
    Erase(it);  // lazy expiry
    return records_.end();
  }
  return it;
}

RecordStore::Map::iterator RecordStore::Insert(std::string_view key, std::string_view value) {
  DCHECK(ValidateKey(key).ok());
  DCHECK(ValidateValue(value).ok());
  auto [it, inserted] = records_.emplace(std::string(key), Record{std::string(value), kNoDeadline});
  CHECK(inserted) << "Insert() of a key already present";
  payload_bytes_ += OutOfLineBytes(it->first) + OutOfLineBytes(it->second.value);
  return it;
}

void RecordStore::Erase(Map::iterator it) {
  if (it->second.deadline_ms != kNoDeadline) {
    const bool cleared = expiry_.Clear(it->first);
    DCHECK(cleared) << "a key with a TTL was missing from the expiry index";
  }
  EraseRecordOnly(it);
}

void RecordStore::EraseRecordOnly(Map::iterator it) {
  const size_t bytes = OutOfLineBytes(it->first) + OutOfLineBytes(it->second.value);
  DCHECK_GE(payload_bytes_, bytes);
  payload_bytes_ -= bytes;
  records_.erase(it);
}

void RecordStore::SetDeadline(Map::iterator it, int64_t deadline_ms) {
  Record& record = it->second;
  if (record.deadline_ms == deadline_ms) return;
  if (deadline_ms == kNoDeadline) {
    const bool cleared = expiry_.Clear(it->first);
    DCHECK(cleared) << "a key with a TTL was missing from the expiry index";
  } else {
    expiry_.Set(it->first, deadline_ms);
  }
  record.deadline_ms = deadline_ms;
}

// Reuses the value's buffer when the new value fills at least half of it; otherwise allocates
// to fit, so a big value overwritten by a small one does not keep its memory. Safe when `value`
// views this or another record's value: the new bytes are copied before the old ones go.
void RecordStore::ReplaceValue(Record& record, std::string_view value) {
  payload_bytes_ -= OutOfLineBytes(record.value);
  if (record.value.capacity() <= 2 * value.size() + kStringInlineCapacityBytes) {
    record.value.assign(value.data(), value.size());
  } else {
    std::string(value).swap(record.value);
  }
  payload_bytes_ += OutOfLineBytes(record.value);
}

}  // namespace podium::storage
