// Durability of the command families: what the real handlers log, replayed by recovery, gives
// back the live state. Commands run in-process through CommandHarness, from several threads
// at once on one Database (as the event loops do), while snapshots are taken; then the log is
// closed and storage::Recover rebuilds a fresh Database from the directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "server/command_test_util.h"
#include "storage/effect_log.h"
#include "storage/book_effects.h"
#include "storage/effects.h"
#include "storage/recovery.h"

namespace podium::server {
namespace {

using testing::CommandHarness;

// Everything a client can observe, with expired keys left out (replay keeps them until a sweep).
struct Dump {
  std::map<uint64_t, int64_t> stock;
  std::map<std::string, std::pair<std::string, std::optional<int64_t>>> strings;
  std::map<std::string, std::pair<std::optional<int64_t>, std::vector<std::pair<std::string, double>>>>
      sorted_sets;
  std::vector<std::string> book;  // encoded entries, sorted (the book's maps have no order)
  std::map<uint64_t, std::pair<int64_t, int64_t>> held_and_likes;  // derived, per product
  std::vector<uint64_t> product_lists;                              // the catalog's indexes
  // Ranking windows of "all": per window, (product, score, views, likes, order_sum, carried).
  std::map<std::string, std::vector<std::tuple<uint64_t, double, int64_t, int64_t, double, double>>>
      rankings;
  bool operator==(const Dump&) const = default;
};

// The ranking events' days: the test's clocks run from 23:30 on the first, so the second day's
// window opens (building) and is copied while events go on.
constexpr int64_t kRankStartMs = 1'700'004'600'000;  // 2023-11-14 23:30 UTC
const char* const kRankDays[] = {"20231114", "20231115"};

void DumpRankings(Database& db, Dump* dump) {
  for (const char* day : kRankDays) {
    auto top = db.rankings().Top("all", day, 0, size_t{1} << 30);
    if (!top.ok()) {  // still building: finish it, both sides do the same
      while (db.rankings().Step(kRankStartMs)) {
      }
      top = db.rankings().Top("all", day, 0, size_t{1} << 30);
    }
    CHECK(top.ok()) << top.status().ToString();
    auto& rows = dump->rankings[day];
    for (const storage::Rankings::Entry& entry : *top) {
      const storage::RankSignals s = **db.rankings().Signals("all", day, entry.product);
      rows.emplace_back(entry.product, entry.score, s.views, s.likes, s.order_sum, s.carried);
    }
  }
}

constexpr uint64_t kProducts = 8;

void DumpBook(Database& db, Dump* dump) {
  std::string entries;
  db.orders().AppendSnapshotEntries(&entries);
  std::string_view rest = entries;
  while (!rest.empty()) {
    const std::string_view before = rest;
    storage::BookEntry entry;
    CHECK(storage::ReadBookEntry(&rest, &entry).ok());
    dump->book.emplace_back(before.substr(0, before.size() - rest.size()));
  }
  std::sort(dump->book.begin(), dump->book.end());
  for (uint64_t product = 0; product < kProducts; ++product) {
    dump->held_and_likes[product] = {db.orders().Held(product), db.orders().LikeCount(product)};
  }
  using enum storage::ProductSort;
  for (storage::ProductSort sort : {kLatest, kPriceAscending, kLikesDescending}) {
    for (const storage::ProductView& view : db.orders().ListProducts(sort, 0, 100, 1)) {
      dump->product_lists.push_back(view.product.id);
    }
  }
}

Dump DumpOf(Database& db, int64_t now_ms) {
  Dump dump;
  db.stock().ForEach([&](uint64_t product, int64_t units) { dump.stock[product] = units; });
  for (size_t shard = 0; shard < Database::kShardCount; ++shard) {
    db.WithShard(shard, [&](storage::Keyspace& keys) {
      keys.ForEachString([&](std::string_view key, std::string_view value,
                             std::optional<int64_t> deadline) {
        if (!deadline.has_value() || *deadline > now_ms) {
          dump.strings[std::string(key)] = {std::string(value), deadline};
        }
      });
      keys.ForEachSortedSet([&](std::string_view key, const storage::SortedSet& set,
                                std::optional<int64_t> deadline) {
        if (deadline.has_value() && *deadline <= now_ms) return;
        auto& entry = dump.sorted_sets[std::string(key)];
        entry.first = deadline;
        set.RangeByRank(0, set.size() - 1, storage::Order::kAscending,
                        [&](const storage::MemberKey& member, double score) {
                          entry.second.emplace_back(member.ToString(), score);
                        });
      });
    });
  }
  DumpBook(db, &dump);
  DumpRankings(db, &dump);
  return dump;
}

// Products 0..products-1 use the same weights (new or previous, mid re-score) on both sides.
void ExpectSameWeightsInUse(Database& live, Database& recovered,
                            std::initializer_list<const char*> days, uint64_t products) {
  for (uint64_t product = 0; product < products; ++product) {
    for (const char* day : days) {
      auto expected = live.rankings().WeightsOf("all", day, product);
      auto got = recovered.rankings().WeightsOf("all", day, product);
      ASSERT_TRUE(expected.ok() && got.ok());
      EXPECT_EQ(got->view, expected->view) << day << " " << product;
    }
  }
}

class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("podium-persistence-test-" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(env_.CreateDir(dir_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Small segments make many of them, so that snapshots have some to remove.
  std::unique_ptr<storage::EffectLog> OpenLog(
      uint64_t next_sequence, uint64_t segment_bytes_max = storage::kWalSegmentBytesMax) {
    storage::EffectLogOptions options;
    options.fsync = storage::FsyncPolicy::kNo;
    options.writer.segment_bytes_max = segment_bytes_max;
    auto log = storage::EffectLog::Open(&env_, dir_, next_sequence, options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return std::move(log).value();
  }

  storage::PosixEnv env_;
  std::string dir_;
};

// The products the order commands use (0..kProducts-1), each with a brand, a price and stock.
void SetUpCatalog(Database& db) {
  CommandHarness harness(&db);
  harness.Run({"BRAND.PUT", "1", "brand"});
  for (uint64_t product = 0; product < kProducts; ++product) {
    harness.Run({"PRODUCT.PUT", std::to_string(product), "1", std::to_string(100 + product), "p"});
    harness.Run({"STOCK.SET", std::to_string(product), "40"});
  }
}

// One random command on a small key space, so that threads collide on keys and members.
std::vector<std::string> RandomCommand(std::mt19937& random) {
  const auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(random);
  };
  const std::string key = std::to_string(pick(0, 7));
  const std::string member = pick(0, 3) == 0 ? "name" + std::to_string(pick(0, 30))
                                             : std::to_string(pick(0, 60));
  const std::string order = "o" + std::to_string(pick(0, 400));
  const std::string user = std::to_string(pick(0, 5));
  switch (pick(0, 23)) {
    case 21:
    case 22: {
      static const char* const kKinds[] = {"VIEW", "LIKE", "UNLIKE"};
      // Times from the day before to a few minutes ahead: both windows, late events included.
      const int64_t ts = kRankStartMs + pick(-30 * 3600, 60 * 60) * int64_t{1000};
      return {"RANK.EVENT", "all", "e" + std::to_string(pick(0, 5000)), kKinds[pick(0, 2)],
              std::to_string(pick(0, 300)), std::to_string(ts)};
    }
    case 23:
      return {"RANK.EVENT", "all", "e" + std::to_string(pick(0, 5000)), "ORDER",
              std::to_string(pick(0, 300)),
              std::to_string(kRankStartMs + pick(-30 * 3600, 0) * int64_t{1000}), "2", "150"};
    case 14: {
      std::vector<std::string> place = {"ORDER.PLACE", order, user, std::to_string(pick(50, 2000))};
      const int items = pick(1, 3);
      place.push_back(std::to_string(items));
      for (int i = 0; i < items; ++i) {
        place.push_back(std::to_string(pick(0, kProducts - 1)));  // a repeat is refused
        place.push_back(std::to_string(pick(1, 3)));
      }
      if (pick(0, 2) == 0) place.insert(place.end(), {"COUPON", "c" + std::to_string(pick(0, 9))});
      if (pick(0, 2) == 0) place.insert(place.end(), {"POINTS", std::to_string(pick(1, 50))});
      return place;
    }
    case 15:
      return {"ORDER.CONFIRM", order};
    case 16:
      return {"ORDER.CANCEL", order};
    case 17:
      return {"POINTS.CHARGE", user, std::to_string(pick(1, 100))};
    case 18:
      return {"COUPON.ISSUE", "c" + std::to_string(pick(0, 9)), user,
              pick(0, 1) ? "FIXED" : "PERCENT", std::to_string(pick(1, 50))};
    case 19:
      return {"LIKE.ADD", user, std::to_string(pick(0, kProducts - 1))};
    case 20:
      return {"LIKE.DEL", user, std::to_string(pick(0, kProducts - 1))};
    case 0:
      return {"SET", "s" + key, std::to_string(pick(0, 1000))};
    case 1:
      return {"SET", "s" + key, "v", "PX", std::to_string(pick(1, 5'000'000))};
    case 2:
      return {"INCRBY", "s" + key, std::to_string(pick(-5, 5))};
    case 3:
      return {"DEL", "s" + key, "z" + key};
    case 4:
      return {"PEXPIRE", pick(0, 1) ? "s" + key : "z" + key, std::to_string(pick(-1, 5'000'000))};
    case 5:
      return {"ZADD", "z" + key, std::to_string(pick(0, 50)), member, std::to_string(pick(0, 9)),
              std::to_string(pick(0, 60))};
    case 6:
    case 7:
      return {"ZINCRBY", "z" + key, std::to_string(pick(-3, 9)), member};
    case 8:
      return {"ZREM", "z" + key, member, std::to_string(pick(0, 60))};
    case 9:
      return {"ZUNIONSTORE", "z" + key, "2", "z" + std::to_string(pick(0, 7)),
              "z" + std::to_string(pick(0, 7)), "WEIGHTS", "0.5", "2"};
    case 10:
      return {"STOCK.SET", key, std::to_string(pick(0, 100))};
    case 11:
      return {"STOCK.ADD", key, std::to_string(pick(1, 10))};
    case 12:
      return {"STOCK.RESERVE", key, std::to_string(pick(1, 4))};
    default:
      return {"STOCK.RELEASE", key, std::to_string(pick(1, 3))};
  }
}

TEST_F(PersistenceTest, ReplayGivesBackTheLiveStateAfterConcurrentWritesAndSnapshots) {
  constexpr int kThreads = 3;
  constexpr int kCommandsPerThread = 30'000;
  constexpr int kSnapshots = 6;
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1, 64 << 10);
  live.set_log(log.get());

  SetUpCatalog(live);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&live, t] {
      CommandHarness harness(&live);
      harness.now_ms = kRankStartMs;
      std::mt19937 random(1234 + t);
      for (int i = 0; i < kCommandsPerThread; ++i) {
        harness.Run(RandomCommand(random));
        // Time moves, so holds expire: on access and by the sweep, as in the server.
        harness.now_ms += static_cast<int64_t>(random() % 3);
        if (i % 64 == 0) live.orders().ExpireDue(harness.now_ms, 16);
        if (i % 16 == 0) live.rankings().Step(harness.now_ms);  // opens and builds day two
      }
    });
  }
  std::thread snapshots([&] {
    for (int i = 0; i < kSnapshots; ++i) {
      // A weight change while events go on: the workers' Steps re-score a part at a time, and
      // the next snapshots capture the rankings half re-scored, a slice per lock hold.
      if (i == 2) {
        EXPECT_TRUE(live.rankings().SetWeights("all", {0.3, 0.5, 0.9, 0.2}).ok());
      }
      auto result = storage::WriteSnapshot(&env_, dir_, live, *log, CommandHarness::kStartMs);
      EXPECT_TRUE(result.ok()) << result.status().ToString();
    }
  });
  for (std::thread& thread : threads) thread.join();
  snapshots.join();
  // On a slow machine the last snapshot may start after every worker is done; then a tail of
  // writes after it makes sure recovery replays records on top of a snapshot either way.
  {
    CommandHarness harness(&live);
    harness.now_ms = kRankStartMs + 2 * kCommandsPerThread;  // no earlier than any worker's clock
    std::mt19937 random(99);
    for (int i = 0; i < 1'000; ++i) harness.Run(RandomCommand(random));
  }
  ASSERT_TRUE(log->Close().ok());
  live.set_log(nullptr);

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->snapshot_path.empty());
  EXPECT_GT(report->records_replayed, 0u);
  EXPECT_EQ(report->next_sequence, log->last_sequence() + 1);
  const Dump expected = DumpOf(live, CommandHarness::kStartMs);
  EXPECT_FALSE(expected.sorted_sets.empty());
  EXPECT_FALSE(expected.stock.empty());
  EXPECT_GT(expected.book.size(), 100u);  // orders, coupons, points and likes were made
  EXPECT_GT(expected.rankings.at("20231114").size(), 250u);
  EXPECT_GT(expected.rankings.at("20231115").size(), 250u);  // carried over, and own events
  EXPECT_TRUE(DumpOf(recovered, CommandHarness::kStartMs) == expected);
}

// Sets bigger than a slice are captured a slice at a time while members move, appear and go
// (storage/snapshot_capture.h): members that do not move must each land in the image once, and
// the rest is put right by replay.
TEST_F(PersistenceTest, BigSetsCapturedInSlicesWhileTheyChange) {
  constexpr int kMembers = 30'000;
  constexpr int kThreads = 2;
  constexpr int kCommandsPerThread = 60'000;
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1, 1 << 20);
  live.set_log(log.get());
  {
    CommandHarness harness(&live);
    for (const char* key : {"board", "{board}2"}) {
      std::vector<std::string> zadd = {"ZADD", key};
      for (int i = 0; i < kMembers; ++i) {
        zadd.push_back(std::to_string(i % 100));
        zadd.push_back(i % 4 == 0 ? "name" + std::to_string(i) : std::to_string(i));
      }
      harness.Run(zadd);
    }
  }
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CommandHarness harness(&live);
      std::mt19937 random(77 + t);
      const auto pick = [&](int lo, int hi) {
        return std::to_string(std::uniform_int_distribution<int>(lo, hi)(random));
      };
      for (int i = 0; i < kCommandsPerThread; ++i) {
        const std::string key = i % 2 == 0 ? "board" : "{board}2";
        const std::string member = pick(0, kMembers + 2'000);
        switch (i % 5) {
          case 0:
            harness.Run({"ZREM", key, member, pick(0, kMembers)});
            break;
          case 1:
            harness.Run({"ZADD", key, pick(-50, 150), member});
            break;
          default:  // jumps across many slices, both ways
            harness.Run({"ZINCRBY", key, pick(-60, 60), member});
        }
      }
      running.fetch_sub(1);
    });
  }
  uint64_t sliced_sets = 0;
  int snapshots = 0;
  while (running.load() > 0 || snapshots == 0) {
    auto result = storage::WriteSnapshot(&env_, dir_, live, *log, CommandHarness::kStartMs);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    sliced_sets += result->sliced_sets;
    ++snapshots;
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GT(sliced_sets, 0u);
  ASSERT_TRUE(log->Close().ok());
  live.set_log(nullptr);

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->snapshot_path.empty());
  const Dump expected = DumpOf(live, CommandHarness::kStartMs);
  ASSERT_EQ(expected.sorted_sets.size(), 2u);
  EXPECT_TRUE(DumpOf(recovered, CommandHarness::kStartMs) == expected);
}

TEST_F(PersistenceTest, RecoveryWithoutSnapshotReplaysTheWholeLog) {
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  SetUpCatalog(live);
  CommandHarness harness(&live);
  harness.now_ms = kRankStartMs;
  std::mt19937 random(99);
  for (int i = 0; i < 5'000; ++i) {
    harness.Run(RandomCommand(random));
    if (i == 2'500) live.rankings().Step(harness.now_ms);  // day two opens, copied from day one
  }
  ASSERT_TRUE(log->Close().ok());

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->snapshot_path.empty());
  EXPECT_TRUE(DumpOf(recovered, CommandHarness::kStartMs) ==
              DumpOf(live, CommandHarness::kStartMs));
}

// Applied event ids come back with the state, from the log and from a snapshot: an event sent
// again after a restart counts once (RANK.EVENT answers 0 and changes nothing).
TEST_F(PersistenceTest, EventIdsAreRememberedAcrossRecovery) {
  for (const bool snapshot : {false, true}) {
    SCOPED_TRACE(snapshot ? "from a snapshot" : "from the log");
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(env_.CreateDir(dir_).ok());
    Database live;
    std::unique_ptr<storage::EffectLog> log = OpenLog(1);
    live.set_log(log.get());
    CommandHarness harness(&live);
    harness.now_ms = kRankStartMs;
    const std::string ts = std::to_string(kRankStartMs - 60'000);
    const std::vector<std::string> view = {"RANK.EVENT", "all", "ev-1", "VIEW", "7", ts};
    const std::vector<std::string> order = {"RANK.EVENT", "all", "ev-2", "ORDER",
                                            "7",          ts,    "2",    "150"};
    ASSERT_EQ(harness.Run(view), ":1\r\n");
    ASSERT_EQ(harness.Run(order), ":1\r\n");
    if (snapshot) {
      auto written = storage::WriteSnapshot(&env_, dir_, live, *log, harness.now_ms);
      ASSERT_TRUE(written.ok()) << written.status().ToString();
    }
    const std::string before = harness.Run({"RANK.SIGNALS", "all", kRankDays[0], "7"});
    ASSERT_TRUE(log->Close().ok());
    live.set_log(nullptr);

    Database recovered;
    auto report = storage::Recover(&env_, dir_, &recovered);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->snapshot_path.empty(), !snapshot);
    CommandHarness after(&recovered);
    after.now_ms = kRankStartMs;
    EXPECT_EQ(after.Run(view), ":0\r\n");
    EXPECT_EQ(after.Run(order), ":0\r\n");
    EXPECT_EQ(after.Run({"RANK.SIGNALS", "all", kRankDays[0], "7"}), before);
    EXPECT_EQ(after.Run({"RANK.EVENT", "all", "ev-3", "VIEW", "7", ts}), ":1\r\n");
  }
}

// A day's window expires into an archive of its raw signals (converted in slices), a later
// Step drops the archive of an older day, and period boards are published: a snapshot taken
// half-way and the log after it give all of it back.
TEST_F(PersistenceTest, RankingArchivesAndPeriodBoardsAreRecovered) {
  constexpr int64_t kDayMs = 86'400'000;
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  storage::Rankings& rankings = live.rankings();
  // Two days of events: 2023-10-31 (dropped in December) and 2023-11-14.
  const int64_t october_31 = kRankStartMs - 14 * kDayMs;
  std::vector<std::string> ids;
  for (uint64_t product = 0; product < 3000; ++product) {
    for (const int64_t ts : {october_31, kRankStartMs}) {
      ids.push_back("e" + std::to_string(product) + "/" + std::to_string(ts));
      const storage::RankEvent event{ids.back(), storage::RankEventKind::kOrder, product, ts,
                                     1, static_cast<int64_t>(product % 97 + 1)};
      ASSERT_TRUE(*rankings.Apply("all", event, ts));
    }
  }
  ASSERT_TRUE(rankings.Publish("all", "2023W46", {{1, 9.5}, {2, 8.5}}).ok());
  const int64_t later = kRankStartMs + 3 * kDayMs;  // both days expired
  ASSERT_TRUE(rankings.Step(later));                // archives half converted
  auto snapshot = storage::WriteSnapshot(&env_, dir_, live, *log, later);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  while (rankings.Step(later)) {
  }
  ASSERT_TRUE(rankings.Publish("all", "202311", {{5, 1.5}}).ok());
  ASSERT_TRUE(rankings.Publish("all", "2023W46", {{3, 2.5}}).ok());
  const int64_t december = kRankStartMs + 20 * kDayMs;  // October is no longer kept
  while (rankings.Step(december)) {
  }
  ASSERT_TRUE(log->Close().ok());
  live.set_log(nullptr);

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->snapshot_path.empty());
  const auto scan = [&](Database& db, const char* day) {
    std::vector<storage::DaySignals> all;
    uint64_t cursor = 0;
    do {
      auto chunk = db.rankings().ScanDay("all", day, cursor, 1000, december);
      CHECK(chunk.ok()) << chunk.status().ToString();
      all.insert(all.end(), chunk->entries.begin(), chunk->entries.end());
      cursor = chunk->next_cursor;
    } while (cursor != 0);
    return all;
  };
  const auto november = scan(live, "20231114");
  EXPECT_EQ(november.size(), 3000u);
  EXPECT_EQ(scan(recovered, "20231114"), november);
  for (const char* period : {"2023W46", "202311"}) {
    const auto expected = *live.rankings().Top("all", period, 0, 100);
    const auto got = *recovered.rankings().Top("all", period, 0, 100);
    ASSERT_EQ(got.size(), expected.size()) << period;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].product, expected[i].product);
      EXPECT_EQ(got[i].score, expected[i].score);
    }
  }
  // The October archive was dropped on both sides: their snapshot images are the same size.
  std::vector<std::string> live_chunks;
  std::vector<std::string> recovered_chunks;
  EXPECT_EQ(live.rankings().AppendSnapshotChunks(&live_chunks),
            recovered.rankings().AppendSnapshotChunks(&recovered_chunks));
  size_t bytes = 0;
  for (const std::string& chunk : recovered_chunks) bytes += chunk.size();
  EXPECT_LT(bytes, 3000u * 40 + 1000) << "one day's archive, not two";
}

// A weight change re-scores a part per step; events, a snapshot and the rest of the re-score
// happen meanwhile. Recovery must give back the same half-re-scored state (each product with
// the weights it had), and then the same finished one.
TEST_F(PersistenceTest, WeightChangeHalfwayIsRecovered) {
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  storage::Rankings& rankings = live.rankings();
  std::vector<std::string> ids;
  std::mt19937 random(5);
  int64_t now = kRankStartMs;  // 23:30 of the first day: the second day's window opens
  const auto events = [&](int count) {
    for (int i = 0; i < count; ++i) {
      ids.push_back("w" + std::to_string(ids.size()));
      const int64_t ts = now - static_cast<int64_t>(random() % 2) * 3'600'000;
      const storage::RankEvent event{ids.back(), storage::RankEventKind::kLike,
                                     random() % 500, ts};
      ASSERT_TRUE(rankings.Apply("all", event, now).ok());
    }
  };
  events(3000);
  while (rankings.Step(now)) {
  }
  now += 3'600'000;  // 00:30 of the second day
  events(2000);
  ASSERT_TRUE(rankings.SetWeights("all", {0.3, 0.9, 0.7, 0.25}).ok());
  for (int i = 0; i < 300; ++i) {
    rankings.Step(now);
    events(3);
    if (i == 100) {
      auto snapshot = storage::WriteSnapshot(&env_, dir_, live, *log, now);
      ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    }
  }
  ASSERT_TRUE(rankings.Weights("all").rescoring);  // halfway: 300 of 512 parts
  ASSERT_TRUE(log->Close().ok());
  live.set_log(nullptr);

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(recovered.rankings().Weights("all").rescoring);
  EXPECT_TRUE(DumpOf(recovered, kRankStartMs) == DumpOf(live, kRankStartMs));
  for (Database* db : {&live, &recovered}) {
    while (db->rankings().Step(now)) {
    }
    EXPECT_FALSE(db->rankings().Weights("all").rescoring);
  }
  EXPECT_TRUE(DumpOf(recovered, kRankStartMs) == DumpOf(live, kRankStartMs));
}

// The worst case of a fuzzy image: a weight change, some of its re-score and more events land
// after the snapshot point but before the capture, so the image already holds them and the log
// replays them over it. The replayed change must restore the weights it replaced (from its
// record, not from the image), or the products not re-scored yet would be scored with the new
// ones after recovery.
TEST_F(PersistenceTest, WeightChangeBetweenSnapshotPointAndCaptureIsRecovered) {
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  storage::Rankings& rankings = live.rankings();
  std::vector<std::string> ids;
  std::mt19937 random(11);
  const int64_t now = kRankStartMs + 3'600'000;  // 00:30 of the second day
  const auto events = [&](int count) {
    for (int i = 0; i < count; ++i) {
      ids.push_back("f" + std::to_string(ids.size()));
      const int64_t ts = now - static_cast<int64_t>(random() % 2) * 3'600'000;
      const storage::RankEvent event{ids.back(), storage::RankEventKind::kView, random() % 400,
                                     ts};
      ASSERT_TRUE(rankings.Apply("all", event, now).ok());
    }
  };
  events(3000);
  while (rankings.Step(now)) {
  }
  auto snapshot = storage::WriteSnapshot(&env_, dir_, live, *log, now, [&] {
    EXPECT_TRUE(rankings.SetWeights("all", {2, 0.5, 0.7, 0.3}).ok());
    for (int i = 0; i < 40; ++i) {
      rankings.Step(now);
      events(5);
    }
  });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  for (int i = 0; i < 40; ++i) {  // after the capture: more parts, more events
    rankings.Step(now);
    events(5);
  }
  ASSERT_TRUE(rankings.Weights("all").rescoring);
  ASSERT_TRUE(log->Close().ok());
  live.set_log(nullptr);

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->snapshot_path.empty());
  EXPECT_GT(report->records_replayed, 40u);
  EXPECT_TRUE(DumpOf(recovered, kRankStartMs) == DumpOf(live, kRankStartMs));
  // And the same products keep the previous weights until the re-score reaches them.
  ExpectSameWeightsInUse(live, recovered, {"20231114", "20231115"}, 400);
}

// Between the snapshot point and the capture: a re-score started before the point finishes,
// a second weight change starts and re-scores the first day and part of the second, then the
// first day expires (so the image has no window for it) and events go on. The image holds the
// end of all that; the log replays all of it over the image. Replay must not recompute from
// what the image holds (the weights, the re-score's position, the day before).
TEST_F(PersistenceTest, ReScoresAndAnExpiryBetweenSnapshotPointAndCaptureAreRecovered) {
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  storage::Rankings& rankings = live.rankings();
  std::vector<std::string> ids;
  std::mt19937 random(13);
  const int64_t now = kRankStartMs + 3'600'000;           // 2023-11-15 00:30
  const int64_t later = kRankStartMs + 25 * 3'600'000;    // 2023-11-16 00:30: day one expires
  const auto events = [&](int count, int64_t at) {
    for (int i = 0; i < count; ++i) {
      ids.push_back("g" + std::to_string(ids.size()));
      // Day two's events (and, before it expires, day one's).
      const int64_t ts = at == now ? now - static_cast<int64_t>(random() % 2) * 3'600'000
                                   : now + 3'600'000;
      const storage::RankEvent event{ids.back(), storage::RankEventKind::kLike, random() % 400,
                                     ts};
      ASSERT_TRUE(rankings.Apply("all", event, at).ok());
    }
  };
  events(3000, now);
  while (rankings.Step(now)) {
  }
  ASSERT_TRUE(rankings.SetWeights("all", {0.4, 0.6, 0.7, 0.2}).ok());
  for (int i = 0; i < 100; ++i) rankings.Step(now);  // the re-score is under way at the point
  auto snapshot = storage::WriteSnapshot(&env_, dir_, live, *log, now, [&] {
    events(50, now);
    while (rankings.Weights("all").rescoring) {
      rankings.Step(now);
      events(2, now);
    }
    EXPECT_TRUE(rankings.SetWeights("all", {1.5, 0.2, 0.7, 0.35}).ok());
    for (int i = 0; i < 300; ++i) {  // all of day one, part of day two
      rankings.Step(now);
      events(1, now);
    }
    rankings.Step(later);  // day one expires into its archive
    events(30, later);
  });
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  for (int i = 0; i < 50; ++i) {
    rankings.Step(later);
    events(3, later);
  }
  ASSERT_TRUE(rankings.Weights("all").rescoring);
  ASSERT_TRUE(log->Close().ok());
  live.set_log(nullptr);

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->snapshot_path.empty());
  EXPECT_TRUE(DumpOf(recovered, kRankStartMs) == DumpOf(live, kRankStartMs));
  ExpectSameWeightsInUse(live, recovered, {"20231115"}, 400);
}

// A union bigger than one record is logged as a group of records; recovery applies it whole.
TEST_F(PersistenceTest, BigUnionIsOneGroupOfRecords) {
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  CommandHarness harness(&live);
  constexpr int kMembers = 150'000;
  std::vector<std::string> zadd = {"ZADD", "src"};
  for (int i = 0; i < kMembers; ++i) {
    zadd.push_back(std::to_string(i % 977));
    zadd.push_back("member-" + std::to_string(i));
  }
  harness.Run(zadd);
  const uint64_t before = log->last_sequence();
  EXPECT_EQ(harness.Run({"ZUNIONSTORE", "dst", "1", "src", "WEIGHTS", "0.1"}),
            ":" + std::to_string(kMembers) + "\r\n");
  EXPECT_GT(log->last_sequence() - before, 1u) << "the union fits one record; make it bigger";
  ASSERT_TRUE(log->Close().ok());

  Database recovered;
  auto report = storage::Recover(&env_, dir_, &recovered);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->group_records_dropped, 0u);
  EXPECT_TRUE(DumpOf(recovered, CommandHarness::kStartMs) ==
              DumpOf(live, CommandHarness::kStartMs));
}

// A crash between the records of a group: recovery drops the unfinished group and cuts it from
// the log, so that what is logged after the restart replays at the next one.
TEST_F(PersistenceTest, UnfinishedGroupIsCutFromTheLog) {
  Database live;
  std::unique_ptr<storage::EffectLog> log = OpenLog(1);
  live.set_log(log.get());
  CommandHarness harness(&live);
  std::vector<std::string> zadd = {"ZADD", "src"};
  for (int i = 0; i < 150'000; ++i) {
    zadd.push_back(std::to_string(i % 977));
    zadd.push_back("member-" + std::to_string(i));
  }
  harness.Run(zadd);
  const uint64_t before = log->last_sequence();
  harness.Run({"ZUNIONSTORE", "dst", "1", "src"});
  ASSERT_GT(log->last_sequence() - before, 1u) << "the union fits one record; make it bigger";
  ASSERT_TRUE(log->Close().ok());

  // Cut the log just before the group's last record, where a crash could have.
  {
    auto reader = storage::WalReader::Open(&env_, dir_);
    ASSERT_TRUE(reader.ok());
    storage::WalRecord record;
    storage::WalReader::Position last;
    while (*(*reader)->Next(&record)) last = (*reader)->record_position();
    const storage::WalTail cut = (*reader)->CutBefore(last, "test");
    ASSERT_TRUE(storage::TruncateWal(&env_, dir_, cut).ok());
  }
  Database first;
  auto report = storage::Recover(&env_, dir_, &first);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GE(report->group_records_dropped, 1u);
  EXPECT_EQ(report->next_sequence, before + 1) << "the group's records are gone from the log";
  CommandHarness after_crash(&first);
  EXPECT_EQ(after_crash.Run({"EXISTS", "dst"}), ":0\r\n");
  EXPECT_EQ(after_crash.Run({"ZCARD", "src"}), ":150000\r\n");

  std::unique_ptr<storage::EffectLog> again = OpenLog(report->next_sequence);
  first.set_log(again.get());
  after_crash.Run({"SET", "later", "1"});
  ASSERT_TRUE(again->Close().ok());
  first.set_log(nullptr);

  Database second;
  auto second_report = storage::Recover(&env_, dir_, &second);
  ASSERT_TRUE(second_report.ok()) << second_report.status().ToString();
  EXPECT_EQ(second_report->group_records_dropped, 0u);
  EXPECT_TRUE(DumpOf(second, CommandHarness::kStartMs) == DumpOf(first, CommandHarness::kStartMs));
}

// The first records of a group with the last one missing (a crash between them) change nothing.
TEST(EffectReplayerTest, UnfinishedGroupIsDropped) {
  Database db;
  storage::EffectReplayer replayer(&db);
  std::string first;
  storage::EncodeSortedSetPutHeader("k", storage::kSortedSetPutReplace | storage::kSortedSetPutContinued,
                                    &first);
  storage::AppendPutMember(storage::MemberKey::FromInteger(1), 2.0, &first);
  ASSERT_TRUE(replayer.Apply(static_cast<uint8_t>(storage::EffectType::kSortedSetPut), first).ok());
  EXPECT_EQ(replayer.pending_group_records(), 1u);
  EXPECT_EQ(db.WithKey("k", [](storage::Keyspace& keys) { return keys.sorted_set_count(); }), 0u);
  // Another effect inside an unfinished group is corruption, not a silent reorder.
  std::string other;
  storage::EncodeKeyDelete("x", &other);
  EXPECT_FALSE(replayer.Apply(static_cast<uint8_t>(storage::EffectType::kKeyDelete), other).ok());
}

TEST(EffectReplayerTest, MalformedPayloadsAreCorruptionAndChangeNothing) {
  Database db;
  storage::EffectReplayer replayer(&db);
  const uint8_t put = static_cast<uint8_t>(storage::EffectType::kSortedSetPut);
  std::string good;
  storage::EncodeSortedSetPutHeader("k", 0, &good);
  storage::AppendPutMember(storage::MemberKey::FromInteger(1), 2.0, &good);
  storage::AppendPutMember(storage::MemberKey::FromInteger(2), 3.0, &good);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    const std::string torn = good.substr(0, cut);
    if (cut == 3 || cut == 12) continue;  // ends exactly after the header or the first member
    EXPECT_FALSE(replayer.Apply(put, torn).ok()) << "cut at " << cut;
  }
  EXPECT_EQ(db.WithKey("k", [](storage::Keyspace& keys) { return keys.sorted_set_count(); }), 0u);
  EXPECT_FALSE(replayer.Apply(99, "x").ok());
  std::string stock;
  storage::EncodeStockSet(1, -5, &stock);
  EXPECT_FALSE(replayer.Apply(static_cast<uint8_t>(storage::EffectType::kStockSet), stock).ok());
}

}  // namespace
}  // namespace podium::server
