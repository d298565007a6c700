// StockTable: see stock_table.h for the contract and why it is built this way.
//
// Memory orders, in one place. A counter's units are a self-contained value: no other memory
// is published through them, and "never below zero" needs only that the read-modify-writes of
// one atomic are totally ordered, which holds at every memory order. So every access to units
// is relaxed. The key is different: it publishes the slot (and its initial units), so it is
// stored with release by the creator and loaded with acquire by lookups. The level count
// publishes a level's slots the same way.
#include "storage/stock_table.h"

#include <algorithm>
#include <bit>
#include <string>

namespace podium::storage {

using stock_table_internal::kEmptyKey;
using stock_table_internal::kLevelCount;
using stock_table_internal::LevelSlots;

namespace {

// splitmix64's finalizer (Stafford's "Mix13"), with the golden-ratio increment first so that
// product 0 does not hash to 0. Consecutive product ids land far apart, which keeps linear
// probing clusters short and hot neighbouring products off each other's cache lines.
uint64_t MixProductId(uint64_t product) {
  uint64_t hash = product + 0x9e3779b97f4a7c15;
  hash = (hash ^ (hash >> 30)) * 0xbf58476d1ce4e5b9;
  hash = (hash ^ (hash >> 27)) * 0x94d049bb133111eb;
  return hash ^ (hash >> 31);
}

Status CheckProduct(uint64_t product) {
  if (product <= kProductIdMax) return Status::Ok();
  return Status::InvalidArgument("product id " + std::to_string(product) +
                                 " is past kProductIdMax (" + std::to_string(kProductIdMax) + ")");
}

// Units a caller passes in must be in [units_min, kStockUnitsMax].
Status CheckUnits(int64_t units, int64_t units_min) {
  if (units >= units_min && units <= kStockUnitsMax) return Status::Ok();
  return Status::InvalidArgument("units " + std::to_string(units) + " out of range [" +
                                 std::to_string(units_min) + ", " + std::to_string(kStockUnitsMax) +
                                 "]");
}

Status CounterNotFound(uint64_t product) {
  return Status::NotFound("no stock counter for product " + std::to_string(product));
}

}  // namespace

StockTable::StockTable(size_t counters_max) : counters_max_(counters_max) {
  CHECK_GT(counters_max, 0u);
  CHECK_LE(counters_max, kStockCountersMax);
  std::lock_guard<std::mutex> lock(create_mutex_);
  PublishLevelLocked(0);
}

StockTable::~StockTable() = default;

Result<int64_t> StockTable::Get(uint64_t product) const {
  if (Status status = CheckProduct(product); !status.ok()) return status;
  const Slot* slot = Find(product);
  if (slot == nullptr) return CounterNotFound(product);
  const int64_t units = slot->units.load(std::memory_order_relaxed);
  DCHECK(units >= 0 && units <= kStockUnitsMax) << units;
  return units;
}

Status StockTable::Set(uint64_t product, int64_t units) {
  if (Status status = CheckProduct(product); !status.ok()) return status;
  if (Status status = CheckUnits(units, 0); !status.ok()) return status;
  Slot* slot = Find(product);
  if (slot == nullptr) {
    bool created = false;
    Result<Slot*> found = FindOrCreate(product, units, &created);
    if (!found.ok()) return found.status();
    if (created) return Status::Ok();
    slot = *found;
  }
  slot->units.store(units, std::memory_order_relaxed);
  return Status::Ok();
}

Result<int64_t> StockTable::Add(uint64_t product, int64_t units) {
  if (Status status = CheckProduct(product); !status.ok()) return status;
  if (Status status = CheckUnits(units, 1); !status.ok()) return status;
  Slot* slot = Find(product);
  if (slot == nullptr) {
    // Created at 0 and restocked by `units` in one step: nobody sees the 0.
    bool created = false;
    Result<Slot*> found = FindOrCreate(product, units, &created);
    if (!found.ok()) return found.status();
    if (created) return units;
    slot = *found;
  }
  return AddToSlot(*slot, product, units);
}

Result<Reservation> StockTable::TryReserve(uint64_t product, int64_t units) {
  if (Status status = CheckProduct(product); !status.ok()) return status;
  if (Status status = CheckUnits(units, 1); !status.ok()) return status;
  Slot* slot = Find(product);
  if (slot == nullptr) return CounterNotFound(product);
  int64_t available = slot->units.load(std::memory_order_relaxed);
  // On failure compare_exchange_weak reloads `available`, so every pass re-checks the shortage
  // against the latest value: the counter is only ever written with available - units >= 0.
  do {
    DCHECK(available >= 0 && available <= kStockUnitsMax) << available;
    if (available < units) return Reservation{false, available};
  } while (
      !slot->units.compare_exchange_weak(available, available - units, std::memory_order_relaxed));
  DCHECK_GE(available - units, 0);
  return Reservation{true, available - units};
}

Result<int64_t> StockTable::Release(uint64_t product, int64_t units) {
  if (Status status = CheckProduct(product); !status.ok()) return status;
  if (Status status = CheckUnits(units, 1); !status.ok()) return status;
  Slot* slot = Find(product);
  if (slot == nullptr) return CounterNotFound(product);
  return AddToSlot(*slot, product, units);
}

size_t StockTable::size() const { return size_.load(std::memory_order_relaxed); }

// A compare-and-swap loop rather than fetch_add: a restock that would pass kStockUnitsMax must
// change nothing, and fetch_add cannot be taken back without another thread seeing it.
Result<int64_t> StockTable::AddToSlot(Slot& slot, uint64_t product, int64_t units) {
  DCHECK(units >= 1 && units <= kStockUnitsMax) << units;
  int64_t current = slot.units.load(std::memory_order_relaxed);
  do {
    DCHECK(current >= 0 && current <= kStockUnitsMax) << current;
    if (current > kStockUnitsMax - units) {
      return Status::LimitExceeded("product " + std::to_string(product) + " has " +
                                   std::to_string(current) + " units; adding " +
                                   std::to_string(units) + " would pass kStockUnitsMax (" +
                                   std::to_string(kStockUnitsMax) + ")");
    }
  } while (!slot.units.compare_exchange_weak(current, current + units, std::memory_order_relaxed));
  return current + units;
}

StockTable::Slot* StockTable::Find(uint64_t product) const {
  DCHECK_LE(product, kProductIdMax);
  const uint64_t hash = MixProductId(product);
  // Acquire pairs with PublishLevelLocked's release: levels_[0..count) are initialized.
  const size_t level_count = level_count_.load(std::memory_order_acquire);
  DCHECK(level_count >= 1 && level_count <= kLevelCount) << level_count;
  // Newest first: it holds about half of all counters, the one before it a quarter, ...
  for (size_t level = level_count; level-- > 0;) {
    if (Slot* slot = FindInLevel(levels_[level], product, hash)) return slot;
  }
  return nullptr;
}

// Linear probing from the hash's home slot to the product's key or the first empty slot. A
// concurrent creation can only turn an empty slot into a full one, and puts its key at the
// first empty slot of its own probe sequence; so if this probe stops at an empty slot before
// reaching the key, the key was created after that slot was read, and NotFound is a correct
// answer for a call that started before the creation finished.
StockTable::Slot* StockTable::FindInLevel(const Level& level, uint64_t product, uint64_t hash) {
  uint64_t index = hash & level.mask;
  for (uint64_t probes = 0;; ++probes) {
    DCHECK_LE(probes, level.mask) << "a level is never full";
    Slot& slot = level.slots[index];
    // Acquire pairs with InsertLocked's release: a visible key means visible initial units.
    const uint64_t key = slot.key.load(std::memory_order_acquire);
    if (key == product) return &slot;
    if (key == kEmptyKey) return nullptr;
    index = (index + 1) & level.mask;
  }
}

Result<StockTable::Slot*> StockTable::FindOrCreate(uint64_t product, int64_t initial_units,
                                                   bool* created) {
  std::lock_guard<std::mutex> lock(create_mutex_);
  // Another creator may have won the race since the caller's lock-free lookup. Every creation
  // happens under this mutex, so this lookup sees all of them: no product gets two counters.
  if (Slot* slot = Find(product)) {
    *created = false;
    return slot;
  }
  const size_t size = size_.load(std::memory_order_relaxed);
  if (size >= counters_max_) {
    return Status::LimitExceeded("stock table is full: " + std::to_string(size) +
                                 " counters (bound " + std::to_string(counters_max_) +
                                 "); product " + std::to_string(product) + " not created");
  }
  *created = true;
  return InsertLocked(product, initial_units);
}

StockTable::Slot* StockTable::InsertLocked(uint64_t product, int64_t initial_units) {
  // Only creators change level_count_, and they hold the mutex: relaxed reads are current.
  size_t level_count = level_count_.load(std::memory_order_relaxed);
  if (newest_level_counters_ == LevelFillLimit(levels_[level_count - 1])) {
    // kLevelCount holds kStockCountersMax counters, and FindOrCreate refused past that.
    CHECK_LT(level_count, kLevelCount) << "stock table levels exhausted at " << size_.load();
    PublishLevelLocked(level_count);
    ++level_count;
  }
  const Level& level = levels_[level_count - 1];
  uint64_t index = MixProductId(product) & level.mask;
  while (level.slots[index].key.load(std::memory_order_relaxed) != kEmptyKey) {
    index = (index + 1) & level.mask;
  }
  Slot& slot = level.slots[index];
  // Units first, then the key with release: a reader that sees the key sees these units.
  slot.units.store(initial_units, std::memory_order_relaxed);
  slot.key.store(product, std::memory_order_release);
  ++newest_level_counters_;
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  DCHECK_LE(newest_level_counters_, LevelFillLimit(level));
  return &slot;
}

Status StockTable::CreateAll(std::span<const Counter> counters) {
  std::lock_guard<std::mutex> lock(create_mutex_);
  CHECK_EQ(size_.load(std::memory_order_relaxed), 0u) << "CreateAll on a table in use";
  CHECK_EQ(level_count_.load(std::memory_order_relaxed), 1u);
  if (counters.size() > counters_max_) {
    return Status::LimitExceeded(std::to_string(counters.size()) + " stock counters pass the bound " +
                                 std::to_string(counters_max_));
  }
  // The smallest power of two that keeps the level within its fill limit.
  const size_t slots = std::max(
      LevelSlots(0), std::bit_ceil(counters.size() * stock_table_internal::kLevelFillDenominator /
                                   stock_table_internal::kLevelFillNumerator));
  Level& level = levels_[0];
  level.slots = std::make_unique<Slot[]>(slots);
  level.mask = slots - 1;
  constexpr size_t kPrefetchAhead = 16;  // about the memory latency over the per-entry work
  for (size_t i = 0; i < counters.size(); ++i) {
    if (i + kPrefetchAhead < counters.size()) {
      const uint64_t ahead = MixProductId(counters[i + kPrefetchAhead].product) & level.mask;
      __builtin_prefetch(&level.slots[ahead], 1);
    }
    const auto [product, units] = counters[i];
    if (Status status = CheckProduct(product); !status.ok()) return status;
    if (Status status = CheckUnits(units, 0); !status.ok()) return status;
    uint64_t index = MixProductId(product) & level.mask;
    for (;;) {
      const uint64_t key = level.slots[index].key.load(std::memory_order_relaxed);
      if (key == kEmptyKey) break;
      if (key == product) {
        return Status::InvalidArgument("product " + std::to_string(product) + " appears twice");
      }
      index = (index + 1) & level.mask;
    }
    level.slots[index].units.store(units, std::memory_order_relaxed);
    level.slots[index].key.store(product, std::memory_order_relaxed);
    ++newest_level_counters_;
    size_.store(newest_level_counters_, std::memory_order_relaxed);
  }
  // Release: whoever reads the level count after this sees the slots filled above.
  level_count_.store(1, std::memory_order_release);
  return Status::Ok();
}

void StockTable::PublishLevelLocked(size_t level) {
  CHECK_EQ(level, level_count_.load(std::memory_order_relaxed));
  CHECK_LT(level, kLevelCount);
  Level& fresh = levels_[level];
  // Twice the previous level, which CreateAll may have made bigger than LevelSlots(level - 1).
  const size_t slots = level == 0 ? LevelSlots(0) : (levels_[level - 1].mask + 1) * 2;
  fresh.slots = std::make_unique<Slot[]>(slots);  // every key starts kEmptyKey
  fresh.mask = slots - 1;
  newest_level_counters_ = 0;
  // Release: a lookup that reads the new count sees the slots initialized above.
  level_count_.store(level + 1, std::memory_order_release);
}

}  // namespace podium::storage
