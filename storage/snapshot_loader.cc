// LoadSnapshot (ReadSnapshot into the server's tables) and ListSnapshots; see
// snapshot_reader.h.
#include <algorithm>

#include "storage/limits.h"
#include "storage/snapshot_format.h"
#include "storage/snapshot_reader.h"  // IWYU pragma: associated

namespace podium::storage {

namespace {

class TableLoader final : public SnapshotVisitor {
 public:
  TableLoader(StockTable* stock, Keyspace* keyspace) : stock_(stock), keyspace_(keyspace) {}
  Status OnStock(uint64_t product, int64_t units) override {
    if (stock_->Get(product).ok()) return Status::InvalidArgument("product appears twice");
    return stock_->Set(product, units);
  }
  Status OnString(std::string_view key, std::string_view value,
                  std::optional<int64_t> deadline_ms) override {
    return keyspace_->RestoreString(key, value, deadline_ms);
  }
  Status OnSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                     std::unique_ptr<SortedSet> set) override {
    return keyspace_->RestoreSortedSet(key, std::move(set), deadline_ms);
  }

 private:
  StockTable* const stock_;
  Keyspace* const keyspace_;
};

}  // namespace

Result<SnapshotInfo> LoadSnapshot(Env* env, const std::string& path, StockTable* stock,
                                  Keyspace* keyspace) {
  CHECK(stock != nullptr && keyspace != nullptr);
  // Keyspace::RestoreSortedSet takes a string it finds at its key for this snapshot's own
  // earlier capture of the key, which holds only in a keyspace that started empty.
  CHECK(keyspace->string_count() == 0 && keyspace->sorted_set_count() == 0)
      << "LoadSnapshot needs an empty keyspace";
  TableLoader loader(stock, keyspace);
  return ReadSnapshot(env, path, &loader);
}

Result<std::vector<SnapshotFile>> ListSnapshots(Env* env, const std::string& dir) {
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) return names.status();
  // Only snapshots count towards the bound: the directory also holds the log's segments, which
  // may be many more (kWalSegmentsListedMax).
  std::vector<SnapshotFile> files;
  for (const std::string& name : *names) {
    const std::optional<uint64_t> sequence = snapshot_format::ParseFileName(name);
    if (!sequence.has_value()) continue;
    if (files.size() == kSnapshotFilesListedMax) {
      return Status::LimitExceeded(dir + " holds more than " +
                                   std::to_string(kSnapshotFilesListedMax) + " snapshots");
    }
    files.push_back({JoinPath(dir, name), *sequence});
  }
  std::sort(files.begin(), files.end(), [](const SnapshotFile& a, const SnapshotFile& b) {
    return a.wal_sequence > b.wal_sequence;
  });
  return files;
}

}  // namespace podium::storage
