// Helpers shared by the snapshot tests: a scratch directory, writing a whole StockTable and
// Keyspace through SnapshotWriter, and a canonical dump of a state so that two states compare
// entry by entry (with readable gtest diffs).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/file.h"
#include "storage/keyspace.h"
#include "storage/snapshot_reader.h"
#include "storage/snapshot_writer.h"
#include "storage/stock_table.h"

namespace podium::storage::snapshot_testing {

// A fresh directory under the test temp dir, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "podium_snapshot_XXXXXX";
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole state through the writer; not a consistent cut under concurrent writes (tests have
// none).
inline Result<std::string> WriteState(Env* env, const std::string& dir, uint64_t wal_sequence,
                                      const StockTable& stock, const Keyspace& keyspace) {
  SnapshotWriter writer(env);
  Status status = writer.Begin(dir, wal_sequence, 1'700'000'000'000);
  stock.ForEach([&](uint64_t product, int64_t units) {
    if (status.ok()) status = writer.AddStock(product, units);
  });
  if (status.ok()) status = writer.BeginStrings();
  keyspace.ForEachString(
      [&](std::string_view key, std::string_view value, std::optional<int64_t> deadline) {
        if (status.ok()) status = writer.AddString(key, value, deadline);
      });
  if (status.ok()) status = writer.BeginSortedSets();
  keyspace.ForEachSortedSet(
      [&](std::string_view key, const SortedSet& set, std::optional<int64_t> deadline) {
        if (status.ok()) status = writer.AddSortedSet(key, deadline, set);
      });
  if (status.ok()) status = writer.BeginBook();
  if (status.ok()) status = writer.BeginRankings();
  if (!status.ok()) return status;
  return writer.Finish();
}

// Every entry in a comparable form; scores as bit patterns so -0.0 and 0.0 differ.
struct Dump {
  std::vector<std::pair<uint64_t, int64_t>> stock;
  std::map<std::string, std::pair<std::string, std::optional<int64_t>>> strings;
  std::map<std::string, std::optional<int64_t>> set_deadlines;
  std::map<std::string, std::vector<std::pair<std::string, uint64_t>>> sets;

  bool operator==(const Dump&) const = default;
};

inline Dump DumpState(const StockTable& stock, const Keyspace& keyspace) {
  Dump dump;
  stock.ForEach([&](uint64_t product, int64_t units) { dump.stock.emplace_back(product, units); });
  std::sort(dump.stock.begin(), dump.stock.end());
  keyspace.ForEachString(
      [&](std::string_view key, std::string_view value, std::optional<int64_t> deadline) {
        dump.strings[std::string(key)] = {std::string(value), deadline};
      });
  keyspace.ForEachSortedSet(
      [&](std::string_view key, const SortedSet& set, std::optional<int64_t> deadline) {
        dump.set_deadlines[std::string(key)] = deadline;
        auto& members = dump.sets[std::string(key)];
        for (auto cursor = set.SeekRank(0, Order::kAscending); cursor.valid(); cursor.Next()) {
          members.emplace_back(cursor.member().ToString(), std::bit_cast<uint64_t>(cursor.score()));
        }
      });
  return dump;
}

}  // namespace podium::storage::snapshot_testing
