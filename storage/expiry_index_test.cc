#include "storage/expiry_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/limits.h"

namespace podium::storage {
namespace {

// Pops every key due at now_ms, in the order handed out, however many calls that takes.
std::vector<std::string> PopAllDue(ExpiryIndex& index, int64_t now_ms) {
  std::vector<std::string> keys;
  while (index.PopDue(now_ms, kExpirySweepKeysPerCallMax,
                      [&](std::string_view key) { keys.emplace_back(key); }) > 0) {
  }
  return keys;
}

std::string KeyOf(int number) { return "key:" + std::to_string(number); }

TEST(ExpiryIndexTest, PopsDueKeysEarliestFirstAndLeavesTheRest) {
  ExpiryIndex index;
  std::vector<int> deadlines;
  for (int i = 0; i < 1000; ++i) deadlines.push_back(i * 10);
  std::shuffle(deadlines.begin(), deadlines.end(), std::mt19937(7));
  for (int deadline : deadlines) index.Set(KeyOf(deadline), deadline);

  // Due means deadline <= now: 0, 10, ..., 5000 are due at 5000; 5010 is not.
  std::vector<std::string> popped = PopAllDue(index, 5000);
  ASSERT_EQ(popped.size(), 501u);
  for (int i = 0; i <= 500; ++i) EXPECT_EQ(popped[i], KeyOf(i * 10)) << "position " << i;
  EXPECT_EQ(index.size(), 499u);
  EXPECT_EQ(index.EarliestDeadline(), 5010);
  EXPECT_FALSE(index.Deadline(KeyOf(5000)).has_value());
  EXPECT_EQ(index.Deadline(KeyOf(5010)), 5010);
  index.CheckInvariants();
}

TEST(ExpiryIndexTest, NothingIsDueBeforeItsDeadline) {
  ExpiryIndex index;
  index.Set("a", 100);
  int visits = 0;
  EXPECT_EQ(index.PopDue(99, 10, [&](std::string_view) { ++visits; }), 0u);
  EXPECT_EQ(visits, 0);
  EXPECT_EQ(index.PopDue(100, 10,
                         [&](std::string_view key) {
                           EXPECT_EQ(key, "a");
                           ++visits;
                         }),
            1u);
  EXPECT_EQ(visits, 1);
  EXPECT_TRUE(index.empty());
  EXPECT_FALSE(index.EarliestDeadline().has_value());
}

TEST(ExpiryIndexTest, EqualDeadlinesAllPopInNonDecreasingOrder) {
  ExpiryIndex index;
  for (int i = 0; i < 300; ++i) index.Set(KeyOf(i), (i % 3) * 100);
  std::vector<std::string> popped = PopAllDue(index, 1000);
  ASSERT_EQ(popped.size(), 300u);
  std::set<std::string> distinct(popped.begin(), popped.end());
  EXPECT_EQ(distinct.size(), 300u);
  for (size_t i = 0; i < popped.size(); ++i) {
    const int number = std::stoi(popped[i].substr(4));
    EXPECT_EQ(number % 3, static_cast<int>(i / 100)) << popped[i] << " at " << i;
  }
}

TEST(ExpiryIndexTest, BoundPerCallIsHonouredAndRepeatedCallsDrain) {
  ExpiryIndex index;
  for (int i = 0; i < 10'000; ++i) index.Set(KeyOf(i), i);
  size_t calls = 0;
  size_t total = 0;
  int64_t previous_deadline = -1;
  while (!index.empty()) {
    const size_t popped = index.PopDue(1'000'000, 100, [&](std::string_view key) {
      const int64_t deadline = std::stoll(std::string(key.substr(4)));
      EXPECT_GT(deadline, previous_deadline);
      previous_deadline = deadline;
    });
    ASSERT_EQ(popped, 100u) << "call " << calls;
    total += popped;
    ++calls;
    ASSERT_LE(calls, 100u);
  }
  EXPECT_EQ(calls, 100u);
  EXPECT_EQ(total, 10'000u);
}

TEST(ExpiryIndexTest, MaxKeysIsClampedToTheSweepLimit) {
  ExpiryIndex index;
  for (size_t i = 0; i < 3 * kExpirySweepKeysPerCallMax; ++i) index.Set(KeyOf(i), 1);
  EXPECT_EQ(index.PopDue(1, SIZE_MAX, [](std::string_view) {}), kExpirySweepKeysPerCallMax);
  EXPECT_EQ(index.size(), 2 * kExpirySweepKeysPerCallMax);
  EXPECT_EQ(index.PopDue(1, 0, [](std::string_view) {}), 0u);
  EXPECT_EQ(index.size(), 2 * kExpirySweepKeysPerCallMax);
}

TEST(ExpiryIndexTest, ResettingADeadlineSupersedesTheOldOne) {
  ExpiryIndex index;
  index.Set("later", 10);
  index.Set("sooner", 100);
  index.Set("later", 100'000);  // moved later: must not pop at its old deadline
  index.Set("sooner", 5);       // moved sooner: must pop at its new deadline
  EXPECT_EQ(index.Deadline("later"), 100'000);
  EXPECT_EQ(index.Deadline("sooner"), 5);

  EXPECT_EQ(PopAllDue(index, 50), std::vector<std::string>{"sooner"});
  EXPECT_EQ(PopAllDue(index, 99'999), std::vector<std::string>{});
  EXPECT_EQ(PopAllDue(index, 100'000), std::vector<std::string>{"later"});
  EXPECT_TRUE(index.empty());
}

TEST(ExpiryIndexTest, ClearRemovesTheDeadline) {
  ExpiryIndex index;
  index.Set("a", 10);
  index.Set("b", 20);
  EXPECT_TRUE(index.Clear("a"));
  EXPECT_FALSE(index.Clear("a"));
  EXPECT_FALSE(index.Clear("never-set"));
  EXPECT_FALSE(index.Deadline("a").has_value());
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(PopAllDue(index, 100), std::vector<std::string>{"b"});
}

// One key's TTL re-set a million times: a heap with lazy deletion and no compaction would hold a
// million entries here.
TEST(ExpiryIndexTest, RepeatedResetsOfOneKeyKeepMemoryBounded) {
  ExpiryIndex index;
  const size_t empty_bytes = index.memory_bytes_estimate();
  for (int64_t i = 0; i < 1'000'000; ++i) index.Set("hot", 1'000'000 - i);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.heap_entries(), 1u);
  EXPECT_LT(index.memory_bytes_estimate(), empty_bytes + 4096);
  EXPECT_EQ(index.Deadline("hot"), 1);
  EXPECT_EQ(PopAllDue(index, 1), std::vector<std::string>{"hot"});
}

// Many keys whose deadlines keep moving: every PopDue call still hands out exactly its bound,
// each key once, and the heap never holds more entries than keys.
TEST(ExpiryIndexTest, ChurnedDeadlinesNeverCostExtraWorkPerPop) {
  ExpiryIndex index;
  constexpr int kKeys = 1000;
  std::mt19937 random(11);
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < kKeys; ++i) index.Set(KeyOf(i), random() % 1000);
    ASSERT_EQ(index.heap_entries(), static_cast<size_t>(kKeys));
  }
  std::set<std::string> seen;
  for (int call = 0; call < kKeys / 100; ++call) {
    const size_t popped = index.PopDue(1000, 100, [&](std::string_view key) {
      EXPECT_TRUE(seen.emplace(key).second) << "popped twice: " << key;
    });
    ASSERT_EQ(popped, 100u);
    EXPECT_EQ(index.heap_entries(), index.size());
  }
  EXPECT_TRUE(index.empty());
}

TEST(ExpiryIndexTest, HeapMemoryShrinksAfterMassExpiry) {
  ExpiryIndex index;
  for (int i = 0; i < 100'000; ++i) index.Set(KeyOf(i), i);
  const size_t full_bytes = index.memory_bytes_estimate();
  while (index.size() > 10) index.PopDue(100'000, kExpirySweepKeysPerCallMax, [](auto) {});
  // Keys, nodes and the heap array all went; only the map's bucket array may stay.
  EXPECT_LT(index.memory_bytes_estimate(), full_bytes / 4);
  index.CheckInvariants();
}

TEST(ExpiryIndexTest, VisitorMayCallBackIntoTheIndex) {
  ExpiryIndex index;
  index.Set("a", 1);
  index.Set("b", 2);
  index.Set("c", 3);
  std::vector<std::string> popped;
  const size_t count = index.PopDue(10, 10, [&](std::string_view key) {
    popped.emplace_back(key);
    EXPECT_FALSE(index.Clear(key)) << "the key left the index before the visitor ran";
    if (key == "a") {
      EXPECT_TRUE(index.Clear("b"));
      index.Set("a", 1000);  // re-armed for later: must not pop again in this call
    }
  });
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(popped, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(index.Deadline("a"), 1000);
  EXPECT_EQ(index.size(), 1u);
  index.CheckInvariants();
}

TEST(ExpiryIndexTest, MovedIndexKeepsWorking) {
  ExpiryIndex index;
  for (int i = 0; i < 100; ++i) index.Set(KeyOf(i), i);
  ExpiryIndex moved = std::move(index);
  moved.Set(KeyOf(5), 1000);
  moved.CheckInvariants();
  EXPECT_EQ(PopAllDue(moved, 99).size(), 99u);
  EXPECT_EQ(moved.Deadline(KeyOf(5)), 1000);
}

// Against a model: map key -> deadline, with a moving clock. Checks that PopDue hands out
// exactly the due keys, earliest first, and that the heap stays consistent.
TEST(ExpiryIndexTest, MatchesReferenceModelUnderRandomOperations) {
  ExpiryIndex index;
  std::map<std::string, int64_t> model;
  std::mt19937_64 random(2024);
  int64_t now_ms = 0;
  for (int step = 0; step < 100'000; ++step) {
    const std::string key = KeyOf(static_cast<int>(random() % 500));
    const int operation = static_cast<int>(random() % 10);
    if (operation < 5) {
      const int64_t deadline = now_ms + static_cast<int64_t>(random() % 2000) - 100;
      index.Set(key, deadline);
      model[key] = deadline;
    } else if (operation < 7) {
      EXPECT_EQ(index.Clear(key), model.erase(key) == 1);
    } else if (operation < 9) {
      const auto expected = model.find(key);
      EXPECT_EQ(index.Deadline(key),
                expected == model.end() ? std::nullopt : std::optional(expected->second));
    } else {
      now_ms += static_cast<int64_t>(random() % 50);
      const size_t max_keys = random() % 20;
      int64_t previous = INT64_MIN;
      size_t visited = 0;
      const size_t popped = index.PopDue(now_ms, max_keys, [&](std::string_view key_popped) {
        auto it = model.find(std::string(key_popped));
        ASSERT_NE(it, model.end()) << key_popped;
        EXPECT_LE(it->second, now_ms);
        EXPECT_GE(it->second, previous);
        previous = it->second;
        model.erase(it);
        ++visited;
      });
      EXPECT_EQ(popped, visited);
      size_t due_left = 0;
      for (const auto& [model_key, deadline] : model) due_left += deadline <= now_ms ? 1 : 0;
      // Fewer than max_keys popped means nothing due is left; and what was left is no earlier
      // than what was popped.
      if (popped < max_keys) {
        EXPECT_EQ(due_left, 0u);
      }
      for (const auto& [model_key, deadline] : model) EXPECT_GE(deadline, previous);
    }
    ASSERT_EQ(index.size(), model.size());
    if (step % 5000 == 0) index.CheckInvariants();
  }
  index.CheckInvariants();
}

}  // namespace
}  // namespace podium::storage
