// Database: shard batches (a thread keeping a shard's lock across commands) against plain
// WithKey calls from other threads: every increment counted once, no deadlock, whatever the
// mix of shards and releases.
#include "storage/database.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace podium::storage {
namespace {

TEST(DatabaseTest, ShardBatchesKeepIncrementsExactAcrossThreads) {
  Database db;
  // Keys on at least two shards, one of them shared by two keys (a hash tag).
  const std::vector<std::string> keys = {"{a}:one", "{a}:two", "b", "c"};
  ASSERT_EQ(Database::ShardOf(keys[0]), Database::ShardOf(keys[1]));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Threads 0 and 1 batch (one releasing now and then, as a connection does before other
      // commands); threads 2 and 3 lock per call.
      std::optional<Database::ShardBatch> batch;
      if (t < 2) batch.emplace(db);
      for (int i = 0; i < kIncrements; ++i) {
        const std::string& key = keys[static_cast<size_t>(i * (t + 1)) % keys.size()];
        db.WithKey(key, [&](Keyspace& keyspace) {
          ASSERT_TRUE(keyspace.strings().IncrementBy(key, 1, 0).ok());
        });
        if (t == 1 && i % 7 == 0) batch->Release();
      }
      EXPECT_EQ(Database::ShardBatch::Current() != nullptr, t < 2);
    });
  }
  for (std::thread& thread : threads) thread.join();
  int64_t total = 0;
  for (const std::string& key : keys) {
    total += db.WithKey(key, [&](Keyspace& keyspace) {
      return keyspace.strings().IncrementBy(key, 0, 0).value();
    });
  }
  EXPECT_EQ(total, int64_t{kThreads} * kIncrements);
  EXPECT_EQ(Database::ShardBatch::Current(), nullptr);
}

// A loop defers its replies while another thread waits for the shard its batch holds
// (server/connection.cc): the batch must see that waiter, and only while it waits.
TEST(DatabaseTest, ShardBatchSeesAnotherThreadWaitingForItsShard) {
  Database db;
  const auto increment = [&db](const std::string& key) {
    db.WithKey(key, [&](Keyspace& keyspace) {
      ASSERT_TRUE(keyspace.strings().IncrementBy(key, 1, 0).ok());
    });
  };
  Database::ShardBatch batch(db);
  EXPECT_FALSE(Database::ShardBatch::CurrentHoldsContended());  // holds nothing yet
  increment("k");
  EXPECT_FALSE(Database::ShardBatch::CurrentHoldsContended());  // holds k's shard, alone
  std::thread other([&] { increment("k"); });                   // blocks on k's shard
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Database::ShardBatch::CurrentHoldsContended() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(Database::ShardBatch::CurrentHoldsContended());
  batch.Release();
  other.join();
  EXPECT_FALSE(Database::ShardBatch::CurrentHoldsContended());  // holds nothing
  increment("k");
  EXPECT_FALSE(Database::ShardBatch::CurrentHoldsContended());  // the waiter has gone
  EXPECT_EQ(db.WithKey("k",
                       [](Keyspace& keyspace) {
                         return keyspace.strings().IncrementBy("k", 0, 0).value();
                       }),
            3);
}

}  // namespace
}  // namespace podium::storage
