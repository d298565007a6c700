// Database: all the state one podium-server holds, shared by its event loops.
//
// Concurrency. Stock counters are a lock-free StockTable (design.md: reservations never take a
// lock). Keys (strings and sorted sets) are spread over kShardCount shards, each a Keyspace
// behind its own mutex; a command locks the one shard of its key for the few microseconds it
// runs. With N loops (N = cores, 2 here) two commands collide only when they hit the same shard
// at the same moment, so a lock per shard costs little and keeps every command simple; the
// alternative, shared-nothing loops forwarding requests to the owner, costs a cross-thread hop
// on half of all requests at N = 2. The choice is to be confirmed by measurement against that
// alternative (docs/benchmarks.md records the figures behind it as they are taken).
//
// Measured (docs/benchmarks.md, 2026-12-06): with one hot key and two loops, taking its lock
// once per command cost a third of the throughput (futex sleeps and wake-ups). So a loop keeps
// the lock across the single-key commands of one round of I/O callbacks (ShardBatch), and the
// lock spins briefly before it sleeps (ShardMutex).
//
// Keys are sharded by their hash tag when they have one (the part between the first '{' and the
// next '}', as Redis Cluster does), so keys of one shop ("{shop1}:stock", "{shop1}:board") share
// a shard and a multi-key command on them locks once.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>

#include <glog/logging.h>

#include "storage/keyspace.h"
#include "storage/order_book.h"
#include "storage/ranking.h"
#include "storage/shard_mutex.h"
#include "storage/stock_table.h"

namespace podium::storage {

class EffectLog;

class Database {
  struct Shard;

 public:
  static constexpr size_t kShardCount = 64;
  static constexpr size_t kStockStripeCount = 64;

  explicit Database(RankingOptions ranking_options = {}) : rankings_(ranking_options) {
    for (Shard& shard : shards_) shard.keyspace.set_lazy_free(&lazy_free_);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  StockTable& stock() { return stock_; }
  // Catalog, points, coupons, likes and orders (storage/order_book.h); it has its own lock.
  OrderBook& orders() { return orders_; }
  // Time-windowed ranking boards (storage/ranking.h); it has its own lock.
  Rankings& rankings() { return rankings_; }

  // The write-ahead log effects go to, or null when the server runs without persistence. Set
  // before the event loops start and not changed while they run.
  EffectLog* log() const { return log_; }
  // Where the shards' big dropped sorted sets are freed (lazy_free.h).
  LazyFree& lazy_free() { return lazy_free_; }
  void set_log(EffectLog* log) {
    log_ = log;
    rankings_.set_log(log);
  }

  // Runs fn() for a change of the stock counter of `product` that logs its result, or for a
  // read that must not see a change before its record is queued (STOCK.GET). With a log open,
  // fn runs under one of kStockStripeCount stripe locks chosen by the product, so the
  // counter's changes and their records keep one order (storage/effects.h); without one, fn
  // runs lock-free as the StockTable is.
  template <typename Fn>
  decltype(auto) WithStockOrder(uint64_t product, Fn&& fn) {
    if (log_ == nullptr) return fn();
    std::lock_guard<std::mutex> lock(stock_stripes_[StockStripeOf(product)].mutex);
    return fn();
  }

  // WithStockOrder for several products at once (an order's items): with a log open, locks
  // each distinct stripe of `products` in stripe order (so two such calls cannot deadlock) and
  // runs fn while holding them all.
  template <typename Fn>
  decltype(auto) WithStockOrderOfAll(std::span<const uint64_t> products, Fn&& fn) {
    if (log_ == nullptr) return fn();
    StripeLocks locks(this, products);
    return fn();
  }

  // Returns once every stock change that was under way when it was called (inside
  // WithStockOrder or WithStockOrderOfAll) has finished, its record queued: takes and lets go
  // of each stripe in turn. For a snapshot, whose stock pass reads the counters lock-free.
  void WaitForStockChanges();

  // Runs fn(Keyspace&) with the shard of `key` locked; returns what fn returns. Inside a
  // ShardBatch of this thread, the lock is the batch's.
  template <typename Fn>
  decltype(auto) WithKey(std::string_view key, Fn&& fn) {
    Shard& shard = shards_[ShardOf(key)];
    if (ShardBatch* batch = current_batch_;
        batch != nullptr && batch->db_ == this && batch->active_) {
      batch->Hold(shard);
      return fn(shard.keyspace);
    }
    std::lock_guard<ShardMutex> lock(shard.mutex);
    return fn(shard.keyspace);
  }

  // Keeps, on the thread that made it, the lock of the shard the last WithKey used, so that
  // the next WithKey on the same shard does not take it again: 16 pipelined commands on one
  // key lock it once. An event loop has one for its thread and releases it after each round
  // of I/O callbacks (server/event_loop.cc), before its timers run. While it holds a shard,
  // the thread must take no other lock that some thread may hold while waiting for a shard
  // (the connection calls Release() before any command but the single-key ones, whose
  // handlers only use WithKey, one at a time, and the log; other code runs inside a Pause).
  // It unlocks after kUsesMax commands, which gives a loop waiting for the shard the chance
  // it had between two commands without a batch (the mutex is not fair either way).
  class ShardBatch {
   public:
    static constexpr size_t kUsesMax = 32;

    explicit ShardBatch(Database& db) : db_(&db), outer_(current_batch_) {
      if (outer_ != nullptr) outer_->Release();  // never two shards at once
      current_batch_ = this;
    }
    ~ShardBatch() {
      Release();
      current_batch_ = outer_;
    }
    ShardBatch(const ShardBatch&) = delete;
    ShardBatch& operator=(const ShardBatch&) = delete;

    // Unlocks the shard held, if any.
    void Release() {
      if (held_ != nullptr) held_->mutex.unlock();
      held_ = nullptr;
    }
    // The batch of this thread, or null.
    static ShardBatch* Current() { return current_batch_; }
    // Release() on this thread's batch, if there is one.
    static void ReleaseCurrent() {
      if (current_batch_ != nullptr) current_batch_->Release();
    }
    // True if this thread's batch holds a shard that another thread is waiting for.
    static bool CurrentHoldsContended() {
      return current_batch_ != nullptr && current_batch_->held_ != nullptr &&
             current_batch_->held_->mutex.contended();
    }

    // While it lives, the thread's batch (if any) holds nothing and WithKey locks per call:
    // around commands that take other locks or do long work.
    class Pause {
     public:
      Pause() : batch_(current_batch_) {
        if (batch_ != nullptr) {
          batch_->Release();
          batch_->active_ = false;
        }
      }
      ~Pause() {
        if (batch_ != nullptr) batch_->active_ = true;
      }
      Pause(const Pause&) = delete;
      Pause& operator=(const Pause&) = delete;

     private:
      ShardBatch* const batch_;
    };

   private:
    friend class Database;
    void Hold(Database::Shard& shard) {
      if (held_ == &shard && uses_ < kUsesMax) {
        ++uses_;
        return;
      }
      Release();
      shard.mutex.lock();
      held_ = &shard;
      uses_ = 1;
    }

    Database* const db_;
    ShardBatch* const outer_;
    Shard* held_ = nullptr;
    size_t uses_ = 0;
    bool active_ = true;  // false inside a Pause
  };
  // Runs fn(Keyspace&) with shard `index` locked (sweeps, INFO); not inside a ShardBatch.
  template <typename Fn>
  decltype(auto) WithShard(size_t index, Fn&& fn) {
    DCHECK(current_batch_ == nullptr || current_batch_->held_ == nullptr);
    Shard& shard = shards_[index];
    std::lock_guard<ShardMutex> lock(shard.mutex);
    return fn(shard.keyspace);
  }

  static size_t ShardOf(std::string_view key);
  // The part of the key that chooses its shard: the hash tag if there is a non-empty one.
  static std::string_view HashTag(std::string_view key);

 private:
  struct alignas(64) Shard {
    ShardMutex mutex;
    Keyspace keyspace;
  };

  class StripeLocks {
   public:
    StripeLocks(Database* db, std::span<const uint64_t> products);
    ~StripeLocks();
    StripeLocks(const StripeLocks&) = delete;
    StripeLocks& operator=(const StripeLocks&) = delete;

   private:
    Database* const db_;
    std::bitset<kStockStripeCount> held_;
  };

  static size_t StockStripeOf(uint64_t product) {
    return static_cast<size_t>((product * 0x9E3779B97F4A7C15ull) >> 58);  // top 6 bits
  }
  struct alignas(64) StockStripe {
    std::mutex mutex;
  };
  static_assert(kStockStripeCount == 64, "StockStripeOf takes the top 6 bits");

  static inline thread_local ShardBatch* current_batch_ = nullptr;

  EffectLog* log_ = nullptr;
  LazyFree lazy_free_;  // before the shards: it outlives them
  std::array<StockStripe, kStockStripeCount> stock_stripes_;
  StockTable stock_;
  OrderBook orders_{this};
  Rankings rankings_;
  std::array<Shard, kShardCount> shards_;
};

}  // namespace podium::storage
