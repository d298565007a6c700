// podium-check: verifies a podium-server data directory offline, and repairs a damaged log.
//
//   podium-check --data_dir data            check; exit 0 if sound, 1 if damaged, 2 on misuse
//   podium-check --data_dir data --repair   cut the log at its first bad record (asks first;
//                                           --yes answers for you)
//
// "Damaged" means exactly "the server would refuse to start": the check runs the server's own
// recovery steps (storage/recovery.h: LoadNewestSnapshot, ReplayWal) against a scratch copy of
// the state, changing nothing. The newest snapshot is loaded whole (header, block and file
// checksums, every entry); the log is read record by record (segment headers, checksums, the
// sequence chain), must continue that snapshot without a gap, and every record after it is
// replayed with the server's decoder (an effect that does not decode is damage at its file and
// offset). That costs about the memory the server needs for the same data. Older snapshots are
// read whole too (the server does not use them: a damaged one is reported, but is not damage). A
// torn tail (the last record cut by a crash) is reported but is not damage: the server cuts it
// at start. docs/operations.md shows how to use it.
//
// --repair takes the directory's LOCK as the server does (server/persistence.cc) and refuses
// while a server holds it; a plain check may run on a live directory, and says so.
#include <fcntl.h>
#include <gflags/gflags.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "storage/database.h"
#include "storage/effects.h"
#include "storage/file.h"
#include "storage/recovery.h"
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

// The file a running server holds an exclusive flock on (server/persistence.cc).
constexpr char kLockFileName[] = "LOCK";

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

// The directory's LOCK, held exclusively while a repair runs (released at exit).
class DirectoryLock {
 public:
  // Takes it without waiting, creating the file as the server does. The error says why not.
  static Result<std::unique_ptr<DirectoryLock>> Take(const std::string& dir) {
    const std::string path = JoinPath(dir, kLockFileName);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK) return Status::Busy(InUse(dir));
      return Status::IoError("flock " + path + ": " + std::strerror(error));
    }
    return std::unique_ptr<DirectoryLock>(new DirectoryLock(fd));
  }

  // True if a server holds it now. Creates nothing; holds a shared lock for an instant.
  static bool HeldByServer(const std::string& dir) {
    const std::string path = JoinPath(dir, kLockFileName);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;  // no LOCK: no server ever used the directory, or none uses it
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);  // releases a shared lock if it got one
    return held;
  }

  static std::string InUse(const std::string& dir) {
    return dir + " is in use by a podium-server (" + JoinPath(dir, kLockFileName) + " is locked)";
  }

  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock() { ::close(fd_); }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  const int fd_;
};

void PrintSnapshot(const std::string& path, const SnapshotInfo& info, std::string_view role) {
  std::cout << "snapshot " << path << ": ok (" << role << "), sequence " << info.wal_sequence
            << ", " << info.file_bytes << " bytes, " << info.stock_counters << " stock counters, "
            << info.strings << " strings, " << info.sorted_sets << " sorted sets ("
            << info.sorted_set_members << " members), " << info.book_entries
            << " order-book entries, " << info.ranking_entries << " ranking entries\n";
}

// What one pass over the directory found.
struct Examination {
  bool snapshots_sound = true;
  Status log_error;       // what stops the server's start in the log (not repairable by a cut)
  RecoveryReport report;  // with the log's tail: the cut --repair would make, if any

  bool sound() const {
    return snapshots_sound && log_error.ok() &&
           report.tail.kind != WalTail::Kind::kCorruptionDropped;
  }
};

// Loads the newest snapshot into *state as the server would, and reads the older ones whole.
// Returns the sequence the log must continue from: the newest snapshot's, damaged or not.
uint64_t CheckSnapshots(Env* env, const std::string& dir, std::unique_ptr<Database>* state,
                        Examination* found) {
  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) {
    std::cout << "snapshots: DAMAGED: cannot list: " << snapshots.status().message() << "\n";
    found->snapshots_sound = false;
    return 0;
  }
  if (snapshots->empty()) std::cout << "snapshots: none\n";
  for (const SnapshotFile& file : *snapshots) {
    const bool newest = &file == &snapshots->front();
    Status status = Status::Ok();
    SnapshotInfo info;
    if (newest) {
      Result<uint64_t> loaded = LoadNewestSnapshot(env, dir, state->get(), &found->report);
      if (loaded.ok()) info = found->report.snapshot;
      if (!loaded.ok()) status = loaded.status();
    } else {
      Discard discard;
      Result<SnapshotInfo> read = ReadSnapshot(env, file.path, &discard);
      if (read.ok()) info = *read;
      if (!read.ok()) status = read.status();
    }
    if (!status.ok() && !newest) {  // the server never reads it: not damage to the directory
      std::cout << "snapshot " << file.path << ": unreadable (older: the server does not use it; "
                << "it may be removed): " << status.message() << "\n";
      continue;
    }
    if (!status.ok()) {
      std::cout << "snapshot " << file.path << ": DAMAGED: " << status.message() << "\n";
      found->snapshots_sound = false;
      *state = std::make_unique<Database>();  // the log is replayed without it
      continue;
    }
    PrintSnapshot(file.path, info, newest ? "newest: the server starts from it" : "older");
  }
  return snapshots->empty() ? 0 : snapshots->front().wal_sequence;
}

// Replays the log over *state as the server's start would, with its cut at the first
// corruption (truncate_corrupt_wal) so that the report says where a repair would cut.
void CheckLog(Env* env, const std::string& dir, uint64_t covered, Database* state,
              Examination* found) {
  std::map<uint8_t, uint64_t> by_type;
  uint64_t records = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  RecoveryOptions options;
  options.truncate_corrupt_wal = true;  // nothing is cut here: the report says where it would be
  found->log_error =
      ReplayWal(env, dir, covered, state, options, &found->report, [&](const WalRecord& record) {
        if (records++ == 0) first = record.sequence;
        last = record.sequence;
        ++by_type[record.type];
      });
  const bool stopped =
      !found->log_error.ok() || found->report.tail.kind == WalTail::Kind::kCorruptionDropped;
  std::cout << "log: " << found->report.wal_segments << " segments, " << records << " records"
            << (stopped ? " read before the damage" : "");
  if (records > 0) std::cout << " (sequences " << first << " to " << last << ")";
  std::cout << "\n";
  for (const auto& [type, count] : by_type) {
    std::cout << "  " << EffectName(type) << ": " << count << "\n";
  }
  if (!found->log_error.ok()) {
    std::cout << "log: DAMAGED: " << found->log_error.message() << "\n";
    return;
  }
  const WalTail& tail = found->report.tail;
  if (tail.kind == WalTail::Kind::kTornWrite) {
    std::cout << "log: torn tail in " << tail.file << " at offset " << tail.offset << " ("
              << tail.bytes_dropped << " bytes; " << tail.reason
              << "): normal after a crash, the server cuts it at start\n";
  } else if (tail.kind == WalTail::Kind::kCorruptionDropped) {
    std::cout << "log: DAMAGED: first bad record in " << tail.file << " at offset " << tail.offset
              << " (" << tail.reason << "); a repair drops " << tail.records_dropped << " records ("
              << tail.bytes_dropped << " bytes) and " << tail.segments_dropped
              << " later segments\n";
  }
}

// One pass over the directory, printing what it finds. The scratch state goes at return.
Examination Examine(Env* env, const std::string& dir) {
  Examination found;
  auto state = std::make_unique<Database>();
  const uint64_t covered = CheckSnapshots(env, dir, &state, &found);
  CheckLog(env, dir, covered, state.get(), &found);
  return found;
}

// Prints the last line of a check and returns its exit status.
int Verdict(const Examination& found) {
  if (found.sound()) {
    std::cout << "sound\n";
    return kExitSound;
  }
  const bool cuttable = found.snapshots_sound && found.log_error.ok();
  std::cout << "DAMAGED: the server would refuse to start ("
            << (cuttable ? "podium-check --repair cuts the log at the bad record"
                         : "a cut cannot repair this: restore a backup, docs/operations.md")
            << ")\n";
  return kExitDamaged;
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

int Repair(Env* env, const std::string& dir, const Examination& found) {
  if (!found.snapshots_sound) {
    std::cout << "a damaged snapshot cannot be repaired: move it away (its log segments are "
                 "gone, so the data since the previous snapshot is lost) or restore a backup\n";
    return kExitDamaged;
  }
  if (!found.log_error.ok()) {
    std::cout << "the damage is not a bad record --repair can cut at; restore a backup\n";
    return kExitDamaged;
  }
  const WalTail& cut = found.report.tail;
  if (cut.kind != WalTail::Kind::kCorruptionDropped) {
    std::cout << "nothing to repair\n";
    return kExitSound;
  }
  if (!Confirm()) return kExitDamaged;
  if (Status status = TruncateWal(env, dir, cut); !status.ok()) {
    std::cout << "repair failed: " << status.message() << "\n";
    return kExitDamaged;
  }
  std::cout << "repaired: log cut at " << cut.file << " offset " << cut.offset << "; "
            << cut.records_dropped << " records (" << cut.bytes_dropped << " bytes) dropped, "
            << cut.segments_dropped << " later segments removed\n";
  std::cout << "checking " << dir << " again\n";
  return Verdict(Examine(env, dir));
}

int Run(const std::string& dir) {
  PosixEnv env;
  std::unique_ptr<DirectoryLock> lock;  // held until exit while repairing
  if (FLAGS_repair) {
    Result<std::unique_ptr<DirectoryLock>> taken = DirectoryLock::Take(dir);
    if (!taken.ok()) {
      std::cout << taken.status().message() << ": stop it before --repair; nothing was changed\n";
      return kExitDamaged;
    }
    lock = std::move(taken).value();
  }
  std::cout << "checking " << dir << "\n";
  if (!FLAGS_repair && DirectoryLock::HeldByServer(dir)) {
    std::cout << "note: " << DirectoryLock::InUse(dir)
              << ": checking a live directory (its last segment may be in the middle of a "
                 "write)\n";
  }
  const Examination found = Examine(&env, dir);
  if (FLAGS_repair) return Repair(&env, dir, found);
  return Verdict(found);
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
