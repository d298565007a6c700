// ShardedMap and ShardedSet: a hash table split into kShardedHashShards independent ones.
//
// Why. std::unordered_map grows by rehashing every entry at once: a table of a million
// entries stops its owner for a few hundred milliseconds while it doubles, and the ranking
// engine owns its tables under a lock that every event takes. Split in 256, a table never
// rehashes more than a 256th of its entries at a time (about a millisecond at a million), at
// the cost of 256 empty tables (about 14 KiB) per instance. Redis's dict avoids the same stall
// by rehashing incrementally; shards get there with the standard containers.
//
// Contract: as the std containers, minus iterators; iteration (ForEach) visits shard by shard,
// in no particular order. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace podium::storage {

inline constexpr size_t kShardedHashShards = 256;

namespace sharded_hash_internal {
// Shard choice from different bits than the buckets inside a shard use.
inline size_t ShardOf(uint64_t hash) {
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> 56);
}
inline size_t ShardOf(std::string_view key) { return ShardOf(std::hash<std::string_view>()(key)); }
static_assert(kShardedHashShards == 256, "ShardOf keeps the top 8 bits");
}  // namespace sharded_hash_internal

template <typename Value>
class ShardedMap {
 public:
  Value& operator[](uint64_t key) { return ShardFor(key)[key]; }
  Value* Find(uint64_t key) {
    auto& shard = ShardFor(key);
    const auto it = shard.find(key);
    return it == shard.end() ? nullptr : &it->second;
  }
  const Value* Find(uint64_t key) const {
    const auto& shard = shards_[sharded_hash_internal::ShardOf(key)];
    const auto it = shard.find(key);
    return it == shard.end() ? nullptr : &it->second;
  }
  void Reserve(size_t total) {
    for (auto& shard : shards_) shard.reserve(total / kShardedHashShards + 1);
  }
  size_t size() const {
    size_t total = 0;
    for (const auto& shard : shards_) total += shard.size();
    return total;
  }
  static size_t ShardOf(uint64_t key) { return sharded_hash_internal::ShardOf(key); }
  size_t ShardSize(size_t shard) const { return shards_[shard].size(); }
  // Visits the entries of one shard (0..kShardedHashShards-1), in no particular order.
  template <typename Fn>
  void ForEachInShard(size_t shard, Fn&& fn) const {
    for (const auto& [key, value] : shards_[shard]) fn(key, value);
  }
  template <typename Fn>
  void ForEachInShard(size_t shard, Fn&& fn) {
    for (auto& [key, value] : shards_[shard]) fn(key, value);
  }
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (auto& shard : shards_) {
      for (auto& [key, value] : shard) fn(key, value);
    }
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& shard : shards_) {
      for (const auto& [key, value] : shard) fn(key, value);
    }
  }

 private:
  std::unordered_map<uint64_t, Value>& ShardFor(uint64_t key) {
    return shards_[sharded_hash_internal::ShardOf(key)];
  }
  std::array<std::unordered_map<uint64_t, Value>, kShardedHashShards> shards_;
};

class ShardedStringSet {
 public:
  bool Contains(std::string_view key) const {
    return shards_[sharded_hash_internal::ShardOf(key)].contains(key);
  }
  void Insert(std::string_view key) { shards_[sharded_hash_internal::ShardOf(key)].emplace(key); }
  void Reserve(size_t total) {
    for (auto& shard : shards_) shard.reserve(total / kShardedHashShards + 1);
  }
  size_t size() const {
    size_t total = 0;
    for (const auto& shard : shards_) total += shard.size();
    return total;
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& shard : shards_) {
      for (const std::string& key : shard) fn(key);
    }
  }
  template <typename Fn>
  void ForEachInShard(size_t shard, Fn&& fn) const {
    for (const std::string& key : shards_[shard]) fn(key);
  }

 private:
  // Looked up by string_view without building a std::string (C++20 heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
  };
  std::array<std::unordered_set<std::string, Hash, std::equal_to<>>, kShardedHashShards> shards_;
};

}  // namespace podium::storage
