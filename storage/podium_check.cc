// podium-check: verifies a podium-server data directory offline, and repairs a damaged log.
//
//   podium-check --data_dir data            check; exit 0 if sound, 1 if damaged, 2 on misuse
//   podium-check --data_dir data --repair   cut the log at its first bad record (asks first;
//                                           --yes answers for you)
//
// Every snapshot is read whole (header, block and file checksums, every entry); the log is
// read record by record (segment headers, checksums, the sequence chain), and must continue
// the newest snapshot without a gap. A torn tail (the last record cut by a crash) is reported
// but is not damage: the server cuts it at start. docs/operations.md shows how to use it.
// Never run it on a directory a running server is writing.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include <gflags/gflags.h>

#include "storage/effects.h"
#include "storage/file.h"
#include "storage/snapshot_reader.h"
#include "storage/wal_reader.h"

DEFINE_string(data_dir, "", "the data directory to check (or give it as the only argument)");
DEFINE_bool(repair, false, "truncate the log at the first bad record (data after it is lost)");
DEFINE_bool(yes, false, "with --repair: do not ask");

namespace podium::storage {
namespace {

constexpr int kExitSound = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;

// Checks entries without keeping them.
class Discard final : public SnapshotVisitor {
 public:
  Status OnStock(uint64_t, int64_t) override { return Status::Ok(); }
  Status OnString(std::string_view, std::string_view, std::optional<int64_t>) override {
    return Status::Ok();
  }
  Status OnSortedSet(std::string_view, std::optional<int64_t>,
                     std::unique_ptr<SortedSet>) override {
    return Status::Ok();
  }
};

std::string_view EffectName(uint8_t type) {
  switch (static_cast<EffectType>(type)) {
    case EffectType::kStockSet:
      return "stock";
    case EffectType::kStringPut:
      return "string put";
    case EffectType::kKeyDelete:
      return "key delete";
    case EffectType::kKeyDeadline:
      return "key deadline";
    case EffectType::kSortedSetPut:
      return "sorted-set put";
    case EffectType::kSortedSetRemove:
      return "sorted-set remove";
    case EffectType::kBook:
      return "order book";
    case EffectType::kRanking:
      return "ranking";
  }
  return "unknown";
}

// Returns the newest snapshot's sequence (0: none), or nullopt if a snapshot is damaged.
std::optional<uint64_t> CheckSnapshots(Env* env, const std::string& dir) {
  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) {
    std::cout << "snapshots: cannot list: " << snapshots.status().message() << "\n";
    return std::nullopt;
  }
  if (snapshots->empty()) std::cout << "snapshots: none\n";
  bool sound = true;
  for (const SnapshotFile& file : *snapshots) {
    Discard discard;
    Result<SnapshotInfo> info = ReadSnapshot(env, file.path, &discard);
    if (!info.ok()) {
      std::cout << "snapshot " << file.path << ": DAMAGED: " << info.status().message() << "\n";
      sound = false;
      continue;
    }
    std::cout << "snapshot " << file.path << ": ok, sequence " << info->wal_sequence << ", "
              << info->file_bytes << " bytes, " << info->stock_counters << " stock counters, "
              << info->strings << " strings, " << info->sorted_sets << " sorted sets ("
              << info->sorted_set_members << " members), " << info->book_entries
              << " order-book entries, " << info->ranking_entries << " ranking entries\n";
  }
  if (!sound) return std::nullopt;
  return snapshots->empty() ? 0 : snapshots->front().wal_sequence;
}

struct LogSummary {
  bool sound = true;
  WalTail tail;
};

LogSummary CheckLog(Env* env, const std::string& dir, uint64_t snapshot_sequence,
                    bool truncate_at_corruption) {
  LogSummary summary;
  WalReaderOptions options;
  options.truncate_at_first_corruption = truncate_at_corruption;
  Result<std::unique_ptr<WalReader>> reader = WalReader::Open(env, dir, options);
  if (!reader.ok()) {
    std::cout << "log: cannot open: " << reader.status().message() << "\n";
    summary.sound = false;
    return summary;
  }
  std::map<uint8_t, uint64_t> by_type;
  uint64_t records = 0;
  uint64_t first = 0;
  WalRecord record;
  for (;;) {
    Result<bool> next = (*reader)->Next(&record);
    if (!next.ok()) {
      std::cout << "log: DAMAGED: " << next.status().message() << "\n";
      summary.sound = false;
      break;
    }
    if (!*next) break;
    if (records == 0) first = record.sequence;
    ++records;
    ++by_type[record.type];
  }
  summary.tail = (*reader)->tail();
  std::cout << "log: " << (*reader)->segment_count() << " segments, " << records << " records";
  if (records > 0) std::cout << " (sequences " << first << " to " << (*reader)->last_sequence() << ")";
  std::cout << "\n";
  for (const auto& [type, count] : by_type) {
    std::cout << "  " << EffectName(type) << ": " << count << "\n";
  }
  if (records > 0 && snapshot_sequence > 0 && first > snapshot_sequence + 1) {
    std::cout << "log: DAMAGED: it starts at " << first << " but the newest snapshot ends at "
              << snapshot_sequence << "; records in between are missing\n";
    summary.sound = false;
  }
  if (summary.tail.kind == WalTail::Kind::kTornWrite) {
    std::cout << "log: torn tail in " << summary.tail.file << " at offset " << summary.tail.offset
              << " (" << summary.tail.bytes_dropped << " bytes; " << summary.tail.reason
              << "): normal after a crash, the server cuts it at start\n";
  } else if (summary.tail.kind == WalTail::Kind::kCorruptionDropped) {
    std::cout << "log: first bad record in " << summary.tail.file << " at offset "
              << summary.tail.offset << " (" << summary.tail.reason << "); a repair drops "
              << summary.tail.bytes_dropped << " bytes and " << summary.tail.segments_dropped
              << " later segments\n";
  }
  return summary;
}

bool Confirm() {
  if (FLAGS_yes) return true;
  if (!::isatty(STDIN_FILENO)) {
    std::cout << "not a terminal: pass --yes to repair without asking\n";
    return false;
  }
  std::cout << "Truncate the log there? Everything after it is lost. [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

int Run(const std::string& dir) {
  PosixEnv env;
  std::cout << "checking " << dir << "\n";
  const std::optional<uint64_t> snapshot_sequence = CheckSnapshots(&env, dir);
  LogSummary log = CheckLog(&env, dir, snapshot_sequence.value_or(0), /*truncate=*/false);
  const bool sound = snapshot_sequence.has_value() && log.sound;
  if (!FLAGS_repair) {
    std::cout << (sound ? "sound\n" : "DAMAGED (podium-check --repair cuts a damaged log)\n");
    return sound ? kExitSound : kExitDamaged;
  }
  if (!snapshot_sequence.has_value()) {
    std::cout << "a damaged snapshot cannot be repaired: move it away (its log segments are "
                 "gone, so the data since the previous snapshot is lost) or restore a backup\n";
    return kExitDamaged;
  }
  if (log.sound) {
    std::cout << "nothing to repair\n";
    return kExitSound;
  }
  LogSummary cut = CheckLog(&env, dir, *snapshot_sequence, /*truncate=*/true);
  if (cut.tail.kind != WalTail::Kind::kCorruptionDropped) {
    std::cout << "the damage is not a bad record --repair can cut at\n";
    return kExitDamaged;
  }
  if (!Confirm()) return kExitDamaged;
  if (Status status = TruncateWal(&env, dir, cut.tail); !status.ok()) {
    std::cout << "repair failed: " << status.message() << "\n";
    return kExitDamaged;
  }
  std::cout << "repaired: log cut at " << cut.tail.file << " offset " << cut.tail.offset << "\n";
  return CheckLog(&env, dir, *snapshot_sequence, false).sound ? kExitSound : kExitDamaged;
}

}  // namespace
}  // namespace podium::storage

int main(int argc, char** argv) {
  gflags::SetUsageMessage("podium-check --data_dir DIR [--repair [--yes]]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::string dir = FLAGS_data_dir;
  if (dir.empty() && argc == 2) dir = argv[1];
  if (dir.empty() || argc > 2) {
    std::cerr << "usage: podium-check --data_dir DIR [--repair [--yes]]\n";
    return podium::storage::kExitUsage;
  }
  return podium::storage::Run(dir);
}
