// Rankings in-process: the shop's rules (an order outranks three likes, a repeated event counts
// once, late events land in their own window), and the carry-over's properties: exact at every
// moment, applied once, under concurrent events across the rollover.
#include "storage/ranking.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
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
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(t);
      for (int i = 0; i < 20'000; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        const uint64_t product = random() % kProducts;
        // Day 0 (before and after midnight: late events) and day 1's own events.
        const int64_t ts = i % 3 == 0 ? kDay0 + kDayMs + 1000 : kDay0 + 1000 + i;
        const auto kind = static_cast<RankEventKind>(random() % 3);
        ASSERT_TRUE(rankings_.Apply("all", {id, kind, product, ts, 0, 0}, now).ok());
      }
    });
  }
  std::thread stepper([&] {
    while (!done.load()) rankings_.Step(now);
  });
  for (std::thread& thread : threads) thread.join();
  done = true;
  stepper.join();
  FinishSteps(now);
  const RankWeights weights = rankings_.Weights("all");
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

TEST_F(RankingTest, WeightChangeRescores) {
  const int64_t now = kDay0 + 1000;
  ASSERT_TRUE(*Event("v", RankEventKind::kView, 1, now, now));
  ASSERT_TRUE(*Event("l", RankEventKind::kLike, 2, now, now));
  EXPECT_EQ((*rankings_.Top("all", "20261122", 0, 1))[0].product, 2u);
  ASSERT_TRUE(rankings_.SetWeights("all", {5, 1, 1, 0.2}).ok());
  EXPECT_EQ((*rankings_.Top("all", "20261122", 0, 1))[0].product, 1u);
  EXPECT_NEAR(Score("20261122", 1), 5, 1e-12);
  EXPECT_FALSE(rankings_.SetWeights("all", {1, 1, 1, 1.5}).ok());
  EXPECT_FALSE(rankings_.SetWeights("all", {NAN, 1, 1, 0.1}).ok());
  EXPECT_EQ(rankings_.Weights("all").view, 5);
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
  EXPECT_EQ(rankings_.Top("all", "2026-11-22", 0, 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RankingTest, WindowsExpireAfterRetention) {
  int64_t now = kDay0 + 1000;
  ASSERT_TRUE(*Event("a", RankEventKind::kView, 1, now, now));
  now = kDay0 + 2 * kDayMs;
  rankings_.Step(now);
  EXPECT_EQ(*rankings_.Card("all", "20261122"), 0u);
  EXPECT_FALSE(Event("b", RankEventKind::kView, 1, kDay0 + 5, now).ok());
}

}  // namespace
}  // namespace podium::storage
