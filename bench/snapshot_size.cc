// Snapshot size and speed for a big integer board: the figure to set against Redis's RDB of
// the same board (docs/benchmarks.md has both, measured in the same session).
//
// Usage: snapshot_size [members] [directory]. Writes one snapshot of a board of `members`
// (default 1M) random product ids, twice: integer scores in [0, 1e6) (view counts, sales) and
// uniform random doubles in [0, 1). Prints file size, bytes per member, write and load time.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "storage/file.h"
#include "storage/keyspace.h"
#include "storage/snapshot_reader.h"
#include "storage/snapshot_writer.h"
#include "storage/stock_table.h"

namespace podium::storage {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Run(size_t members, const std::string& dir, const char* label,
        const std::function<double(std::mt19937_64&)>& score) {
  SortedSet board;
  std::mt19937_64 random(members);
  while (board.size() < members) {
    CHECK(board.Set(MemberKey::FromInteger(random() % (members * 4)), score(random)).ok());
  }
  PosixEnv env;
  auto start = std::chrono::steady_clock::now();
  SnapshotWriter writer(&env);
  CHECK(writer.Begin(dir, 1, 0).ok());
  CHECK(writer.BeginStrings().ok());
  CHECK(writer.BeginSortedSets().ok());
  CHECK(writer.AddSortedSet("board", std::nullopt, board).ok());
  CHECK(writer.BeginBook().ok());
  CHECK(writer.BeginRankings().ok());
  Result<std::string> path = writer.Finish();
  CHECK(path.ok()) << path.status().ToString();
  const double write_s = SecondsSince(start);

  start = std::chrono::steady_clock::now();
  StockTable stock;
  Keyspace keys;
  Result<SnapshotInfo> info = LoadSnapshot(&env, *path, &stock, &keys);
  CHECK(info.ok()) << info.status().ToString();
  const double load_s = SecondsSince(start);
  std::printf("%-32s %9zu members  %10llu bytes  %5.2f bytes/member  write %6.3f s  load %6.3f s\n",
              label, members, static_cast<unsigned long long>(info->file_bytes),
              double(info->file_bytes) / double(members), write_s, load_s);
  std::filesystem::remove(*path);
  return 0;
}

}  // namespace
}  // namespace podium::storage

int main(int argc, char** argv) {
  const size_t members = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::string dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path().string();
  podium::storage::Run(members, dir, "integer scores in [0, 1e6)",
                       [](std::mt19937_64& r) { return double(r() % 1'000'000); });
  podium::storage::Run(members, dir, "random doubles in [0, 1)", [](std::mt19937_64& r) {
    return std::uniform_real_distribution<double>(0, 1)(r);
  });
  return 0;
}
