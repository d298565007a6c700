// StockTable microbenchmarks: what one reservation and one lookup cost, alone and with a second
// thread on the same counter (every compare-and-swap then moves the cache line between cores:
// the flash-sale case) or on a counter of its own (should scale). Counters start at
// kStockUnitsMax so they never run out during a run; items/s counts calls.
//
// Run: ./build/bench/stock_table_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "storage/limits.h"
#include "storage/stock_table.h"

namespace podium::storage {
namespace {

constexpr uint64_t kHotProduct = 42;

// One product per thread for the "different counters" case. Neighbouring ids are not
// neighbouring slots: the table places a product by a 64-bit mix of its id, and ids 1 and 2
// land in slots 193 and 718 of the first level (525 slots, over 8 KiB, apart), so the two
// threads never share a cache line. Both counters are in the first level, like the hot one.
constexpr uint64_t kOwnProducts[] = {1, 2};
constexpr int kThreadsMax = 2;
static_assert(std::size(kOwnProducts) >= kThreadsMax);

constexpr uint64_t kBigTableProducts = 1'000'000;  // spans 11 levels
constexpr uint64_t kBigTableStride = 7919;         // ids spread out, as a real catalog's are

// Shared by all threads of a benchmark; created once, before any thread starts its loop.
StockTable& HotTable() {
  static StockTable table;
  return table;
}

// kBigTableProducts counters; a lookup has to probe several levels to find older ones.
std::unique_ptr<StockTable> MakeBigTable() {
  auto table = std::make_unique<StockTable>();
  for (uint64_t i = 0; i < kBigTableProducts; ++i) {
    CHECK(table->Set(i * kBigTableStride, static_cast<int64_t>(i)).ok());
  }
  return table;
}

const StockTable& BigTable() {
  static const std::unique_ptr<StockTable> table = MakeBigTable();
  return *table;
}

// Thread 0 refills before the loop; the benchmark library starts every thread's loop behind
// a barrier, so the other threads see the refill.
void RefillOnThreadZero(benchmark::State& state, StockTable& table, uint64_t product) {
  if (state.thread_index() != 0) return;
  CHECK(table.Set(product, kStockUnitsMax).ok());
}

void ReserveLoop(benchmark::State& state, StockTable& table, uint64_t product) {
  for (auto _ : state) {
    Result<Reservation> result = table.TryReserve(product, 1);
    if (!result.ok() || !result->reserved) {
      state.SkipWithError("the counter ran out");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_TryReserveSameCounter(benchmark::State& state) {
  RefillOnThreadZero(state, HotTable(), kHotProduct);
  ReserveLoop(state, HotTable(), kHotProduct);
}
BENCHMARK(BM_TryReserveSameCounter)->Threads(1)->Threads(2)->UseRealTime();

void BM_TryReserveOwnCounter(benchmark::State& state) {
  if (state.thread_index() == 0) {
    for (uint64_t product : kOwnProducts) CHECK(HotTable().Set(product, kStockUnitsMax).ok());
  }
  ReserveLoop(state, HotTable(), kOwnProducts[state.thread_index()]);
}
BENCHMARK(BM_TryReserveOwnCounter)->Threads(kThreadsMax)->UseRealTime();

void BM_GetSameCounter(benchmark::State& state) {
  RefillOnThreadZero(state, HotTable(), kHotProduct);
  for (auto _ : state) {
    Result<int64_t> units = HotTable().Get(kHotProduct);
    benchmark::DoNotOptimize(units);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetSameCounter)->Threads(1)->Threads(2)->UseRealTime();

// Random existing products of a 1M-counter table: mostly cache misses, the realistic case for
// a big catalog. `miss` looks up ids that were never created, the worst case (every level).
void BM_GetBigTable(benchmark::State& state) {
  const StockTable& table = BigTable();
  const bool miss = state.range(0) != 0;
  std::vector<uint64_t> products(kBigTableProducts);
  std::iota(products.begin(), products.end(), 0);
  std::shuffle(products.begin(), products.end(), std::mt19937_64(state.thread_index() + 1));
  size_t next = 0;
  for (auto _ : state) {
    const uint64_t product = products[next] * kBigTableStride + (miss ? 1 : 0);
    next = next + 1 == products.size() ? 0 : next + 1;
    Result<int64_t> units = table.Get(product);
    if (units.ok() == miss) {
      state.SkipWithError("unexpected lookup answer");
      break;
    }
    benchmark::DoNotOptimize(units);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetBigTable)->ArgName("miss")->Arg(0)->Arg(1);

}  // namespace
}  // namespace podium::storage

BENCHMARK_MAIN();
