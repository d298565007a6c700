// Sorted-set microbenchmarks on a 1M-member board of integer members (product ids), the shape
// a "popular today" board has. Results and targets: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/workload.h"
#include "storage/sorted_set.h"

namespace podium::bench {
namespace {

using storage::MemberKey;
using storage::Order;
using storage::SortedSet;

constexpr uint64_t kBoardMembers = 1'000'000;
constexpr size_t kSampleCount = 1 << 20;

// One board shared by the benchmarks that do not grow it: members 0..1M-1 with scores spread
// like a day's ranking (a few large, most small).
SortedSet& Board() {
  static SortedSet* board = [] {
    auto* set = new SortedSet();
    std::mt19937_64 random(1);
    std::exponential_distribution<double> scores(0.01);
    for (uint64_t id = 0; id < kBoardMembers; ++id) {
      CHECK(set->Set(MemberKey::FromInteger(id), std::floor(scores(random) * 10) / 10).ok());
    }
    return set;
  }();
  return *board;
}

MemberKey KeyOf(uint64_t id) { return MemberKey::FromInteger(id); }
MemberKey KeyOf(const std::string& member) { return MemberKey::FromBytes(member); }

// Adds 1.0 to members[0], members[1], ... (kSampleCount of them) on `board`, round and round.
template <typename Member>
void IncrementLoop(benchmark::State& state, SortedSet& board, const std::vector<Member>& members) {
  size_t next = 0;
  for (auto _ : state) {
    auto score = board.IncrementBy(KeyOf(members[next]), 1.0);
    benchmark::DoNotOptimize(score);
    next = (next + 1) & (kSampleCount - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_IncrementUniform(benchmark::State& state) {
  static const std::vector<uint64_t> ids = UniformIds(kSampleCount, kBoardMembers, 2);
  IncrementLoop(state, Board(), ids);
}
BENCHMARK(BM_IncrementUniform);

void BM_IncrementZipf(benchmark::State& state) {
  static const std::vector<uint64_t> ids = ZipfIds(kSampleCount, kBoardMembers, 0.99, 3);
  IncrementLoop(state, Board(), ids);
}
BENCHMARK(BM_IncrementZipf);

// The board redis-benchmark builds with `ZINCRBY board 1 __rand_int__ -r 1000000`: string
// members "000000123456" (12 digits, not canonical integers) and small integer scores, so
// nearly every comparison in a descent is a tie broken by the members' bytes.
std::string PaddedMember(uint64_t id) {
  std::string text = std::to_string(id);
  return std::string(12 - text.size(), '0') + text;
}

SortedSet& StringBoard() {
  static SortedSet* board = [] {
    auto* set = new SortedSet();
    std::mt19937_64 random(7);
    for (uint64_t id = 0; id < kBoardMembers; ++id) {
      const std::string member = PaddedMember(id);
      CHECK(set->Set(MemberKey::FromBytes(member), static_cast<double>(1 + random() % 4)).ok());
    }
    return set;
  }();
  return *board;
}

void BM_IncrementUniformStrings(benchmark::State& state) {
  static const std::vector<std::string> members = [] {
    std::vector<std::string> out;
    for (uint64_t id : UniformIds(kSampleCount, kBoardMembers, 8)) out.push_back(PaddedMember(id));
    return out;
  }();
  IncrementLoop(state, StringBoard(), members);
}
BENCHMARK(BM_IncrementUniformStrings);

void BM_Top20(benchmark::State& state) {
  SortedSet& board = Board();
  for (auto _ : state) {
    double sum = 0;
    board.RangeByRank(0, 19, Order::kDescending,
                      [&sum](const MemberKey& member, double score) {
                        sum += score + static_cast<double>(member.integer());
                      });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Top20);

void BM_RankLookup(benchmark::State& state) {
  static const std::vector<uint64_t> ids = UniformIds(kSampleCount, kBoardMembers, 4);
  SortedSet& board = Board();
  size_t next = 0;
  for (auto _ : state) {
    auto rank = board.Rank(MemberKey::FromInteger(ids[next]), Order::kDescending);
    benchmark::DoNotOptimize(rank);
    next = (next + 1) & (kSampleCount - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RankLookup);

void BM_ScoreLookup(benchmark::State& state) {
  static const std::vector<uint64_t> ids = UniformIds(kSampleCount, kBoardMembers, 5);
  SortedSet& board = Board();
  size_t next = 0;
  for (auto _ : state) {
    auto score = board.Score(MemberKey::FromInteger(ids[next]));
    benchmark::DoNotOptimize(score);
    next = (next + 1) & (kSampleCount - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreLookup);

// New members into a set that already holds 1M: ids above the board's, random scores.
void BM_Insert(benchmark::State& state) {
  static const std::vector<uint64_t> scores = UniformIds(kSampleCount, 100'000, 6);
  SortedSet& board = Board();
  uint64_t next_id = kBoardMembers + 1'000'000'000ull * state.thread_index();
  size_t next = 0;
  std::vector<uint64_t> added;
  for (auto _ : state) {
    auto result = board.Set(MemberKey::FromInteger(next_id), scores[next] / 10.0);
    benchmark::DoNotOptimize(result);
    added.push_back(next_id++);
    next = (next + 1) & (kSampleCount - 1);
  }
  state.SetItemsProcessed(state.iterations());
  for (uint64_t id : added) board.Remove(MemberKey::FromInteger(id));  // keep the board at 1M
}
BENCHMARK(BM_Insert);

}  // namespace
}  // namespace podium::bench

BENCHMARK_MAIN();
