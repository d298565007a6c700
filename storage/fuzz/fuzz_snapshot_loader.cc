// Fuzzes the snapshot loader (ReadSnapshot into fresh tables) with arbitrary bytes as a
// snapshot file on FaultInjectionEnv. Invariants: no crash, no out-of-bounds read, no
// allocation past the limits; every failure is a Corruption; a file that loads has footer
// counts equal to what the tables received (less the strings a sorted set of the same key
// replaced).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/fault_injection_file.h"
#include "storage/fuzz/fuzz_check.h"
#include "storage/keyspace.h"
#include "storage/snapshot_reader.h"
#include "storage/stock_table.h"

namespace podium::storage::fuzz {
namespace {

constexpr char kPath[] = "/snap/snapshot-00000000000000000001.snap";

void Run(std::string_view bytes) {
  FaultInjectionEnv env;
  PODIUM_FUZZ_CHECK(env.CreateDir("/snap").ok());
  {
    Result<std::unique_ptr<WritableFile>> file = env.NewWritableFile(kPath);
    PODIUM_FUZZ_CHECK(file.ok());
    PODIUM_FUZZ_CHECK((*file)->Append(bytes).ok());
    PODIUM_FUZZ_CHECK((*file)->Close().ok());
  }
  StockTable stock(1 << 16);
  Keyspace keyspace;
  Result<SnapshotInfo> info = LoadSnapshot(&env, kPath, &stock, &keyspace);
  if (!info.ok()) {
    PODIUM_FUZZ_CHECK(info.status().code() == StatusCode::kCorruption);
    return;
  }
  PODIUM_FUZZ_CHECK(info->file_bytes == bytes.size());
  PODIUM_FUZZ_CHECK(info->stock_counters == stock.size());
  PODIUM_FUZZ_CHECK(info->sorted_sets == keyspace.sorted_set_count());
  // A string entry is loaded, or replaced by a sorted set of its key (snapshot_format.md, "A key
  // in both sections").
  PODIUM_FUZZ_CHECK(keyspace.string_count() <= info->strings);
  PODIUM_FUZZ_CHECK(info->strings <= keyspace.string_count() + keyspace.sorted_set_count());
}

}  // namespace
}  // namespace podium::storage::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  podium::storage::fuzz::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
