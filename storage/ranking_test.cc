// Rankings in-process: the shop's rules (an order outranks three likes, a repeated event counts
// once, late events land in their own window), and the carry-over's properties: exact at every
// moment, applied once, under concurrent events across the rollover.
#include "storage/ranking.h"

#include "storage/limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace podium::storage {
namespace {

constexpr int64_t kDayMs = 86'400'000;
// 2026-11-22 00:00 UTC.
constexpr int64_t kDay0 = 1'795'305'600'000;

class RankingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("TZ", "UTC", 1);
    tzset();
  }

  Result<bool> Event(std::string id, RankEventKind kind, uint64_t product, int64_t ts,
                     int64_t now, int64_t qty = 0, int64_t price = 0) {
    ids_.push_back(std::move(id));
    return rankings_.Apply("all", {ids_.back(), kind, product, ts, qty, price}, now);
  }
  double Score(std::string_view window, uint64_t product) {
    auto positions = rankings_.Of("all", window, {product});
    EXPECT_TRUE(positions.ok()) << positions.status().ToString();
    return positions.ok() && (*positions)[0].has_value() ? (*positions)[0]->score : 0;
  }
  RankSignals Signals(std::string_view window, uint64_t product) {
    auto signals = rankings_.Signals("all", window, product);
    EXPECT_TRUE(signals.ok() && signals->has_value());
    return signals.ok() && signals->has_value() ? **signals : RankSignals{};
  }
  void FinishSteps(int64_t now) {
    while (rankings_.Step(now)) {
    }
  }

  std::vector<std::string> ids_;  // views in events must outlive Apply only, but keep them
  Rankings rankings_;
};

TEST_F(RankingTest, DayNames) {
  EXPECT_EQ(RankDayOf(kDay0).name, "20261122");
  EXPECT_EQ(RankDayOf(kDay0 - 1).name, "20261121");
  EXPECT_EQ(RankDayAt(RankDayOf(kDay0).index).start_ms, kDay0);
  EXPECT_EQ(ParseRankDayName("20261122"), RankDayOf(kDay0).index);
  EXPECT_FALSE(ParseRankDayName("20261131").has_value());
  EXPECT_FALSE(ParseRankDayName("2026112").has_value());
  EXPECT_FALSE(ParseRankDayName("2026W47").has_value());
}

TEST_F(RankingTest, OneOrderOutranksThreeLikes) {
  const int64_t now = kDay0 + 1000;
  ASSERT_TRUE(*Event("o", RankEventKind::kOrder, 1, now, now, 1, 1000));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(*Event("l" + std::to_string(i), RankEventKind::kLike, 2, now, now));
  }
  auto top = rankings_.Top("all", "20261122", 0, 10);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].product, 1u);
  EXPECT_NEAR((*top)[0].score, 0.7 * std::log1p(1000.0), 1e-12);
  EXPECT_NEAR((*top)[1].score, 0.6, 1e-12);
}

TEST_F(RankingTest, RepeatedEventIdCountsOnce) {
  const int64_t now = kDay0 + 1000;
  EXPECT_TRUE(*Event("e1", RankEventKind::kView, 1, now, now));
  EXPECT_FALSE(*Event("e1", RankEventKind::kView, 1, now, now));
  EXPECT_FALSE(*Event("e1", RankEventKind::kLike, 2, now - kDayMs, now));  // another window too
  EXPECT_EQ(Signals("20261122", 1).views, 1);
  EXPECT_EQ(*rankings_.Card("all", "20261121"), 0u);
}

TEST_F(RankingTest, BadEventsChangeNothing) {
  const int64_t now = kDay0 + 1000;
  EXPECT_FALSE(Event("f", RankEventKind::kView, 1, now + 10 * 60 * 1000, now).ok());  // future
  EXPECT_FALSE(Event("o", RankEventKind::kView, 1, now - 3 * kDayMs, now).ok());  // expired
  EXPECT_FALSE(Event("q", RankEventKind::kOrder, 1, now, now, 0, 5).ok());
  EXPECT_FALSE(Event("", RankEventKind::kView, 1, now, now).ok());
  EXPECT_EQ(*rankings_.Card("all", "20261122"), 0u);
  // The refused ids were not remembered.
  EXPECT_TRUE(*Event("f", RankEventKind::kView, 1, now, now));
}

// Carry-over: the next window opens `lead` ahead, is built in slices (BUSY meanwhile), and then
// holds own + carry x score(previous), late events of the previous day included.
TEST_F(RankingTest, CarryOverIsExactIncludingLateEvents) {
  int64_t now = kDay0 + 10 * 3600 * 1000;  // 10:00 on day 0
  for (uint64_t p = 0; p < 10'000; ++p) {
    ASSERT_TRUE(*Event("v" + std::to_string(p), RankEventKind::kView, p, now, now));
  }
  now = kDay0 + kDayMs - 30 * 60 * 1000;  // 23:30: within the lead of day 1
  ASSERT_TRUE(rankings_.Step(now));       // opens day 1 and copies a first slice
  EXPECT_EQ(rankings_.Card("all", "20261123").status().code(), StatusCode::kBusy);
  // An event on a product of day 0 while day 1 is being built.
  ASSERT_TRUE(*Event("late-ish", RankEventKind::kLike, 9'999, now, now));
  FinishSteps(now);
  EXPECT_EQ(*rankings_.Card("all", "20261123"), 10'000u);
  EXPECT_NEAR(Score("20261123", 9'999), 0.1 * (0.1 + 0.2), 1e-12);
  EXPECT_NEAR(Score("20261123", 5), 0.1 * 0.1, 1e-12);
  // After midnight: own events of day 1, and a late event of day 0 flowing forward.
  now = kDay0 + kDayMs + 3600 * 1000;
  ASSERT_TRUE(*Event("own", RankEventKind::kOrder, 5, now, now, 2, 50));
  ASSERT_TRUE(*Event("late", RankEventKind::kLike, 5, kDay0 + 1000, now));
  const double day0 = 0.1 + 0.2;
  EXPECT_NEAR(Score("20261122", 5), day0, 1e-12);
  EXPECT_NEAR(Score("20261123", 5), 0.7 * std::log1p(100.0) + 0.1 * day0, 1e-12);
  EXPECT_NEAR(Signals("20261123", 5).carried, 0.1 * day0, 1e-12);
}

// Many threads send events to day 0 and day 1 while day 1 is built; afterwards every product's
// day-1 score is exactly own + carry x its day-0 score (nothing missed, nothing twice).
TEST_F(RankingTest, CarryOverExactAndOnceUnderConcurrentEvents) {
  constexpr uint64_t kProducts = 30'000;
  int64_t now = kDay0 + 12 * 3600 * 1000;
  for (uint64_t p = 0; p < kProducts; ++p) {
    ASSERT_TRUE(*Event("seed" + std::to_string(p), RankEventKind::kView, p, now, now));
  }
  now = kDay0 + kDayMs - 2 * 60 * 1000;  // 23:58: day-1 events are within the skew
  constexpr int kThreads = 3;
  constexpr int kEventsPerThread = 20'000;
  constexpr uint64_t kEventsPerStep = 500;  // paces the build across the events
  std::atomic<uint64_t> applied{0};
  std::atomic<int> writing{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(t);
      for (int i = 0; i < kEventsPerThread; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        const uint64_t product = random() % kProducts;
        // Day 0 (before and after midnight: late events) and day 1's own events.
        const int64_t ts = i % 3 == 0 ? kDay0 + kDayMs + 1000 : kDay0 + 1000 + i;
        const auto kind = static_cast<RankEventKind>(random() % 3);
        ASSERT_TRUE(rankings_.Apply("all", {id, kind, product, ts, 0, 0}, now).ok());
        applied.fetch_add(1);
      }
      writing.fetch_sub(1);
    });
  }
  std::thread stepper([&] {
    uint64_t next = 0;
    while (writing.load() > 0) {
      if (applied.load() < next) {
        std::this_thread::yield();
        continue;
      }
      next = applied.load() + kEventsPerStep;
      rankings_.Step(now);
    }
  });
  // A reader of day 1 sees it not open yet (0), being built (BUSY) or complete (every seeded
  // product carried in), in that order, and never a part of it.
  uint64_t busy_from = 0;  // events applied when the reader first and last saw BUSY
  uint64_t busy_until = 0;
  std::thread reader([&] {
    enum { kNotOpen, kBuilding, kComplete } seen = kNotOpen;
    while (writing.load() > 0) {
      const Result<uint64_t> card = rankings_.Card("all", "20261123");
      if (!card.ok()) {
        ASSERT_EQ(card.status().code(), StatusCode::kBusy) << card.status().ToString();
        ASSERT_NE(seen, kComplete) << "a complete window went back to building";
        if (seen == kNotOpen) busy_from = applied.load();
        busy_until = applied.load();
        seen = kBuilding;
      } else if (*card == 0) {
        ASSERT_EQ(seen, kNotOpen) << "an open window read empty";
      } else {
        ASSERT_GE(*card, kProducts) << "a partial board";
        seen = kComplete;
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  stepper.join();
  reader.join();
  FinishSteps(now);
  // The race the test is for: events kept arriving while the window was built.
  EXPECT_GT(busy_until - busy_from, uint64_t{kEventsPerStep} * 10);
  const RankWeights weights = rankings_.Weights("all").weights;
  size_t checked = 0;
  for (uint64_t p = 0; p < kProducts; ++p) {
    const RankSignals day0 = Signals("20261122", p);
    auto day1 = rankings_.Signals("all", "20261123", p);
    ASSERT_TRUE(day1.ok() && day1->has_value()) << p;
    const double own = weights.view * static_cast<double>((*day1)->views) +
                       weights.like * static_cast<double>((*day1)->likes) +
                       weights.order * (*day1)->order_sum;
    ASSERT_NEAR((*day1)->carried, weights.carry * day0.score, 1e-9) << p;
    ASSERT_NEAR((*day1)->score, own + weights.carry * day0.score, 1e-9) << p;
    ++checked;
  }
  EXPECT_EQ(checked, kProducts);
}

// With spare_lead_ms, the housekeeper thread sizes the next window before it opens, and the
// stepper opens it from there (at the first step after the sizing is done): the build is the
// same as without.
TEST_F(RankingTest, NextWindowSizedAheadByTheHousekeeper) {
  Rankings rankings({.spare_lead_ms = 10 * 60 * 1000});
  constexpr uint64_t kProducts = 10'000;
  int64_t now = kDay0 + 10 * 3600 * 1000;
  std::vector<std::string> ids;
  for (uint64_t p = 0; p < kProducts; ++p) {
    ids.push_back("v" + std::to_string(p));
    ASSERT_TRUE(*rankings.Apply("all", {ids.back(), RankEventKind::kView, p, now, 0, 0}, now));
  }
  now = kDay0 + kDayMs - 65 * 60 * 1000;  // 22:55: day 1 opens at 23:00; sized from 22:50
  EXPECT_FALSE(rankings.Step(now));
  EXPECT_EQ(*rankings.Card("all", "20261123"), 0u);  // not open yet
  now = kDay0 + kDayMs - 60 * 60 * 1000;  // 23:00
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {  // until the housekeeper is done and a step opens the window
    rankings.Step(now);
    const Result<uint64_t> card = rankings.Card("all", "20261123");
    if (!card.ok() || *card != 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "day 1 never opened";
    std::this_thread::yield();
  }
  while (rankings.Step(now)) {
  }
  EXPECT_EQ(*rankings.Card("all", "20261123"), kProducts);
  const RankWeights weights = rankings.Weights("all").weights;
  for (uint64_t p = 0; p < kProducts; p += 997) {
    auto day1 = rankings.Signals("all", "20261123", p);
    ASSERT_TRUE(day1.ok() && day1->has_value()) << p;
    EXPECT_NEAR((*day1)->carried, weights.carry * weights.view, 1e-12) << p;
  }
}

TEST_F(RankingTest, WeightChangeRescores) {
  const int64_t now = kDay0 + 1000;
  ASSERT_TRUE(*Event("v", RankEventKind::kView, 1, now, now));
  ASSERT_TRUE(*Event("l", RankEventKind::kLike, 2, now, now));
  EXPECT_EQ((*rankings_.Top("all", "20261122", 0, 1))[0].product, 2u);
  ASSERT_TRUE(rankings_.SetWeights("all", {5, 1, 1, 0.2}).ok());
  EXPECT_TRUE(rankings_.Weights("all").rescoring);
  // A second change waits for the first one's re-score.
  EXPECT_EQ(rankings_.SetWeights("all", {1, 1, 1, 0.1}).code(), StatusCode::kBusy);
  FinishSteps(now);
  EXPECT_FALSE(rankings_.Weights("all").rescoring);
  EXPECT_EQ((*rankings_.Top("all", "20261122", 0, 1))[0].product, 1u);
  EXPECT_NEAR(Score("20261122", 1), 5, 1e-12);
  EXPECT_EQ(rankings_.WeightsOf("all", "20261122", 1)->view, 5);
  EXPECT_FALSE(rankings_.SetWeights("all", {1, 1, 1, 1.5}).ok());
  EXPECT_FALSE(rankings_.SetWeights("all", {NAN, 1, 1, 0.1}).ok());
  EXPECT_EQ(rankings_.Weights("all").weights.view, 5);
}

// A weight change re-scores a part per step while events go on in both windows: every product
// is scored with one set of weights at every moment, and once the re-score is done the board
// equals one computed from scratch with the new weights (carry-over included).
TEST_F(RankingTest, WeightChangeRescoresInPartsWhileEventsArrive) {
  constexpr uint64_t kProducts = 2000;
  int64_t now = kDay0 + kDayMs - 60'000;  // 23:59: the next window opens
  std::mt19937 random(7);
  int next_id = 0;
  const auto random_event = [&](int64_t ts) {
    const uint64_t product = random() % kProducts;
    const auto kind = static_cast<RankEventKind>(random() % 4);
    ASSERT_TRUE(Event("e" + std::to_string(next_id++), kind, product, ts, now,
                      kind == RankEventKind::kOrder ? 2 : 0,
                      kind == RankEventKind::kOrder ? 1000 : 0).ok());
  };
  for (int i = 0; i < 6000; ++i) random_event(now);
  FinishSteps(now);
  now += 120'000;  // 00:01 of the next day
  for (int i = 0; i < 3000; ++i) random_event(now);
  const RankWeights weights{0.5, 2, 0.25, 0.3};
  ASSERT_TRUE(rankings_.SetWeights("all", weights).ok());
  int steps = 0;
  while (rankings_.Weights("all").rescoring) {
    rankings_.Step(now);
    ++steps;
    for (int i = 0; i < 5; ++i) random_event(now - 90'000 * (i % 2));  // both days
    // Mid-way, each product's score is its signals under the weights it reports.
    const uint64_t product = random() % kProducts;
    for (const char* day : {"20261122", "20261123"}) {
      auto signals = rankings_.Signals("all", day, product);
      ASSERT_TRUE(signals.ok());
      if (!signals->has_value()) continue;
      const RankWeights used = *rankings_.WeightsOf("all", day, product);
      const RankSignals& s = **signals;
      EXPECT_NEAR(s.score,
                  used.view * s.views + used.like * s.likes + used.order * s.order_sum +
                      s.carried,
                  1e-9);
    }
  }
  EXPECT_GT(steps, 256);  // two windows of 256 parts, a part per step
  size_t checked = 0;
  for (uint64_t product = 0; product < kProducts; ++product) {
    auto first_signals = rankings_.Signals("all", "20261122", product);
    auto second = rankings_.Signals("all", "20261123", product);
    ASSERT_TRUE(first_signals.ok() && second.ok());
    if (!first_signals->has_value()) continue;  // no event that day
    ++checked;
    const RankSignals& first = **first_signals;
    const double first_score = weights.view * first.views + weights.like * first.likes +
                               weights.order * first.order_sum;
    EXPECT_NEAR(first.score, first_score, 1e-9) << product;
    ASSERT_TRUE(second->has_value()) << product << " was carried over";
    const RankSignals& s = **second;
    EXPECT_NEAR(s.carried, weights.carry * first_score, 1e-9) << product;
    EXPECT_NEAR(s.score,
                weights.view * s.views + weights.like * s.likes + weights.order * s.order_sum +
                    s.carried,
                1e-9)
        << product;
  }
  EXPECT_GT(checked, kProducts * 9 / 10);
}

TEST_F(RankingTest, TopPagesAndRanksAreOneBased) {
  const int64_t now = kDay0 + 1000;
  for (uint64_t p = 1; p <= 25; ++p) {
    for (uint64_t v = 0; v < p; ++v) {
      ASSERT_TRUE(*Event(std::to_string(p) + "-" + std::to_string(v), RankEventKind::kView, p,
                         now, now));
    }
  }
  auto page = rankings_.Top("all", "20261122", 20, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ((*page)[0].product, 5u);
  auto of = rankings_.Of("all", "20261122", {25, 1, 99});
  ASSERT_TRUE(of.ok());
  EXPECT_EQ((*of)[0]->rank, 1u);
  EXPECT_EQ((*of)[1]->rank, 25u);
  EXPECT_FALSE((*of)[2].has_value());
  // A name that is not a day names a period board (the server validates period names).
  EXPECT_TRUE(rankings_.Top("all", "2026-11-22", 0, 1)->empty());
}

TEST_F(RankingTest, WindowsExpireAfterRetention) {
  int64_t now = kDay0 + 1000;
  ASSERT_TRUE(*Event("a", RankEventKind::kView, 1, now, now));
  now = kDay0 + 2 * kDayMs;
  rankings_.Step(now);
  EXPECT_EQ(*rankings_.Card("all", "20261122"), 0u);
  EXPECT_FALSE(Event("b", RankEventKind::kView, 1, kDay0 + 5, now).ok());
}


// All of a day's raw signals through ScanDay, by product; every product exactly once.
std::map<uint64_t, DaySignals> ScanAll(Rankings& rankings, std::string_view day, int64_t now,
                                       size_t count) {
  std::map<uint64_t, DaySignals> all;
  uint64_t cursor = 0;
  do {
    auto chunk = rankings.ScanDay("all", day, cursor, count, now);
    EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
    if (!chunk.ok()) break;
    if (chunk->next_cursor != 0) {
      EXPECT_GE(chunk->entries.size(), count);
    }
    for (const DaySignals& signals : chunk->entries) {
      EXPECT_TRUE(all.emplace(signals.product, signals).second) << signals.product << " twice";
    }
    cursor = chunk->next_cursor;
  } while (cursor != 0);
  return all;
}

TEST_F(RankingTest, ExpiredDaysKeepTheirRawSignalsInAnArchive) {
  constexpr uint64_t kProducts = 3000;
  int64_t now = kDay0 + 1000;
  std::map<uint64_t, DaySignals> expected;
  for (uint64_t product = 0; product < kProducts; ++product) {
    for (uint64_t i = 0; i <= product % 3; ++i) {
      ASSERT_TRUE(*Event("v" + std::to_string(product) + "/" + std::to_string(i),
                         RankEventKind::kView, product, now, now));
    }
    ASSERT_TRUE(*Event("o" + std::to_string(product), RankEventKind::kOrder, product, now, now,
                       1, static_cast<int64_t>(product)));
    if (product % 5 == 0) {
      ASSERT_TRUE(*Event("u" + std::to_string(product), RankEventKind::kUnlike, product, now,
                         now));
    }
    expected[product] = {product, static_cast<int64_t>(product % 3 + 1),
                         product % 5 == 0 ? -1 : 0, std::log1p(static_cast<double>(product))};
  }
  const auto check = [&](const std::map<uint64_t, DaySignals>& got) {
    ASSERT_EQ(got.size(), expected.size());
    for (const auto& [product, signals] : expected) {
      const DaySignals& seen = got.at(product);
      EXPECT_EQ(seen.views, signals.views);
      EXPECT_EQ(seen.likes, signals.likes);
      EXPECT_EQ(seen.order_sum, signals.order_sum);
    }
  };
  check(ScanAll(rankings_, "20261122", now, 100));

  // Expired: the board and event ids go; the signals read the same while the stepper moves
  // them into the archive, and after.
  now = kDay0 + 2 * kDayMs;
  EXPECT_TRUE(rankings_.Step(now));  // the first slice of the archive's conversion
  EXPECT_EQ(*rankings_.Card("all", "20261122"), 0u);
  check(ScanAll(rankings_, "20261122", now, 100));
  FinishSteps(now);
  check(ScanAll(rankings_, "20261122", now, 1000));
  EXPECT_FALSE(Event("late", RankEventKind::kView, 1, kDay0 + 5, now).ok());

  // Kept through the end of the next month (December), gone in January.
  const int64_t december_31 = kDay0 + 39 * kDayMs;
  FinishSteps(december_31);
  check(ScanAll(rankings_, "20261122", december_31, 4096));
  const int64_t january_1 = december_31 + kDayMs;
  FinishSteps(january_1);
  auto gone = rankings_.ScanDay("all", "20261122", 0, 10, january_1);
  EXPECT_EQ(gone.status().code(), StatusCode::kInvalidArgument);
  std::vector<std::string> chunks;
  rankings_.AppendSnapshotChunks(&chunks);
  size_t bytes = 0;
  for (const std::string& chunk : chunks) bytes += chunk.size();
  EXPECT_LT(bytes, 200u);  // weights only: the archive went with December
}

TEST_F(RankingTest, ScanYieldsEachProductOnceWhileEventsArrive) {
  const int64_t now = kDay0 + 1000;
  for (uint64_t product = 0; product < 2000; ++product) {
    ASSERT_TRUE(*Event("a" + std::to_string(product), RankEventKind::kView, product, now, now));
  }
  std::map<uint64_t, int> seen;
  uint64_t cursor = 0;
  uint64_t next_product = 1'000'000;
  do {
    auto chunk = rankings_.ScanDay("all", "20261122", cursor, 10, now);
    ASSERT_TRUE(chunk.ok());
    for (const DaySignals& signals : chunk->entries) ++seen[signals.product];
    // Between chunks: new products, and more views on old ones.
    for (int i = 0; i < 20; ++i, ++next_product) {
      ASSERT_TRUE(*Event("b" + std::to_string(next_product), RankEventKind::kView, next_product,
                         now, now));
      ASSERT_TRUE(*Event("c" + std::to_string(next_product), RankEventKind::kView,
                         next_product % 2000, now, now));
    }
    cursor = chunk->next_cursor;
  } while (cursor != 0);
  for (uint64_t product = 0; product < 2000; ++product) EXPECT_EQ(seen[product], 1) << product;
  for (const auto& [product, times] : seen) EXPECT_EQ(times, 1) << product;

  EXPECT_EQ(rankings_.ScanDay("all", "20261122", 256, 10, now).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(rankings_.ScanDay("all", "2026-11-22", 0, 10, now).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(rankings_.ScanDay("all", "20261122", 0, 0, now).status().code(),
            StatusCode::kInvalidArgument);
  auto future = rankings_.ScanDay("all", "20270101", 0, 10, now);
  ASSERT_TRUE(future.ok());
  EXPECT_TRUE(future->entries.empty());
  EXPECT_EQ(future->next_cursor, 0u);
}

TEST_F(RankingTest, ScanSkipsProductsOnlyCarriedIn) {
  const int64_t now = kDay0 + kDayMs - 1000;  // 23:59:59: the next day's window opens
  ASSERT_TRUE(*Event("a", RankEventKind::kView, 1, now, now));
  ASSERT_TRUE(*Event("b", RankEventKind::kView, 2, now, now));
  FinishSteps(now);
  ASSERT_GT(Score("20261123", 1), 0);  // carried in
  ASSERT_TRUE(*Event("c", RankEventKind::kLike, 2, now + 2000, now + 2000));
  const auto next_day = ScanAll(rankings_, "20261123", now + 2000, 10);
  ASSERT_EQ(next_day.size(), 1u);
  EXPECT_EQ(next_day.begin()->second, (DaySignals{2, 0, 1, 0}));
}

TEST_F(RankingTest, PublishSwapsAWholePeriodBoard) {
  ASSERT_EQ(*rankings_.Publish("all", "2026W47", {{1, 5.0}, {2, 7.5}, {3, 1.0}}), 3u);
  auto top = rankings_.Top("all", "2026W47", 0, 10);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 3u);
  EXPECT_EQ((*top)[0].product, 2u);
  EXPECT_EQ((*top)[2].product, 3u);
  EXPECT_EQ((*rankings_.Of("all", "2026W47", {1}))[0]->rank, 2u);

  // Bad boards change nothing.
  EXPECT_FALSE(rankings_.Publish("all", "2026W47", {{4, 1.0}, {4, 2.0}}).ok());
  EXPECT_FALSE(rankings_.Publish("all", "2026W47", {{4, INFINITY}}).ok());
  EXPECT_FALSE(rankings_.Publish("all", "20261122", {{4, 1.0}}).ok());
  std::vector<Rankings::Entry> too_many(kRankBoardMembersMax + 1);
  for (size_t i = 0; i < too_many.size(); ++i) too_many[i] = {i, 1.0};
  EXPECT_FALSE(rankings_.Publish("all", "2026W47", too_many).ok());
  EXPECT_EQ(*rankings_.Card("all", "2026W47"), 3u);

  // A publish replaces the board whole.
  ASSERT_EQ(*rankings_.Publish("all", "2026W47", {{9, 2.0}}), 1u);
  EXPECT_EQ(*rankings_.Card("all", "2026W47"), 1u);
  EXPECT_FALSE((*rankings_.Of("all", "2026W47", {2}))[0].has_value());
  EXPECT_EQ(*rankings_.Card("all", "202611"), 0u);  // never published: empty
  EXPECT_EQ(rankings_.Signals("all", "2026W47", 9).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RankingTest, ArchivesAndPeriodBoardsGoThroughSnapshotChunks) {
  int64_t now = kDay0 + 1000;
  for (uint64_t product = 0; product < 500; ++product) {
    ASSERT_TRUE(*Event("e" + std::to_string(product), RankEventKind::kLike, product, now, now));
  }
  ASSERT_TRUE(rankings_.Publish("all", "202611", {{7, 3.5}, {8, 2.5}}).ok());
  now = kDay0 + 2 * kDayMs;
  ASSERT_TRUE(rankings_.Step(now));  // archive half converted: the chunks hold all of it
  std::vector<std::string> chunks;
  rankings_.AppendSnapshotChunks(&chunks);
  Rankings loaded;
  for (const std::string& chunk : chunks) ASSERT_TRUE(loaded.ApplyEntries(chunk).ok());
  const auto scanned = ScanAll(loaded, "20261122", now, 64);
  EXPECT_EQ(scanned, ScanAll(rankings_, "20261122", now, 64));
  EXPECT_EQ(scanned.size(), 500u);
  auto top = loaded.Top("all", "202611", 0, 10);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].product, 7u);
  EXPECT_EQ((*top)[0].score, 3.5);
}

}  // namespace
}  // namespace podium::storage
