// LazyFree through a Database: a big sorted set that leaves the keyspace (DEL, SET over it, an
// expiry, the sweep) is freed on LazyFree's thread, a small one at once; a watch on the big one
// hears it is gone while the shard lock is held.
#include "storage/lazy_free.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "storage/database.h"
#include "storage/sorted_set_watch.h"

namespace podium::storage {
namespace {

constexpr int64_t kNowMs = 1'800'000'000'000;

void Fill(Database& db, const std::string& key, size_t members) {
  db.WithKey(key, [&](Keyspace& keys) {
    Result<SortedSet*> set = keys.FindOrCreateSortedSet(key, kNowMs);
    ASSERT_TRUE(set.ok());
    for (size_t i = 0; i < members; ++i) {
      ASSERT_TRUE((*set)->Set(MemberKey::FromInteger(i), static_cast<double>(i)).ok());
    }
  });
}

TEST(LazyFreeTest, BigSetsLeavingTheKeyspaceAreFreedOnItsThread) {
  Database db;
  const size_t big = kLazyFreeMembersMin;
  Fill(db, "small", kLazyFreeMembersMin - 1);
  Fill(db, "deleted", big);
  Fill(db, "overwritten", big);
  Fill(db, "expired", big);
  Fill(db, "swept", big);

  SortedSetWatch watch;
  db.WithKey("deleted",
             [&](Keyspace& keys) { watch.Attach(*keys.FindSortedSet("deleted", kNowMs)); });

  EXPECT_TRUE(db.WithKey("small", [](Keyspace& keys) { return keys.Delete("small", kNowMs); }));
  EXPECT_TRUE(db.WithKey("deleted", [](Keyspace& keys) { return keys.Delete("deleted", kNowMs); }));
  db.WithKey("deleted", [&](Keyspace&) { EXPECT_TRUE(watch.set_destroyed()); });
  db.WithKey("overwritten", [](Keyspace& keys) {
    EXPECT_TRUE(keys.SetString("overwritten", "v", kNowMs, std::nullopt).ok());
  });
  db.WithKey("expired", [](Keyspace& keys) {
    EXPECT_TRUE(*keys.Expire("expired", 1000, kNowMs));
    EXPECT_FALSE(keys.Exists("expired", kNowMs + 1000));  // found expired: dropped
  });
  db.WithKey("swept", [](Keyspace& keys) {
    EXPECT_TRUE(*keys.Expire("swept", 1000, kNowMs));
    EXPECT_EQ(keys.SweepExpired(kNowMs + 1000, 16), 1u);
  });
  db.lazy_free().Drain();
  EXPECT_EQ(db.lazy_free().freed(), 4u);  // the small one was freed at once
  for (const char* key : {"small", "deleted", "overwritten", "expired", "swept"}) {
    EXPECT_EQ(db.WithKey(key, [&](Keyspace& keys) { return keys.Type(key, kNowMs + 1000); }),
              std::string_view(key) == "overwritten" ? KeyType::kString : KeyType::kNone)
        << key;
  }
}

}  // namespace
}  // namespace podium::storage
