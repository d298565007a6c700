// StockTable: the shop's stock counters, product id -> units on hand. Every sale, hold, cancel
// and restock goes through here, from every I/O thread at once, so the hot path takes no lock.
//
// Why it is built this way. The one hard rule (design.md) is that no unit is ever sold twice:
// a counter must never go below zero however many threads reserve from it. A compare-and-swap
// loop on one atomic per counter gives exactly that: all read-modify-writes of one atomic are
// totally ordered, each one reads the value the previous one wrote, and a reservation that would
// go below zero is not written at all. A mutex per counter would give the same guarantee but
// makes a flash sale, where every thread hits one counter, queue behind the lock holder.
//
// The counters live in an open-addressing hash table that never rehashes, because a rehash
// moves counters and a lock-free reader could then read a stale copy after a reservation went
// to the new one. Instead the table is a short array of "levels", level k having
// kFirstLevelSlots << k slots (or, after a snapshot load, level 0 sized for every loaded
// counter and each later level twice the one before). New counters go into the newest level;
// when it reaches its fill limit, the next (twice as big) level is published and takes the new
// counters. Old levels are
// never freed or changed except in place, so a counter's address is fixed from creation to
// destruction. A lookup probes the published levels from the newest down (the newest holds
// about half of all counters, so most lookups stop there) with linear probing inside each.
// Measured on 1M counters (bench/stock_table_bench.cc, BM_GetBigTable): a random hit costs
// about 90 ns newest-first against 300 ns oldest-first; a miss probes every level (about
// 350 ns), but only unknown products miss.
//
// Creation (Set or Add of a new product) takes one mutex, shared only with other creations:
// it re-checks under the mutex that no other thread created the product meanwhile, fills the
// slot's units and then publishes its key with a release store; lookups read keys with
// acquire, so whoever sees the key sees the units written before it. Only creation can add a
// key, and creation needs a restock or an explicit Set: a client that only reserves cannot fill
// the table, so a fixed (unseeded) hash mixer is enough.
//
// Memory: a slot is 16 bytes (key and units side by side, so a lookup touches one cache line).
// Slots are not padded to a cache line each: millions of counters matter more than the rare
// case of two hot products sharing a line, which the hash mixer makes unlikely (it scatters
// neighbouring product ids). With the fill limit at 1/2, a table costs 32 to 64 bytes per
// counter depending on where it is in the doubling.
//
// Contract.
//  - Thread-safety: every method may run concurrently with every other, from any thread.
//    Get, TryReserve, Release, and Set/Add on an existing counter are lock-free (atomic loads
//    and compare-and-swap only; no mutex, no allocation on success). Creating a counter takes
//    the creation mutex and may allocate a level; readers and reservers never wait for it.
//  - Atomicity: each call acts on one counter atomically, and all changes to one counter
//    happen in one total order. Nothing orders calls on different counters for other threads
//    (counters are relaxed atomics, see stock_table.cc); callers that need that synchronize
//    themselves. A product being created concurrently is either NotFound or found with its
//    initial units or later ones, never a half-made counter.
//  - Ownership: the table owns all its memory and frees it in the destructor, which must not
//    run concurrently with any other call. Nothing returned points into the table.
//  - Complexity: a lookup searches each published level at most once (at most kLevelCount),
//    in practice one or two; creation is amortized O(1), but the creation that publishes a
//    level initializes it (up to 2 GiB at the very last level) holding the creation mutex.
//  - Limits (storage/limits.h): product ids 0..kProductIdMax; units 0..kStockUnitsMax per
//    counter; at most kStockCountersMax counters (or the smaller bound given to the
//    constructor). Bad input gets InvalidArgument, a bound crossed gets LimitExceeded, and in
//    both cases nothing changes. Counters are never deleted.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "storage/limits.h"
#include "storage/status.h"

namespace podium::storage {

// What TryReserve did. A shortage is an ordinary answer, not an error: the caller decides
// whether it means "sold out" or "roll back the other items of this order".
struct Reservation {
  bool reserved;  // true: the units were taken
  int64_t units;  // reserved: units left after taking; not reserved: units available (unchanged)
};

namespace stock_table_internal {

// Level k has kFirstLevelSlots << k slots and takes counters until it is filled to
// kLevelFillNumerator / kLevelFillDenominator. Half full keeps linear probing short (about 1.5
// probes to find a key, 2.5 to miss one), which matters because a lookup misses in every
// level newer than the one holding its key. With 3/4, random hits on 1M counters measured
// 1.3 to 1.7 times slower, for the same memory at that size (both need 11 levels).
inline constexpr size_t kFirstLevelSlots = 1024;
inline constexpr size_t kLevelFillNumerator = 1;
inline constexpr size_t kLevelFillDenominator = 2;

constexpr size_t LevelSlots(size_t level) { return kFirstLevelSlots << level; }
constexpr size_t LevelCountersMax(size_t level) {
  return LevelSlots(level) / kLevelFillDenominator * kLevelFillNumerator;
}
// The fewest levels whose fill limits add up to `counters`.
constexpr size_t LevelsToHold(size_t counters) {
  size_t levels = 0;
  for (size_t held = 0; held < counters; ++levels) held += LevelCountersMax(levels);
  return levels;
}

// Enough levels for the largest table allowed; 18 with the values above.
inline constexpr size_t kLevelCount = LevelsToHold(kStockCountersMax);

// The empty-slot marker: never a product id.
inline constexpr uint64_t kEmptyKey = UINT64_MAX;

static_assert((kFirstLevelSlots & (kFirstLevelSlots - 1)) == 0, "slot counts are powers of 2");
static_assert(kLevelFillNumerator < kLevelFillDenominator, "a level keeps an empty slot");
static_assert(kLevelCount <= 20, "the last level stays a few GiB at most");
static_assert(kProductIdMax < kEmptyKey, "the empty marker is not a product id");

}  // namespace stock_table_internal

class StockTable {
 public:
  // counters_max (at most kStockCountersMax) bounds how many counters the table will create;
  // the server uses the default, tests pass a small one to reach the bound.
  explicit StockTable(size_t counters_max = kStockCountersMax);
  ~StockTable();

  StockTable(const StockTable&) = delete;
  StockTable& operator=(const StockTable&) = delete;

  // The units of `product`. NotFound if its counter was never created.
  Result<int64_t> Get(uint64_t product) const;

  // Sets the units of `product` to `units` (0..kStockUnitsMax), creating the counter if
  // missing. LimitExceeded if it is missing and the table is full.
  Status Set(uint64_t product, int64_t units);

  // Restock: adds `units` (1..kStockUnitsMax), creating the counter at 0 if missing. Returns
  // the new units. LimitExceeded if the result would pass kStockUnitsMax or the table is full.
  Result<int64_t> Add(uint64_t product, int64_t units);

  // Takes `units` (1..kStockUnitsMax) if at least that many are available; see Reservation.
  // NotFound if the counter does not exist. Never takes the counter below zero.
  Result<Reservation> TryReserve(uint64_t product, int64_t units);

  // Gives back `units` (1..kStockUnitsMax), e.g. from a cancelled hold. Returns the new units.
  // NotFound if the counter does not exist; LimitExceeded if the result would pass
  // kStockUnitsMax.
  Result<int64_t> Release(uint64_t product, int64_t units);

  // Loading a snapshot: creates every counter of `counters` in an empty table that no other
  // thread uses yet, in one level sized for all of them (so later lookups probe one level, and
  // each creation is one probe, prefetched ahead, instead of a miss through every level).
  // InvalidArgument for an entry out of range or a product that appears twice, LimitExceeded
  // past the bound; the table then holds part of the counters and the caller discards it.
  struct Counter {
    uint64_t product;
    int64_t units;
  };
  Status CreateAll(std::span<const Counter> counters);

  // How many counters exist. Lock-free; during a creation it may briefly lag a counter that
  // lookups already find.
  size_t size() const;

  // Calls visitor(product, units) once for every counter, lock-free, in no particular order.
  // Not a consistent cut: each counter's units are read at a different moment while others
  // keep changing, and counters created during the walk may or may not be visited. A snapshot
  // that needs a cut must pair this with the WAL. O(allocated slots). The visitor may call any
  // method of this table.
  template <typename Visitor>
  requires std::invocable<Visitor&, uint64_t, int64_t>
  void ForEach(Visitor&& visitor) const;

 private:
  // key is kEmptyKey until the counter is created, then the product id forever. alignas(16)
  // keeps a slot inside one cache line.
  struct alignas(16) Slot {
    std::atomic<uint64_t> key{stock_table_internal::kEmptyKey};
    std::atomic<int64_t> units{0};
  };
  static_assert(sizeof(Slot) == 16);
  static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                std::atomic<int64_t>::is_always_lock_free);

  // Set once, before the level is published, and never changed until destruction.
  struct Level {
    std::unique_ptr<Slot[]> slots;
    uint64_t mask = 0;  // slot count - 1
  };

  Slot* Find(uint64_t product) const;
  static Slot* FindInLevel(const Level& level, uint64_t product, uint64_t hash);
  Result<Slot*> FindOrCreate(uint64_t product, int64_t initial_units, bool* created);
  Slot* InsertLocked(uint64_t product, int64_t initial_units);
  void PublishLevelLocked(size_t level);
  // Counters the newest level takes before the next is published.
  static size_t LevelFillLimit(const Level& level) {
    return (level.mask + 1) / stock_table_internal::kLevelFillDenominator *
           stock_table_internal::kLevelFillNumerator;
  }
  static Result<int64_t> AddToSlot(Slot& slot, uint64_t product, int64_t units);

  // Read by every lookup, written only when a level is published: a cache line of its own, so
  // the creation bookkeeping below does not invalidate it on every creation.
  alignas(kCacheLineBytes) std::atomic<size_t> level_count_{0};
  std::array<Level, stock_table_internal::kLevelCount> levels_;

  alignas(kCacheLineBytes) std::mutex create_mutex_;
  size_t newest_level_counters_ = 0;  // guarded by create_mutex_
  std::atomic<size_t> size_{0};       // written under create_mutex_, read lock-free
  const size_t counters_max_;
};

template <typename Visitor>
requires std::invocable<Visitor&, uint64_t, int64_t>
void StockTable::ForEach(Visitor&& visitor) const {
  // Acquire pairs with the release that published each level: its slots are initialized.
  const size_t level_count = level_count_.load(std::memory_order_acquire);
  for (size_t level = 0; level < level_count; ++level) {
    const Level& current = levels_[level];
    for (uint64_t index = 0; index <= current.mask; ++index) {
      const Slot& slot = current.slots[index];
      // Acquire pairs with the creator's release of the key: the initial units are visible.
      const uint64_t key = slot.key.load(std::memory_order_acquire);
      if (key == stock_table_internal::kEmptyKey) continue;
      visitor(key, slot.units.load(std::memory_order_relaxed));
    }
  }
}

}  // namespace podium::storage
