// StockTable tests: the behaviour of each call on good and bad input, a table big enough to
// span many levels, and the races the design is for (no oversell on one hot counter, creation
// racing with reservations, reserve/release bookkeeping that must add up exactly). The race
// tests start their threads together on a latch and check exact totals, never timings.
#include "storage/stock_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "storage/limits.h"

namespace podium::storage {
namespace {

// Sanitizers make every atomic operation many times slower; the race tests do fewer attempts
// there (still far more attempts than units, so the shortage path is always exercised).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr bool kUnderSanitizer = true;
#else
constexpr bool kUnderSanitizer = false;
#endif
#else
constexpr bool kUnderSanitizer = false;
#endif

constexpr uint64_t kProduct = 42;

int64_t UnitsOf(const StockTable& table, uint64_t product) {
  Result<int64_t> units = table.Get(product);
  EXPECT_TRUE(units.ok()) << units.status().ToString();
  return units.ok() ? *units : -1;
}

// A small deterministic generator, one per thread, so a failing run can be replayed.
class XorShift {
 public:
  explicit XorShift(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15 + 1) {}
  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  uint64_t state_;
};

TEST(StockTableTest, GetOfUnknownProductIsNotFound) {
  StockTable table;
  EXPECT_EQ(table.Get(kProduct).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table.size(), 0u);
}

TEST(StockTableTest, SetCreatesAndOverwrites) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, 10).ok());
  EXPECT_EQ(UnitsOf(table, kProduct), 10);
  ASSERT_TRUE(table.Set(kProduct, 0).ok());
  EXPECT_EQ(UnitsOf(table, kProduct), 0);
  ASSERT_TRUE(table.Set(kProduct, kStockUnitsMax).ok());
  EXPECT_EQ(UnitsOf(table, kProduct), kStockUnitsMax);
  EXPECT_EQ(table.size(), 1u);
}

TEST(StockTableTest, AddCreatesAtZeroThenRestocks) {
  StockTable table;
  Result<int64_t> first = table.Add(kProduct, 5);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 5);
  Result<int64_t> second = table.Add(kProduct, 7);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 12);
  EXPECT_EQ(UnitsOf(table, kProduct), 12);
  EXPECT_EQ(table.size(), 1u);
}

TEST(StockTableTest, AddUpToTheMaxIsAllowedPastItRefused) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, kStockUnitsMax - 3).ok());
  Result<int64_t> past = table.Add(kProduct, 4);
  EXPECT_EQ(past.status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(UnitsOf(table, kProduct), kStockUnitsMax - 3);
  Result<int64_t> exact = table.Add(kProduct, 3);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, kStockUnitsMax);
  EXPECT_EQ(table.Add(kProduct, 1).status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(UnitsOf(table, kProduct), kStockUnitsMax);
}

TEST(StockTableTest, TryReserveTakesUnitsUntilShort) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, 10).ok());
  Result<Reservation> first = table.TryReserve(kProduct, 4);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->reserved);
  EXPECT_EQ(first->units, 6);

  Result<Reservation> short_of = table.TryReserve(kProduct, 7);
  ASSERT_TRUE(short_of.ok());
  EXPECT_FALSE(short_of->reserved);
  EXPECT_EQ(short_of->units, 6);  // what is available, unchanged
  EXPECT_EQ(UnitsOf(table, kProduct), 6);

  Result<Reservation> all = table.TryReserve(kProduct, 6);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->reserved);
  EXPECT_EQ(all->units, 0);

  Result<Reservation> empty = table.TryReserve(kProduct, 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->reserved);
  EXPECT_EQ(empty->units, 0);
  EXPECT_EQ(UnitsOf(table, kProduct), 0);
}

TEST(StockTableTest, TryReserveOfUnknownProductIsNotFoundAndCreatesNothing) {
  StockTable table;
  EXPECT_EQ(table.TryReserve(kProduct, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Get(kProduct).status().code(), StatusCode::kNotFound);
}

TEST(StockTableTest, ReleaseGivesUnitsBack) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, 10).ok());
  ASSERT_TRUE(table.TryReserve(kProduct, 8).ok());
  Result<int64_t> released = table.Release(kProduct, 3);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 5);
  EXPECT_EQ(UnitsOf(table, kProduct), 5);
}

TEST(StockTableTest, ReleaseOfUnknownProductIsNotFoundAndCreatesNothing) {
  StockTable table;
  EXPECT_EQ(table.Release(kProduct, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table.size(), 0u);
}

TEST(StockTableTest, ReleasePastTheMaxIsRefused) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, kStockUnitsMax).ok());
  EXPECT_EQ(table.Release(kProduct, 1).status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(UnitsOf(table, kProduct), kStockUnitsMax);
}

TEST(StockTableTest, EdgeProductIdsWork) {
  StockTable table;
  ASSERT_TRUE(table.Set(0, 1).ok());
  ASSERT_TRUE(table.Set(kProductIdMax, 2).ok());
  EXPECT_EQ(UnitsOf(table, 0), 1);
  EXPECT_EQ(UnitsOf(table, kProductIdMax), 2);
  EXPECT_EQ(table.size(), 2u);
}

TEST(StockTableTest, ProductIdPastTheMaxIsRefusedEverywhere) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, 10).ok());
  for (uint64_t bad : {kProductIdMax + 1, uint64_t{UINT64_MAX}}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(table.Get(bad).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.Set(bad, 1).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.Add(bad, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.TryReserve(bad, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.Release(bad, 1).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(UnitsOf(table, kProduct), 10);
  int visited = 0;
  table.ForEach([&](uint64_t, int64_t) { ++visited; });
  EXPECT_EQ(visited, 1);
}

TEST(StockTableTest, UnitsOutOfRangeAreRefusedAndChangeNothing) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, 10).ok());
  constexpr uint64_t kMissing = kProduct + 1;
  for (int64_t bad : {int64_t{-1}, kStockUnitsMax + 1, INT64_MIN, INT64_MAX}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(table.Set(kProduct, bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.Set(kMissing, bad).code(), StatusCode::kInvalidArgument);
  }
  for (int64_t bad : {int64_t{0}, int64_t{-1}, kStockUnitsMax + 1, INT64_MIN, INT64_MAX}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(table.Add(kProduct, bad).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.Add(kMissing, bad).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.TryReserve(kProduct, bad).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(table.Release(kProduct, bad).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(UnitsOf(table, kProduct), 10);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.Get(kMissing).status().code(), StatusCode::kNotFound);
}

TEST(StockTableTest, ErrorMessagesNameTheOffendingValue) {
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, kStockUnitsMax).ok());
  EXPECT_NE(table.Get(kProductIdMax + 1).status().message().find("9223372036854775808"),
            std::string::npos);
  EXPECT_NE(table.TryReserve(kProduct, -5).status().message().find("-5"), std::string::npos);
  EXPECT_NE(table.Get(7).status().message().find("7"), std::string::npos);
  EXPECT_NE(table.Add(kProduct, 1).status().message().find("kStockUnitsMax"), std::string::npos);
}

TEST(StockTableTest, FullTableRefusesNewCountersButServesExistingOnes) {
  constexpr size_t kCountersMax = 3;
  StockTable table(kCountersMax);
  for (uint64_t product = 0; product < kCountersMax; ++product) {
    ASSERT_TRUE(table.Set(product, 1).ok());
  }
  EXPECT_EQ(table.Set(100, 1).code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(table.Add(101, 1).status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(table.size(), kCountersMax);
  EXPECT_EQ(table.Get(100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table.Get(101).status().code(), StatusCode::kNotFound);
  // Existing counters still change: the bound is on creation only.
  ASSERT_TRUE(table.Set(0, 9).ok());
  ASSERT_TRUE(table.Add(1, 9).ok());
  EXPECT_EQ(UnitsOf(table, 0), 9);
  EXPECT_EQ(UnitsOf(table, 1), 10);
}

// 200k counters pass the fill limits of the first several levels; every one must stay
// reachable with its own value, and ids that were never created must stay NotFound.
TEST(StockTableTest, ManyProductsAcrossLevelsAreAllReadable) {
  constexpr uint64_t kProducts = 200'000;
  constexpr uint64_t kStride = 1'000'003;  // ids spread out, as a real catalog's are
  auto units_for = [](uint64_t i) { return static_cast<int64_t>(i % 1000 + i / 7); };
  StockTable table;
  for (uint64_t i = 0; i < kProducts; ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(table.Set(i * kStride, units_for(i)).ok());
    } else {
      ASSERT_TRUE(table.Add(i * kStride, units_for(i)).ok());
    }
  }
  EXPECT_EQ(table.size(), kProducts);
  for (uint64_t i = 0; i < kProducts; ++i) {
    Result<int64_t> units = table.Get(i * kStride);
    ASSERT_TRUE(units.ok()) << "product " << i * kStride << ": " << units.status().ToString();
    ASSERT_EQ(*units, units_for(i)) << "product " << i * kStride;
    ASSERT_EQ(table.Get(i * kStride + 1).status().code(), StatusCode::kNotFound);
  }
  uint64_t visited = 0;
  table.ForEach([&](uint64_t product, int64_t units) {
    ++visited;
    EXPECT_EQ(product % kStride, 0u);
    EXPECT_EQ(units, units_for(product / kStride)) << "product " << product;
  });
  EXPECT_EQ(visited, kProducts);
}

// The race the design exists for: many threads reserve one unit at a time from one counter
// while an observer reads it. Exactly the initial units succeed, each success leaves a
// different count behind (no two threads took the same unit), and the observer never sees a
// negative value or the count going back up.
TEST(StockTableRaceTest, OneHotCounterIsNeverOversold) {
  constexpr int kReserverThreads = 8;
  constexpr int64_t kInitialUnits = 100'000;
  constexpr int64_t kAttemptsPerThread = kUnderSanitizer ? 200'000 : 1'000'000;
  static_assert(kReserverThreads * kAttemptsPerThread > 2 * kInitialUnits,
                "most attempts must meet a shortage");
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, kInitialUnits).ok());

  struct ReserverTally {
    int64_t reserved = 0;
    int64_t bad_answers = 0;
    std::vector<int64_t> left_after;  // Reservation::units of each success
  };
  std::vector<ReserverTally> tallies(kReserverThreads);
  std::atomic<int> reservers_running{kReserverThreads};
  int64_t observer_reads = 0;
  int64_t observer_bad_reads = 0;
  int64_t observer_first_bad = 0;
  std::latch start(kReserverThreads + 1);
  {
    std::vector<std::jthread> threads;
    threads.emplace_back([&] {
      start.arrive_and_wait();
      int64_t last = kInitialUnits;
      do {
        Result<int64_t> units = table.Get(kProduct);
        ++observer_reads;
        // Only reservations run, so a later read can never show more units than an earlier.
        if (!units.ok() || *units < 0 || *units > last) {
          if (observer_bad_reads++ == 0) observer_first_bad = units.ok() ? *units : -1;
        } else {
          last = *units;
        }
      } while (reservers_running.load(std::memory_order_acquire) > 0);
    });
    for (int thread = 0; thread < kReserverThreads; ++thread) {
      threads.emplace_back([&, thread] {
        ReserverTally& tally = tallies[thread];
        start.arrive_and_wait();
        for (int64_t attempt = 0; attempt < kAttemptsPerThread; ++attempt) {
          Result<Reservation> result = table.TryReserve(kProduct, 1);
          if (!result.ok() || result->units < 0 || (!result->reserved && result->units != 0)) {
            ++tally.bad_answers;
          } else if (result->reserved) {
            ++tally.reserved;
            tally.left_after.push_back(result->units);
          }
        }
        reservers_running.fetch_sub(1, std::memory_order_release);
      });
    }
  }

  int64_t reserved = 0;
  std::vector<bool> left_after_seen(kInitialUnits, false);
  for (const ReserverTally& tally : tallies) {
    EXPECT_EQ(tally.bad_answers, 0);
    reserved += tally.reserved;
    for (int64_t left : tally.left_after) {
      ASSERT_TRUE(left >= 0 && left < kInitialUnits) << left;
      ASSERT_FALSE(left_after_seen[left]) << "two reservations both left " << left << " units";
      left_after_seen[left] = true;
    }
  }
  EXPECT_EQ(reserved, kInitialUnits);
  EXPECT_EQ(UnitsOf(table, kProduct), 0);
  EXPECT_GT(observer_reads, 0);
  EXPECT_EQ(observer_bad_reads, 0) << "first bad read: " << observer_first_bad;
}

// Creators add counters (distinct ids per thread, plus shared ids every creator restocks, so
// creations of one product race) while readers reserve from older counters and read the ones
// being created. A reader must see a new counter either missing or with its initial units
// (never a zero or garbage from a half-made slot); afterwards every value is exact and no
// product has two counters.
class CreationRace {
 public:
  static constexpr int kCreatorThreads = 4;
  static constexpr int kReaderThreads = 2;
  static constexpr uint64_t kDistinctPerCreator = kUnderSanitizer ? 15'000 : 50'000;
  static constexpr uint64_t kShared = 2'000;
  static constexpr uint64_t kPreCreated = 64;  // ids [0, kPreCreated)
  static constexpr int64_t kPreCreatedUnits = 1'000'000;
  static constexpr int64_t kReadsPerThread = kUnderSanitizer ? 50'000 : 400'000;
  static constexpr uint64_t kSharedFirst = uint64_t{1} << 40;
  static_assert(kShared <= kDistinctPerCreator, "shared restocks interleave with creations");

  static uint64_t DistinctId(int creator, uint64_t i) {
    return (static_cast<uint64_t>(creator + 1) << 48) + i;
  }
  static int64_t DistinctUnits(uint64_t product) { return static_cast<int64_t>(product % 997 + 1); }

  StockTable table;
  std::vector<int64_t> bad_answers = std::vector<int64_t>(kCreatorThreads + kReaderThreads, 0);
  // reserved[reader][product]: units each reader took from each pre-created product.
  std::vector<std::vector<int64_t>> reserved =
      std::vector<std::vector<int64_t>>(kReaderThreads, std::vector<int64_t>(kPreCreated, 0));
  // Each creator's next index, so readers can aim at counters being created right now.
  std::vector<std::atomic<uint64_t>> frontier = std::vector<std::atomic<uint64_t>>(kCreatorThreads);

  void Create(int creator) {
    int64_t& bad = bad_answers[creator];
    for (uint64_t i = 0; i < kDistinctPerCreator; ++i) {
      frontier[creator].store(i, std::memory_order_relaxed);
      const uint64_t product = DistinctId(creator, i);
      if (i % 2 == 0) {
        bad += !table.Set(product, DistinctUnits(product)).ok();
      } else {
        Result<int64_t> added = table.Add(product, DistinctUnits(product));
        bad += !added.ok() || *added != DistinctUnits(product);
      }
      // Every creator walks the shared ids in the same order, so they race to create each.
      if (i < kShared) bad += !table.Add(kSharedFirst + i, 1).ok();
    }
  }

  void ReserveAndRead(int reader) {
    int64_t& bad = bad_answers[kCreatorThreads + reader];
    XorShift random(reader + 1);
    for (int64_t i = 0; i < kReadsPerThread; ++i) {
      const uint64_t product = random.Next() % kPreCreated;
      Result<Reservation> result = table.TryReserve(product, 1);
      bad += !result.ok() || !result->reserved;
      if (result.ok() && result->reserved) ++reserved[reader][product];

      const int creator = static_cast<int>(random.Next() % kCreatorThreads);
      const uint64_t next = frontier[creator].load(std::memory_order_relaxed);
      const uint64_t fresh = DistinctId(creator, next + random.Next() % 2);
      Result<int64_t> units = table.Get(fresh);
      if (units.ok()) {
        bad += *units != DistinctUnits(fresh);
      } else {
        bad += units.status().code() != StatusCode::kNotFound;
      }
      Result<int64_t> shared = table.Get(kSharedFirst + std::min(next, kShared - 1));
      if (shared.ok()) bad += *shared < 1 || *shared > kCreatorThreads;
    }
  }

  void ExpectExactValues() {
    EXPECT_EQ(table.size(), kPreCreated + kCreatorThreads * kDistinctPerCreator + kShared);
    for (uint64_t product = 0; product < kPreCreated; ++product) {
      int64_t taken = 0;
      for (const std::vector<int64_t>& by_product : reserved) taken += by_product[product];
      EXPECT_EQ(UnitsOf(table, product), kPreCreatedUnits - taken) << "product " << product;
    }
    for (uint64_t i = 0; i < kShared; ++i) {
      ASSERT_EQ(UnitsOf(table, kSharedFirst + i), kCreatorThreads) << "shared " << i;
    }
    for (int creator = 0; creator < kCreatorThreads; ++creator) {
      for (uint64_t i = 0; i < kDistinctPerCreator; ++i) {
        const uint64_t product = DistinctId(creator, i);
        ASSERT_EQ(UnitsOf(table, product), DistinctUnits(product)) << "product " << product;
      }
    }
  }
};

TEST(StockTableRaceTest, CreationRacingWithReadersAndReserversLosesNothing) {
  CreationRace race;
  for (uint64_t product = 0; product < CreationRace::kPreCreated; ++product) {
    ASSERT_TRUE(race.table.Set(product, CreationRace::kPreCreatedUnits).ok());
  }
  std::latch start(CreationRace::kCreatorThreads + CreationRace::kReaderThreads);
  {
    std::vector<std::jthread> threads;
    for (int creator = 0; creator < CreationRace::kCreatorThreads; ++creator) {
      threads.emplace_back([&, creator] {
        start.arrive_and_wait();
        race.Create(creator);
      });
    }
    for (int reader = 0; reader < CreationRace::kReaderThreads; ++reader) {
      threads.emplace_back([&, reader] {
        start.arrive_and_wait();
        race.ReserveAndRead(reader);
      });
    }
  }
  for (size_t thread = 0; thread < race.bad_answers.size(); ++thread) {
    EXPECT_EQ(race.bad_answers[thread], 0) << "thread " << thread;
  }
  race.ExpectExactValues();
  std::unordered_set<uint64_t> visited;
  size_t visits = 0;
  race.table.ForEach([&](uint64_t product, int64_t) {
    ++visits;
    visited.insert(product);
  });
  EXPECT_EQ(visits, race.table.size());
  EXPECT_EQ(visited.size(), visits) << "a product has more than one counter";
}

// Several threads create the same new product at the same moment, round after round: each
// product must end with exactly one counter holding every thread's restock. A blocking barrier
// wakes threads microseconds apart, far longer than the window between a failed lock-free
// lookup and the creation mutex, so the threads meet on a spinning one instead.
TEST(StockTableRaceTest, SimultaneousCreationOfOneProductMakesOneCounter) {
  constexpr int kThreads = 4;
  constexpr uint64_t kRounds = kUnderSanitizer ? 5'000 : 50'000;
  constexpr uint64_t kFirstProduct = 1'000;
  StockTable table;
  std::vector<int64_t> bad_answers(kThreads, 0);
  std::atomic<uint64_t> arrivals{0};
  {
    std::vector<std::jthread> threads;
    for (int thread = 0; thread < kThreads; ++thread) {
      threads.emplace_back([&, thread] {
        for (uint64_t round = 0; round < kRounds; ++round) {
          arrivals.fetch_add(1, std::memory_order_acq_rel);
          while (arrivals.load(std::memory_order_acquire) < (round + 1) * kThreads) {
            std::this_thread::yield();  // lets a descheduled straggler run on a busy machine
          }
          Result<int64_t> added = table.Add(kFirstProduct + round, 1);
          bad_answers[thread] += !added.ok() || *added < 1 || *added > kThreads;
        }
      });
    }
  }
  for (int thread = 0; thread < kThreads; ++thread) EXPECT_EQ(bad_answers[thread], 0);
  EXPECT_EQ(table.size(), kRounds) << "a product got more than one counter";
  for (uint64_t round = 0; round < kRounds; ++round) {
    ASSERT_EQ(UnitsOf(table, kFirstProduct + round), kThreads) << "round " << round;
  }
}

// Holds taken and given back (and restocks) from several threads on one counter kept near
// zero, so shortages keep happening: the final count must equal
// initial - reserved + released + restocked exactly.
TEST(StockTableRaceTest, ReservesReleasesAndRestocksAddUpExactly) {
  constexpr int kThreads = 4;
  constexpr int64_t kInitialUnits = 200;
  constexpr int kOperationsPerThread = kUnderSanitizer ? 100'000 : 500'000;
  constexpr uint64_t kUnitsPerOperationMax = 4;
  struct Tally {
    int64_t reserved = 0, released = 0, restocked = 0, shortages = 0, bad_answers = 0;
  };
  StockTable table;
  ASSERT_TRUE(table.Set(kProduct, kInitialUnits).ok());
  std::vector<Tally> tallies(kThreads);
  std::latch start(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int thread = 0; thread < kThreads; ++thread) {
      threads.emplace_back([&, thread] {
        Tally& tally = tallies[thread];
        XorShift random(100 + thread);
        int64_t held = 0;
        start.arrive_and_wait();
        for (int operation = 0; operation < kOperationsPerThread; ++operation) {
          // 5 in 8 reserve, 2 in 8 give back part of a hold, 1 in 8 restock: the counter
          // drains and then lives at the shortage edge.
          const uint64_t kind = random.Next() % 8;
          const int64_t units = static_cast<int64_t>(1 + random.Next() % kUnitsPerOperationMax);
          if (kind < 5) {
            Result<Reservation> result = table.TryReserve(kProduct, units);
            if (!result.ok() || result->units < 0) {
              ++tally.bad_answers;
            } else if (result->reserved) {
              held += units;
              tally.reserved += units;
            } else {
              ++tally.shortages;
              tally.bad_answers += result->units >= units;
            }
          } else if (kind < 7) {
            const int64_t give_back = std::min(held, units);
            if (give_back == 0) continue;
            Result<int64_t> result = table.Release(kProduct, give_back);
            tally.bad_answers += !result.ok() || *result < give_back;
            held -= give_back;
            tally.released += give_back;
          } else {
            Result<int64_t> result = table.Add(kProduct, units);
            tally.bad_answers += !result.ok() || *result < units;
            tally.restocked += units;
          }
        }
      });
    }
  }

  int64_t expected = kInitialUnits;
  int64_t shortages = 0;
  for (const Tally& tally : tallies) {
    EXPECT_EQ(tally.bad_answers, 0);
    expected += tally.released + tally.restocked - tally.reserved;
    shortages += tally.shortages;
  }
  EXPECT_EQ(UnitsOf(table, kProduct), expected);
  EXPECT_GT(shortages, 0) << "the counter never ran short: the test lost its edge";
}

// Loading a snapshot creates every counter at once; the table then behaves as if each had been
// created by Set, including creations after it (which need the next, bigger level).
TEST(StockTableTest, CreateAllLoadsEveryCounterAndLaterCreationsWork) {
  StockTable table;
  std::vector<StockTable::Counter> counters;
  for (uint64_t i = 0; i < 5000; ++i) counters.push_back({i * 7919, static_cast<int64_t>(i % 13)});
  counters.push_back({kProductIdMax, kStockUnitsMax});
  ASSERT_TRUE(table.CreateAll(counters).ok());
  EXPECT_EQ(table.size(), counters.size());
  for (const auto& [product, units] : counters) ASSERT_EQ(*table.Get(product), units) << product;
  EXPECT_EQ(table.Get(1).status().code(), StatusCode::kNotFound);
  // Past the loaded level's fill limit: 5001 counters load into 16384 slots, which take 8192.
  for (uint64_t i = 0; i < 20'000; ++i) ASSERT_TRUE(table.Set(i * 7919 + 1, 3).ok());
  EXPECT_EQ(table.size(), counters.size() + 20'000);
  for (const auto& [product, units] : counters) ASSERT_EQ(*table.Get(product), units) << product;
  EXPECT_EQ(*table.Get(7919 * 100 + 1), 3);
  size_t visited = 0;
  table.ForEach([&](uint64_t, int64_t) { ++visited; });
  EXPECT_EQ(visited, table.size());
}

TEST(StockTableTest, CreateAllRefusesDuplicatesAndBadEntries) {
  for (const std::vector<StockTable::Counter>& bad :
       {std::vector<StockTable::Counter>{{1, 5}, {2, 5}, {1, 6}},
        std::vector<StockTable::Counter>{{1, -1}},
        std::vector<StockTable::Counter>{{kProductIdMax + 1, 1}},
        std::vector<StockTable::Counter>{{1, kStockUnitsMax + 1}}}) {
    StockTable table;
    EXPECT_EQ(table.CreateAll(bad).code(), StatusCode::kInvalidArgument);
  }
  StockTable small(2);
  EXPECT_EQ(small.CreateAll({{{1, 1}, {2, 2}, {3, 3}}}).code(), StatusCode::kLimitExceeded);
}

}  // namespace
}  // namespace podium::storage
