#include "storage/record_store.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "storage/limits.h"

namespace podium::storage {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kStartMs = 1'700'000'000'000;  // a realistic Unix time in ms

std::string KeyOf(int number) { return "key:" + std::to_string(number); }

// Value and TTL of `key` as one comparable string, to show that a failed call changed nothing.
std::string Snapshot(RecordStore& store, std::string_view key, int64_t now_ms) {
  const std::optional<std::string_view> value = store.Get(key, now_ms);
  return (value ? "value=" + std::string(*value) : std::string("missing")) +
         " ttl=" + std::to_string(store.TtlMs(key, now_ms));
}

TEST(ParseCanonicalInt64Test, AcceptsOnlyWhatRedisAccepts) {
  EXPECT_EQ(ParseCanonicalInt64("0"), 0);
  EXPECT_EQ(ParseCanonicalInt64("7"), 7);
  EXPECT_EQ(ParseCanonicalInt64("-7"), -7);
  EXPECT_EQ(ParseCanonicalInt64("1234567890"), 1234567890);
  EXPECT_EQ(ParseCanonicalInt64("9223372036854775807"), kInt64Max);
  EXPECT_EQ(ParseCanonicalInt64("-9223372036854775808"), kInt64Min);
  for (const char* text : {"", "-", "+", "+1", " 1", "1 ", "01", "00", "-0", "-01", "1.0", "1e3",
                           "0x10", "abc", "1a", "9223372036854775808", "-9223372036854775809",
                           "99999999999999999999", "123456789012345678901"}) {
    EXPECT_FALSE(ParseCanonicalInt64(text).has_value()) << "'" << text << "'";
  }
  EXPECT_FALSE(ParseCanonicalInt64(std::string_view("1\0", 2)).has_value());
}

TEST(RecordStoreTest, SetThenGetReturnsTheBytes) {
  RecordStore store;
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(store.Set("k", binary, kStartMs).ok());
  ASSERT_TRUE(store.Set("empty", "", kStartMs).ok());
  EXPECT_EQ(store.Get("k", kStartMs), binary);
  EXPECT_EQ(store.Get("empty", kStartMs), "");
  EXPECT_FALSE(store.Get("missing", kStartMs).has_value());
  ASSERT_TRUE(store.Set("k", "replaced", kStartMs).ok());
  EXPECT_EQ(store.Get("k", kStartMs), "replaced");
  EXPECT_EQ(store.size(), 2u);
  store.CheckInvariants();
}

TEST(RecordStoreTest, SetAcceptsAViewOfItsOwnValue) {
  RecordStore store;
  ASSERT_TRUE(store.Set("a", std::string(1000, 'x'), kStartMs).ok());
  ASSERT_TRUE(store.Set("a", store.Get("a", kStartMs)->substr(0, 10), kStartMs).ok());
  EXPECT_EQ(store.Get("a", kStartMs), std::string(10, 'x'));
  ASSERT_TRUE(store.Set("b", *store.Get("a", kStartMs), kStartMs).ok());
  EXPECT_EQ(store.Get("b", kStartMs), std::string(10, 'x'));
  store.CheckInvariants();
}

TEST(RecordStoreTest, KeyIsVisibleUntilItsDeadlineAndGoneAtIt) {
  RecordStore store;
  ASSERT_TRUE(store.Set("k", "v", kStartMs, 100).ok());
  EXPECT_EQ(store.Get("k", kStartMs + 99), "v");
  EXPECT_EQ(store.TtlMs("k", kStartMs + 99), 1);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(store.Get("k", kStartMs + 100).has_value());
  EXPECT_EQ(store.size(), 0u) << "Get of an expired key removes it";
  EXPECT_EQ(store.keys_with_ttl(), 0u);
  store.CheckInvariants();
}

TEST(RecordStoreTest, EveryAccessRemovesAnExpiredKeyLazily) {
  const int64_t deadline_ms = kStartMs + 10;
  auto expired_store = [&] {
    RecordStore store;
    EXPECT_TRUE(store.Set("k", "5", kStartMs, 10).ok());
    return store;
  };
  {
    RecordStore store = expired_store();
    EXPECT_FALSE(store.Exists("k", deadline_ms));
    EXPECT_EQ(store.size(), 0u);
  }
  {
    RecordStore store = expired_store();
    EXPECT_EQ(store.TtlMs("k", deadline_ms), -2);
    EXPECT_EQ(store.size(), 0u);
  }
  {
    RecordStore store = expired_store();
    const Result<int64_t> result = store.IncrementBy("k", 1, deadline_ms);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(*result, 1) << "an expired counter starts again from 0";
    EXPECT_EQ(store.TtlMs("k", deadline_ms), -1) << "and has no TTL";
  }
  {
    RecordStore store = expired_store();
    EXPECT_FALSE(store.Delete("k", deadline_ms)) << "deleting an expired key deletes nothing";
    EXPECT_EQ(store.size(), 0u);
  }
  {
    RecordStore store = expired_store();
    const Result<bool> result = store.Expire("k", 1000, deadline_ms);
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(*result);
    EXPECT_EQ(store.size(), 0u);
  }
  {
    RecordStore store = expired_store();
    EXPECT_FALSE(store.Persist("k", deadline_ms));
    EXPECT_EQ(store.size(), 0u);
  }
}

TEST(RecordStoreTest, SetWithoutTtlClearsTheOldTtl) {
  RecordStore store;
  ASSERT_TRUE(store.Set("k", "v1", kStartMs, 100).ok());
  ASSERT_TRUE(store.Set("k", "v2", kStartMs + 50).ok());
  EXPECT_EQ(store.TtlMs("k", kStartMs + 50), -1);
  EXPECT_EQ(store.Get("k", kStartMs + 1'000'000), "v2");
  EXPECT_EQ(store.SweepExpired(kStartMs + 1'000'000, kExpirySweepKeysPerCallMax), 0u);
  EXPECT_EQ(store.keys_with_ttl(), 0u);
  store.CheckInvariants();
}

TEST(RecordStoreTest, SetWithTtlReplacesTheOldTtl) {
  RecordStore store;
  ASSERT_TRUE(store.Set("k", "v1", kStartMs, 100).ok());
  ASSERT_TRUE(store.Set("k", "v2", kStartMs, 1000).ok());
  EXPECT_EQ(store.Get("k", kStartMs + 500), "v2");
  EXPECT_EQ(store.SweepExpired(kStartMs + 999, 10), 0u);
  EXPECT_EQ(store.SweepExpired(kStartMs + 1000, 10), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(RecordStoreTest, ExpireSetsReplacesOrDeletes) {
  RecordStore store;
  EXPECT_FALSE(*store.Expire("missing", 100, kStartMs));
  EXPECT_EQ(store.size(), 0u) << "EXPIRE on a missing key creates nothing";

  ASSERT_TRUE(store.Set("k", "v", kStartMs).ok());
  EXPECT_TRUE(*store.Expire("k", 100, kStartMs));
  EXPECT_EQ(store.TtlMs("k", kStartMs), 100);
  EXPECT_TRUE(*store.Expire("k", 5000, kStartMs + 50));
  EXPECT_EQ(store.TtlMs("k", kStartMs + 50), 5000);

  EXPECT_TRUE(*store.Expire("k", 0, kStartMs + 60)) << "ttl 0 deletes an existing key";
  EXPECT_FALSE(store.Exists("k", kStartMs + 60));
  EXPECT_EQ(store.keys_with_ttl(), 0u);

  ASSERT_TRUE(store.Set("n", "v", kStartMs).ok());
  EXPECT_TRUE(*store.Expire("n", -5, kStartMs)) << "a negative ttl deletes too";
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(*store.Expire("n", -5, kStartMs));
  store.CheckInvariants();
}

TEST(RecordStoreTest, ExpirePastTheLimitIsAnErrorAndChangesNothing) {
  RecordStore store;
  ASSERT_TRUE(store.Set("k", "v", kStartMs, 100).ok());
  const Result<bool> result = store.Expire("k", kTtlMsMax + 1, kStartMs);
  EXPECT_EQ(result.status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(store.TtlMs("k", kStartMs), 100);
  EXPECT_EQ(store.Expire("missing", kInt64Max, kStartMs).status().code(),
            StatusCode::kLimitExceeded);
  EXPECT_TRUE(*store.Expire("k", kTtlMsMax, kStartMs));
  EXPECT_EQ(store.TtlMs("k", kStartMs), kTtlMsMax);
}

TEST(RecordStoreTest, TtlMsReportsMissingNoneOrRemaining) {
  RecordStore store;
  EXPECT_EQ(store.TtlMs("k", kStartMs), -2);
  ASSERT_TRUE(store.Set("k", "v", kStartMs).ok());
  EXPECT_EQ(store.TtlMs("k", kStartMs), -1);
  ASSERT_TRUE(*store.Expire("k", 1500, kStartMs));
  EXPECT_EQ(store.TtlMs("k", kStartMs + 1), 1499);
  EXPECT_TRUE(store.Persist("k", kStartMs + 1));
  EXPECT_FALSE(store.Persist("k", kStartMs + 1)) << "no TTL left to remove";
  EXPECT_FALSE(store.Persist("missing", kStartMs + 1));
  EXPECT_EQ(store.TtlMs("k", kStartMs + 1), -1);
  EXPECT_TRUE(store.Exists("k", kStartMs + 10'000));
  EXPECT_EQ(store.keys_with_ttl(), 0u);
}

TEST(RecordStoreTest, DeleteRemovesLiveKeysOnly) {
  RecordStore store;
  EXPECT_FALSE(store.Delete("k", kStartMs));
  ASSERT_TRUE(store.Set("k", "v", kStartMs, 100).ok());
  EXPECT_TRUE(store.Delete("k", kStartMs + 99));
  EXPECT_FALSE(store.Delete("k", kStartMs + 99));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.keys_with_ttl(), 0u);
  EXPECT_EQ(store.SweepExpired(kStartMs + 1000, 10), 0u);
}

TEST(RecordStoreTest, IncrementByCountsAndKeepsTheTtl) {
  RecordStore store;
  EXPECT_EQ(*store.IncrementBy("n", 5, kStartMs), 5) << "a missing key counts as 0";
  EXPECT_EQ(store.TtlMs("n", kStartMs), -1);
  EXPECT_EQ(*store.IncrementBy("n", -12, kStartMs), -7);
  EXPECT_EQ(store.Get("n", kStartMs), "-7");
  ASSERT_TRUE(*store.Expire("n", 1000, kStartMs));
  EXPECT_EQ(*store.IncrementBy("n", 7, kStartMs + 10), 0);
  EXPECT_EQ(store.Get("n", kStartMs + 10), "0");
  EXPECT_EQ(store.TtlMs("n", kStartMs + 10), 990) << "INCRBY keeps the TTL";
  EXPECT_FALSE(store.Exists("n", kStartMs + 1000));

  ASSERT_TRUE(store.Set("max", "9223372036854775806", kStartMs).ok());
  EXPECT_EQ(*store.IncrementBy("max", 1, kStartMs), kInt64Max);
  EXPECT_EQ(store.Get("max", kStartMs), "9223372036854775807");
  EXPECT_EQ(*store.IncrementBy("max", kInt64Min, kStartMs), -1);
  EXPECT_EQ(*store.IncrementBy("max", kInt64Min + 1, kStartMs), kInt64Min);
  EXPECT_EQ(store.Get("max", kStartMs), "-9223372036854775808");
  store.CheckInvariants();
}

TEST(RecordStoreTest, IncrementByRefusesNonIntegersAndChangesNothing) {
  for (const char* text : {"", "abc", "1.5", " 1", "1 ", "+1", "01", "-0", "1e3",
                           "9223372036854775808", "-9223372036854775809"}) {
    RecordStore store;
    ASSERT_TRUE(store.Set("k", text, kStartMs, 1000).ok());
    const std::string before = Snapshot(store, "k", kStartMs);
    const Result<int64_t> result = store.IncrementBy("k", 1, kStartMs);
    ASSERT_FALSE(result.ok()) << "'" << text << "'";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message(), "value is not an integer or out of range");
    EXPECT_EQ(Snapshot(store, "k", kStartMs), before);
  }
}

TEST(RecordStoreTest, IncrementByRefusesOverflowAndChangesNothing) {
  RecordStore store;
  ASSERT_TRUE(store.Set("max", "9223372036854775807", kStartMs, 1000).ok());
  ASSERT_TRUE(store.Set("min", "-9223372036854775808", kStartMs).ok());
  const std::string max_before = Snapshot(store, "max", kStartMs);
  const std::string min_before = Snapshot(store, "min", kStartMs);
  for (const auto& [key, delta] : std::vector<std::pair<std::string, int64_t>>{
           {"max", 1}, {"max", kInt64Max}, {"min", -1}, {"min", kInt64Min}}) {
    const Result<int64_t> result = store.IncrementBy(key, delta, kStartMs);
    ASSERT_FALSE(result.ok()) << key << " + " << delta;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message(), "increment or decrement would overflow");
  }
  EXPECT_EQ(Snapshot(store, "max", kStartMs), max_before);
  EXPECT_EQ(Snapshot(store, "min", kStartMs), min_before);
  EXPECT_EQ(*store.IncrementBy("max", 0, kStartMs), kInt64Max);
}

TEST(RecordStoreTest, IncrementByRefusesBadNewKeys) {
  RecordStore store;
  EXPECT_EQ(store.IncrementBy("", 1, kStartMs).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.IncrementBy(std::string(kKeySizeBytesMax + 1, 'k'), 1, kStartMs).status().code(),
            StatusCode::kLimitExceeded);
  EXPECT_EQ(store.size(), 0u);
}

TEST(RecordStoreTest, SetRefusesBadInputAndChangesNothing) {
  RecordStore store;
  ASSERT_TRUE(store.Set("k", "original", kStartMs, 5000).ok());
  const std::string before = Snapshot(store, "k", kStartMs);
  const size_t bytes_before = store.memory_bytes_estimate();
  struct Case {
    std::string key;
    std::string value;
    std::optional<int64_t> ttl_ms;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {"", "v", std::nullopt, StatusCode::kInvalidArgument},
      {std::string(kKeySizeBytesMax + 1, 'k'), "v", std::nullopt, StatusCode::kLimitExceeded},
      {"k", std::string(kValueSizeBytesMax + 1, 'v'), std::nullopt, StatusCode::kLimitExceeded},
      {"k", "new", 0, StatusCode::kInvalidArgument},
      {"k", "new", -1, StatusCode::kInvalidArgument},
      {"k", "new", kInt64Min, StatusCode::kInvalidArgument},
      {"k", "new", kTtlMsMax + 1, StatusCode::kLimitExceeded},
      {"k", "new", kInt64Max, StatusCode::kLimitExceeded},
  };
  for (const Case& bad : cases) {
    const Status status = store.Set(bad.key, bad.value, kStartMs, bad.ttl_ms);
    EXPECT_EQ(status.code(), bad.code) << status.ToString();
    EXPECT_FALSE(status.message().empty());
  }
  EXPECT_EQ(Snapshot(store, "k", kStartMs), before);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.memory_bytes_estimate(), bytes_before);
  store.CheckInvariants();
}

TEST(RecordStoreTest, SetAcceptsInputAtEveryLimit) {
  RecordStore store;
  const std::string longest_key(kKeySizeBytesMax, 'k');
  ASSERT_TRUE(store.Set(longest_key, std::string(kValueSizeBytesMax, 'v'), kStartMs, 1).ok());
  EXPECT_EQ(store.Get(longest_key, kStartMs)->size(), kValueSizeBytesMax);
  ASSERT_TRUE(store.Set("k", "v", RecordStore::kNowMsMax, kTtlMsMax).ok());
  EXPECT_EQ(store.TtlMs("k", RecordStore::kNowMsMax), kTtlMsMax);
  store.CheckInvariants();
}

TEST(RecordStoreTest, SweepIsBoundedPerCallAndRemovesEveryExpiredKey) {
  RecordStore store;
  constexpr int kExpiring = 10'000;
  constexpr int kLive = 1'000;
  for (int i = 0; i < kExpiring; ++i) ASSERT_TRUE(store.Set(KeyOf(i), "x", kStartMs, 1 + i).ok());
  for (int i = kExpiring; i < kExpiring + kLive; ++i) {
    ASSERT_TRUE(store
                    .Set(KeyOf(i), "live", kStartMs,
                         i % 2 == 0 ? std::nullopt : std::optional<int64_t>(1'000'000'000))
                    .ok());
  }
  EXPECT_EQ(store.SweepExpired(kStartMs, 100), 0u) << "nothing is due yet";
  EXPECT_EQ(store.SweepExpired(kStartMs + 50, 100), 50u) << "only the due keys go";

  const int64_t later_ms = kStartMs + kExpiring;
  size_t calls = 0;
  while (store.size() > static_cast<size_t>(kLive)) {
    const size_t size_before = store.size();
    const size_t removed = store.SweepExpired(later_ms, 100);
    ASSERT_EQ(removed, std::min<size_t>(100, size_before - kLive));
    ASSERT_EQ(store.size(), size_before - removed);
    ASSERT_LE(++calls, 100u);
  }
  EXPECT_EQ(store.SweepExpired(later_ms, 100), 0u);
  for (int i = kExpiring; i < kExpiring + kLive; ++i)
    EXPECT_EQ(store.Get(KeyOf(i), later_ms), "live");
  EXPECT_EQ(store.keys_with_ttl(), static_cast<size_t>(kLive / 2));
  store.CheckInvariants();
}

TEST(RecordStoreTest, SweepClampsMaxKeysToTheLimit) {
  RecordStore store;
  for (size_t i = 0; i < 2 * kExpirySweepKeysPerCallMax; ++i) {
    ASSERT_TRUE(store.Set(KeyOf(static_cast<int>(i)), "x", kStartMs, 1).ok());
  }
  EXPECT_EQ(store.SweepExpired(kStartMs + 1, SIZE_MAX), kExpirySweepKeysPerCallMax);
  EXPECT_EQ(store.size(), kExpirySweepKeysPerCallMax);
}

TEST(RecordStoreTest, SweepFollowsTtlChanges) {
  RecordStore store;
  ASSERT_TRUE(store.Set("persisted", "v", kStartMs, 10).ok());
  ASSERT_TRUE(store.Set("extended", "v", kStartMs, 10).ok());
  ASSERT_TRUE(store.Set("shortened", "v", kStartMs, 10'000).ok());
  EXPECT_TRUE(store.Persist("persisted", kStartMs));
  EXPECT_TRUE(*store.Expire("extended", 5000, kStartMs));
  EXPECT_TRUE(*store.Expire("shortened", 5, kStartMs));

  EXPECT_EQ(store.SweepExpired(kStartMs + 10, 100), 1u);
  EXPECT_FALSE(store.Exists("shortened", kStartMs + 10));
  EXPECT_EQ(store.SweepExpired(kStartMs + 4999, 100), 0u);
  EXPECT_EQ(store.SweepExpired(kStartMs + 5000, 100), 1u);
  EXPECT_FALSE(store.Exists("extended", kStartMs + 5000));
  EXPECT_EQ(store.Get("persisted", kStartMs + 1'000'000), "v");
  EXPECT_EQ(store.EarliestDeadline(), std::nullopt);
}

TEST(RecordStoreTest, MemoryEstimateFollowsTheData) {
  RecordStore store;
  const size_t empty_bytes = store.memory_bytes_estimate();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(store.Set(KeyOf(i), std::string(1000, 'v'), kStartMs, 100).ok());
  }
  EXPECT_GT(store.memory_bytes_estimate(), empty_bytes + 1000 * 1000);
  const size_t bytes_before_overwrite = store.memory_bytes_estimate();
  ASSERT_TRUE(store.Set(KeyOf(0), "small", kStartMs).ok());
  EXPECT_LT(store.memory_bytes_estimate(), bytes_before_overwrite - 900)
      << "a big buffer overwritten by a small value is let go";
  store.CheckInvariants();
  while (store.SweepExpired(kStartMs + 100, kExpirySweepKeysPerCallMax) > 0) {
  }
  EXPECT_EQ(store.size(), 1u);
  EXPECT_LT(store.memory_bytes_estimate(), empty_bytes + 64 * 1024);
  store.CheckInvariants();
}

// A plain model of the Redis semantics: keys never leave it by themselves, a key is simply not
// live once now_ms reaches its deadline.
class ReferenceModel {
 public:
  struct Entry {
    std::string value;
    std::optional<int64_t> deadline_ms;
  };

  const Entry* Live(const std::string& key, int64_t now_ms) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    if (it->second.deadline_ms.has_value() && *it->second.deadline_ms <= now_ms) return nullptr;
    return &it->second;
  }
  Entry* Live(const std::string& key, int64_t now_ms) {
    return const_cast<Entry*>(std::as_const(*this).Live(key, now_ms));
  }
  void Set(const std::string& key, std::string value, std::optional<int64_t> deadline_ms) {
    entries_[key] = Entry{std::move(value), deadline_ms};
  }
  bool Delete(const std::string& key, int64_t now_ms) {
    const bool live = Live(key, now_ms) != nullptr;
    entries_.erase(key);
    return live;
  }
  size_t LiveCount(int64_t now_ms) const {
    size_t count = 0;
    for (const auto& [key, entry] : entries_) count += Live(key, now_ms) != nullptr ? 1 : 0;
    return count;
  }

 private:
  std::map<std::string, Entry> entries_;
};

// An independent oracle for canonical integers: parse leniently, then demand the text be
// exactly what formatting the number gives back.
std::optional<int64_t> ModelParse(const std::string& text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (std::to_string(value) != text) return std::nullopt;
  return value;
}

class RandomOperations {
 public:
  void Step() {
    now_ms_ += random_() % 4 == 0 ? static_cast<int64_t>(random_() % 40) : 0;
    const std::string key = KeyOf(static_cast<int>(random_() % 64));
    switch (random_() % 10) {
      case 0:
        SetOne(key);
        break;
      case 1:
        GetOne(key);
        break;
      case 2:
        EXPECT_EQ(store_.Delete(key, now_ms_), model_.Delete(key, now_ms_));
        break;
      case 3:
        EXPECT_EQ(store_.Exists(key, now_ms_), model_.Live(key, now_ms_) != nullptr);
        break;
      case 4:
        ExpireOne(key);
        break;
      case 5:
        PersistOne(key);
        break;
      case 6:
        TtlOne(key);
        break;
      case 7:
        IncrementOne(key);
        break;
      case 8:
        SweepSome();
        break;
      default:
        SetOne(key);
        break;
    }
  }

  // Sweeps until nothing is due: then the store holds exactly the live keys.
  void SweepAllAndCompareSizes() {
    while (store_.SweepExpired(now_ms_, kExpirySweepKeysPerCallMax) > 0) {
    }
    ASSERT_EQ(store_.size(), model_.LiveCount(now_ms_));
    store_.CheckInvariants();
  }

 private:
  std::string RandomValue() {
    static const std::vector<std::string> kValues = {
        "",   "abc", "0",  "-0", "01", "+1", " 1", "9223372036854775807", "-9223372036854775808",
        "42", "-17", "x y"};
    if (random_() % 3 == 0) return std::to_string(static_cast<int64_t>(random_() % 2001) - 1000);
    return kValues[random_() % kValues.size()];
  }

  void SetOne(const std::string& key) {
    const std::string value = RandomValue();
    std::optional<int64_t> ttl_ms;
    if (random_() % 2 == 0) ttl_ms = static_cast<int64_t>(random_() % 600) - 50;
    const Status status = store_.Set(key, value, now_ms_, ttl_ms);
    if (ttl_ms.has_value() && *ttl_ms <= 0) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
      return;  // and the model does not change
    }
    ASSERT_TRUE(status.ok()) << status.ToString();
    model_.Set(key, value, ttl_ms ? std::optional(now_ms_ + *ttl_ms) : std::nullopt);
  }

  void GetOne(const std::string& key) {
    const ReferenceModel::Entry* entry = model_.Live(key, now_ms_);
    const std::optional<std::string_view> value = store_.Get(key, now_ms_);
    ASSERT_EQ(value.has_value(), entry != nullptr) << key << " at " << now_ms_;
    if (entry != nullptr) {
      EXPECT_EQ(*value, entry->value);
    }
  }

  void ExpireOne(const std::string& key) {
    const int64_t ttl_ms = static_cast<int64_t>(random_() % 600) - 50;
    const Result<bool> result = store_.Expire(key, ttl_ms, now_ms_);
    ASSERT_TRUE(result.ok());
    ReferenceModel::Entry* entry = model_.Live(key, now_ms_);
    EXPECT_EQ(*result, entry != nullptr);
    if (entry == nullptr) return;
    if (ttl_ms <= 0) {
      model_.Delete(key, now_ms_);
    } else {
      entry->deadline_ms = now_ms_ + ttl_ms;
    }
  }

  void PersistOne(const std::string& key) {
    ReferenceModel::Entry* entry = model_.Live(key, now_ms_);
    const bool expected = entry != nullptr && entry->deadline_ms.has_value();
    EXPECT_EQ(store_.Persist(key, now_ms_), expected);
    if (expected) entry->deadline_ms.reset();
  }

  void TtlOne(const std::string& key) {
    const ReferenceModel::Entry* entry = model_.Live(key, now_ms_);
    const int64_t expected = entry == nullptr                  ? -2
                             : !entry->deadline_ms.has_value() ? -1
                                                               : *entry->deadline_ms - now_ms_;
    EXPECT_EQ(store_.TtlMs(key, now_ms_), expected);
  }

  void IncrementOne(const std::string& key) {
    const int64_t delta = random_() % 8 == 0 ? kInt64Max - static_cast<int64_t>(random_() % 3)
                                             : static_cast<int64_t>(random_() % 201) - 100;
    const Result<int64_t> result = store_.IncrementBy(key, delta, now_ms_);
    ReferenceModel::Entry* entry = model_.Live(key, now_ms_);
    if (entry == nullptr) {
      ASSERT_TRUE(result.ok());
      EXPECT_EQ(*result, delta);
      model_.Set(key, std::to_string(delta), std::nullopt);
      return;
    }
    const std::optional<int64_t> current = ModelParse(entry->value);
    const __int128 sum = static_cast<__int128>(current.value_or(0)) + delta;
    if (!current.has_value() || sum > kInt64Max || sum < kInt64Min) {
      EXPECT_FALSE(result.ok()) << entry->value << " + " << delta;
      return;
    }
    ASSERT_TRUE(result.ok()) << entry->value << " + " << delta;
    EXPECT_EQ(*result, static_cast<int64_t>(sum));
    entry->value = std::to_string(static_cast<int64_t>(sum));
  }

  void SweepSome() {
    const size_t max_keys = random_() % 8;
    const size_t size_before = store_.size();
    const size_t removed = store_.SweepExpired(now_ms_, max_keys);
    EXPECT_LE(removed, max_keys);
    EXPECT_EQ(store_.size(), size_before - removed);
    EXPECT_GE(store_.size(), model_.LiveCount(now_ms_)) << "a sweep removed a live key";
  }

  RecordStore store_;
  ReferenceModel model_;
  std::mt19937_64 random_{4242};
  int64_t now_ms_ = kStartMs;
};

TEST(RecordStoreTest, MatchesReferenceModelUnderRandomOperations) {
  RandomOperations operations;
  for (int step = 1; step <= 100'000; ++step) {
    operations.Step();
    if (testing::Test::HasFatalFailure()) return;
    if (step % 1000 == 0) {
      operations.SweepAllAndCompareSizes();
      if (testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace podium::storage
