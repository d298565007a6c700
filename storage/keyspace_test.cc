#include "storage/keyspace.h"

#include <gtest/gtest.h>

namespace podium::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

SortedSet* Zset(Keyspace& keys, std::string_view key, int64_t now = kNow) {
  Result<SortedSet*> set = keys.FindOrCreateSortedSet(key, now);
  EXPECT_TRUE(set.ok());
  return set.ok() ? *set : nullptr;
}

TEST(KeyspaceTest, OneValuePerKeyAndWrongType) {
  Keyspace keys;
  ASSERT_TRUE(keys.SetString("s", "v", kNow, std::nullopt).ok());
  ASSERT_TRUE(Zset(keys, "z")->Set(MemberKey::FromInteger(1), 2).ok());
  EXPECT_EQ(keys.Type("s", kNow), KeyType::kString);
  EXPECT_EQ(keys.Type("z", kNow), KeyType::kSortedSet);
  EXPECT_EQ(keys.Type("none", kNow), KeyType::kNone);
  EXPECT_EQ(keys.FindSortedSet("s", kNow).status().code(), StatusCode::kWrongType);
  EXPECT_EQ(keys.FindOrCreateSortedSet("s", kNow).status().code(), StatusCode::kWrongType);
  EXPECT_EQ(keys.CheckString("z", kNow).code(), StatusCode::kWrongType);
  EXPECT_TRUE(keys.CheckString("s", kNow).ok());
  EXPECT_EQ(*keys.FindSortedSet("none", kNow), nullptr);
  // SET replaces a sorted set.
  ASSERT_TRUE(keys.SetString("z", "now a string", kNow, std::nullopt).ok());
  EXPECT_EQ(keys.Type("z", kNow), KeyType::kString);
  EXPECT_EQ(keys.sorted_set_count(), 0u);
}

TEST(KeyspaceTest, BadStringInputKeepsTheSortedSet) {
  Keyspace keys;
  ASSERT_TRUE(Zset(keys, "z")->Set(MemberKey::FromInteger(1), 2).ok());
  EXPECT_FALSE(keys.SetString("z", std::string(kValueSizeBytesMax + 1, 'x'), kNow, {}).ok());
  EXPECT_EQ(keys.Type("z", kNow), KeyType::kSortedSet);
}

TEST(KeyspaceTest, EmptySortedSetDisappears) {
  Keyspace keys;
  SortedSet* set = Zset(keys, "z");
  ASSERT_TRUE(set->Set(MemberKey::FromInteger(1), 2).ok());
  ASSERT_TRUE(set->Remove(MemberKey::FromInteger(1)));
  keys.DropIfEmpty("z");
  EXPECT_FALSE(keys.Exists("z", kNow));
}

TEST(KeyspaceTest, SortedSetsExpireLazilyAndBySweep) {
  Keyspace keys;
  ASSERT_TRUE(Zset(keys, "a")->Set(MemberKey::FromInteger(1), 1).ok());
  ASSERT_TRUE(Zset(keys, "b")->Set(MemberKey::FromInteger(1), 1).ok());
  ASSERT_TRUE(*keys.Expire("a", 100, kNow));
  ASSERT_TRUE(*keys.Expire("b", 100, kNow));
  EXPECT_EQ(keys.TtlMs("a", kNow + 40), 60);
  EXPECT_TRUE(keys.Exists("a", kNow + 99));
  EXPECT_FALSE(keys.Exists("a", kNow + 100));  // lazily
  EXPECT_EQ(keys.TtlMs("a", kNow + 100), -2);
  EXPECT_EQ(keys.sorted_set_count(), 1u);
  EXPECT_EQ(keys.SweepExpired(kNow + 100, 10), 1u);  // "b" by the sweep
  EXPECT_EQ(keys.sorted_set_count(), 0u);
}

TEST(KeyspaceTest, ExpirePersistAndDeleteCoverBothTypes) {
  Keyspace keys;
  ASSERT_TRUE(keys.SetString("s", "v", kNow, std::nullopt).ok());
  ASSERT_TRUE(Zset(keys, "z")->Set(MemberKey::FromInteger(1), 1).ok());
  for (const char* key : {"s", "z"}) {
    EXPECT_EQ(keys.TtlMs(key, kNow), -1);
    EXPECT_TRUE(*keys.Expire(key, 5000, kNow));
    EXPECT_EQ(keys.TtlMs(key, kNow), 5000);
    EXPECT_TRUE(keys.Persist(key, kNow));
    EXPECT_EQ(keys.TtlMs(key, kNow), -1);
    EXPECT_EQ(keys.Expire(key, kTtlMsMax + 1, kNow).status().code(), StatusCode::kLimitExceeded);
    EXPECT_EQ(keys.TtlMs(key, kNow), -1);
    EXPECT_TRUE(keys.Delete(key, kNow));
    EXPECT_FALSE(keys.Delete(key, kNow));
  }
  EXPECT_FALSE(*keys.Expire("missing", 10, kNow));
  ASSERT_TRUE(Zset(keys, "z")->Set(MemberKey::FromInteger(1), 1).ok());
  EXPECT_TRUE(*keys.Expire("z", 0, kNow));  // non-positive TTL deletes, as in Redis
  EXPECT_FALSE(keys.Exists("z", kNow));
}

TEST(KeyspaceTest, ReplaceSortedSetSwapsInOneStep) {
  Keyspace keys;
  ASSERT_TRUE(keys.SetString("dst", "old", kNow, 1000).ok());
  auto built = std::make_unique<SortedSet>();
  ASSERT_TRUE(built->Set(MemberKey::FromInteger(7), 3).ok());
  keys.ReplaceSortedSet("dst", std::move(built), kNow);
  EXPECT_EQ(keys.Type("dst", kNow), KeyType::kSortedSet);
  EXPECT_EQ(keys.TtlMs("dst", kNow), -1);
  EXPECT_EQ((*keys.FindSortedSet("dst", kNow))->Score(MemberKey::FromInteger(7)), 3.0);
  // The set replaced is gone, and its watches are told so.
  SortedSetWatch watch;
  watch.Attach(*keys.FindSortedSet("dst", kNow));
  keys.ReplaceSortedSet("dst", std::make_unique<SortedSet>(), kNow);
  EXPECT_TRUE(watch.set_destroyed());
  EXPECT_EQ(watch.set(), nullptr);
  EXPECT_FALSE(keys.Exists("dst", kNow));
}

std::unique_ptr<SortedSet> SetOf(uint64_t member, double score) {
  auto set = std::make_unique<SortedSet>();
  EXPECT_TRUE(set->Set(MemberKey::FromInteger(member), score).ok());
  return set;
}

// A snapshot taken while writes go on may hold a key in its strings section and again in its
// sorted-sets section (snapshot_format.md, "A key in both sections"): the set, copied later,
// replaces the string, live or expired, and takes its own deadline.
TEST(KeyspaceTest, RestoredSortedSetReplacesARestoredString) {
  Keyspace keys;
  ASSERT_TRUE(keys.RestoreString("live", "v", kNow + 1000).ok());
  ASSERT_TRUE(keys.RestoreString("expired", "v", kNow - 1000).ok());
  const Status live = keys.RestoreSortedSet("live", SetOf(1, 2), std::nullopt);
  ASSERT_TRUE(live.ok()) << live.ToString();
  const Status expired = keys.RestoreSortedSet("expired", SetOf(3, 4), kNow + 50);
  ASSERT_TRUE(expired.ok()) << expired.ToString();
  EXPECT_EQ(keys.string_count(), 0u);
  EXPECT_EQ(keys.expiring_count(), 1u);  // the strings' deadlines went with them
  EXPECT_EQ(keys.Type("live", kNow), KeyType::kSortedSet);
  EXPECT_EQ(keys.TtlMs("live", kNow), -1);
  EXPECT_EQ(keys.Type("expired", kNow), KeyType::kSortedSet);
  EXPECT_EQ(keys.TtlMs("expired", kNow), 50);
  EXPECT_EQ((*keys.FindSortedSet("expired", kNow))->Score(MemberKey::FromInteger(3)), 4.0);
}

// Within one type a key restored twice is corruption, and a string never replaces a set.
TEST(KeyspaceTest, RestoringAKeyTwiceAsOneTypeIsRefused) {
  Keyspace keys;
  ASSERT_TRUE(keys.RestoreString("s", "v", std::nullopt).ok());
  ASSERT_TRUE(keys.RestoreSortedSet("z", SetOf(1, 2), std::nullopt).ok());
  const Status string_twice = keys.RestoreString("s", "w", std::nullopt);
  EXPECT_EQ(string_twice.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(string_twice.message(), "key already present as a string");
  const Status set_twice = keys.RestoreSortedSet("z", SetOf(5, 6), std::nullopt);
  EXPECT_EQ(set_twice.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set_twice.message(), "key already present as a sorted set");
  const Status string_after_set = keys.RestoreString("z", "w", std::nullopt);
  EXPECT_EQ(string_after_set.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(string_after_set.message(), "key already present as a sorted set");
  // Nothing changed.
  EXPECT_EQ(*keys.strings().Get("s", kNow), "v");
  EXPECT_EQ((*keys.FindSortedSet("z", kNow))->size(), 1u);
  EXPECT_EQ((*keys.FindSortedSet("z", kNow))->Score(MemberKey::FromInteger(1)), 2.0);
}

}  // namespace
}  // namespace podium::storage
