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
// Keys are sharded by their hash tag when they have one (the part between the first '{' and the
// next '}', as Redis Cluster does), so keys of one shop ("{shop1}:stock", "{shop1}:board") share
// a shard and a multi-key command on them locks once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "storage/keyspace.h"
#include "storage/stock_table.h"

namespace podium::server {

class Database {
 public:
  static constexpr size_t kShardCount = 64;

  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  storage::StockTable& stock() { return stock_; }

  // Runs fn(storage::Keyspace&) with the shard of `key` locked; returns what fn returns.
  template <typename Fn>
  decltype(auto) WithKey(std::string_view key, Fn&& fn) {
    Shard& shard = shards_[ShardOf(key)];
    std::lock_guard<std::mutex> lock(shard.mutex);
    return fn(shard.keyspace);
  }
  // Runs fn(storage::Keyspace&) with shard `index` locked (sweeps, INFO).
  template <typename Fn>
  decltype(auto) WithShard(size_t index, Fn&& fn) {
    Shard& shard = shards_[index];
    std::lock_guard<std::mutex> lock(shard.mutex);
    return fn(shard.keyspace);
  }

  static size_t ShardOf(std::string_view key);
  // The part of the key that chooses its shard: the hash tag if there is a non-empty one.
  static std::string_view HashTag(std::string_view key);

 private:
  struct alignas(64) Shard {
    std::mutex mutex;
    storage::Keyspace keyspace;
  };

  storage::StockTable stock_;
  std::array<Shard, kShardCount> shards_;
};

}  // namespace podium::server
