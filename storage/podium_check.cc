// podium-check: verifies a podium-server data directory offline, and repairs a damaged log.
//
//   podium-check --data_dir data            check; exit 0 if sound, 1 if damaged, 2 on misuse,
//                                           3 if a live server kept changing the directory
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
// while a server holds it. A plain check may run on a live directory, where a snapshot that
// finishes mid-check removes the segments and the snapshot the check is reading: what looks
// like damage may be that. So a plain check that finds damage lists the directory again, and
// if its snapshots or segments changed since the pass began, it checks again (at most
// kCheckPassesMax passes); damage is reported only from a pass the directory held still for.
//
// For tests only: with PODIUM_CHECK_TEST_OPEN_HOOK set, the shell command it holds runs before
// every file is opened for reading (OpenHookEnv), so that a test can change the directory
// exactly where a live server could (tests/podium_check_test.py).
#include <fcntl.h>
#include <gflags/gflags.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.h"
#include "storage/effects.h"
#include "storage/file.h"
#include "storage/recovery.h"
#include "storage/snapshot_format.h"
#include "storage/snapshot_reader.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"

DEFINE_string(data_dir, "", "the data directory to check (or give it as the only argument)");
DEFINE_bool(repair, false, "truncate the log at the first bad record (data after it is lost)");
DEFINE_bool(yes, false, "with --repair: do not ask");

namespace podium::storage {
namespace {

constexpr int kExitSound = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnsettled = 3;  // a live server changed the directory during every pass

// Passes a plain check makes at most while a live server changes the directory under it. A
// pass is discarded only when a snapshot finished during it; several in a row take snapshots
// back to back, and the bound keeps the check finite then.
constexpr int kCheckPassesMax = 5;

constexpr char kOpenHookVariable[] = "PODIUM_CHECK_TEST_OPEN_HOOK";
constexpr char kUsage[] = "podium-check [--repair [--yes]] (--data_dir DIR | DIR)";

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

// For tests only (PODIUM_CHECK_TEST_OPEN_HOOK): runs a shell command before each file is opened
// for reading, with the file's path in PODIUM_CHECK_OPENING, then opens it through `base`.
// Everything else goes straight to `base`.
class OpenHookEnv final : public EnvWrapper {
 public:
  OpenHookEnv(Env* base, std::string command) : EnvWrapper(base), command_(std::move(command)) {}

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    RunHook(path);
    return EnvWrapper::NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    RunHook(path);
    return EnvWrapper::NewRandomAccessFile(path);
  }

 private:
  void RunHook(const std::string& path) {
    std::cout << std::flush;  // the hook's output, if any, comes after ours
    CHECK_EQ(::setenv("PODIUM_CHECK_OPENING", path.c_str(), 1), 0);
    const int status = std::system(command_.c_str());
    CHECK_EQ(status, 0) << kOpenHookVariable << " failed: " << command_;
  }

  const std::string command_;
};

// The names of the snapshots and log segments in `dir`, sorted: what a server's snapshot
// changes when it finishes (it adds a snapshot and removes the files it covers). Other files,
// a snapshot's .tmp among them, do not count.
Result<std::vector<std::string>> ListDataFiles(Env* env, const std::string& dir) {
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> data_files;
  for (const std::string& name : *names) {
    if (snapshot_format::ParseFileName(name) || ParseWalSegmentFileName(name)) {
      data_files.push_back(name);
    }
  }
  std::sort(data_files.begin(), data_files.end());
  return data_files;
}

bool SameFiles(const Result<std::vector<std::string>>& before,
               const Result<std::vector<std::string>>& after) {
  if (!before.ok() || !after.ok()) return before.ok() == after.ok();
  return *before == *after;
}

void PrintSnapshot(std::ostream& out, const std::string& path, const SnapshotInfo& info,
                   std::string_view role) {
  out << "snapshot " << path << ": ok (" << role << "), sequence " << info.wal_sequence << ", "
      << info.file_bytes << " bytes, " << info.stock_counters << " stock counters, " << info.strings
      << " strings, " << info.sorted_sets << " sorted sets (" << info.sorted_set_members
      << " members), " << info.book_entries << " order-book entries, " << info.ranking_entries
      << " ranking entries\n";
}

// Where the log starts after the end of the newest snapshot, so that the records in between
// are in no file: as a backup copied while a snapshot removed segments, or a deleted segment.
struct LogGap {
  std::string snapshot;       // the newest snapshot's file name; empty: none
  uint64_t covered = 0;       // its sequence
  std::string first_segment;  // the log's first segment's file name
  uint64_t first_sequence = 0;
};

// What one pass over the directory found.
struct Examination {
  bool snapshots_sound = true;
  Status log_error;       // what stops the server's start in the log (not repairable by a cut)
  RecoveryReport report;  // with the log's tail: the cut --repair would make, if any
  std::optional<LogGap> gap;

  bool sound() const {
    return snapshots_sound && log_error.ok() &&
           report.tail.kind != WalTail::Kind::kCorruptionDropped;
  }
};

// Loads the snapshot a start would load into *state, as the server does (the newest whose
// file checksum holds: a damaged newer one is passed over for the previous generation), and
// reads the other ones whole. Returns the sequence the log must continue from.
uint64_t CheckSnapshots(Env* env, const std::string& dir, std::unique_ptr<Database>* state,
                        Examination* found, std::ostream& out) {
  Result<std::vector<SnapshotFile>> snapshots = ListSnapshots(env, dir);
  if (!snapshots.ok()) {
    out << "snapshots: DAMAGED: cannot list: " << snapshots.status().message() << "\n";
    found->snapshots_sound = false;
    return 0;
  }
  if (snapshots->empty()) {
    out << "snapshots: none\n";
    return 0;
  }
  Result<uint64_t> loaded = LoadNewestSnapshot(env, dir, state->get(), &found->report);
  for (const RecoveryReport::DamagedSnapshot& damaged : found->report.damaged_snapshots) {
    out << "snapshot " << damaged.path << ": WARNING: damaged (" << damaged.problem
        << "): a start passes over it for the previous generation and renames it to "
        << damaged.path << kDamagedSuffix << "\n";
  }
  if (!loaded.ok()) {
    out << "snapshots: DAMAGED: " << loaded.status().message() << "\n";
    found->snapshots_sound = false;
    *state = std::make_unique<Database>();  // the log is replayed without it
    return snapshots->front().wal_sequence;
  }
  for (const SnapshotFile& file : *snapshots) {
    if (file.path == found->report.snapshot_path) {
      PrintSnapshot(out, file.path, found->report.snapshot, "the server starts from it");
      continue;
    }
    const bool passed_over =
        std::any_of(found->report.damaged_snapshots.begin(), found->report.damaged_snapshots.end(),
                    [&](const RecoveryReport::DamagedSnapshot& d) { return d.path == file.path; });
    if (passed_over) continue;
    Discard discard;
    Result<SnapshotInfo> read = ReadSnapshot(env, file.path, &discard);
    if (!read.ok()) {  // the server does not read it: not damage to the directory
      out << "snapshot " << file.path << ": unreadable (older: the server does not use it; "
          << "it may be removed): " << read.status().message() << "\n";
      continue;
    }
    PrintSnapshot(out, file.path, *read, "older");
  }
  return *loaded;
}

// The gap, if the log's first segment starts past covered + 1 (its name says where it starts:
// nothing in the log can fill what comes before).
std::optional<LogGap> FindLogGap(Env* env, const std::string& dir, uint64_t covered) {
  Result<std::vector<std::string>> names = ListDataFiles(env, dir);
  if (!names.ok()) return std::nullopt;
  LogGap gap;
  gap.covered = covered;
  bool any_segment = false;
  for (const std::string& name : *names) {  // sorted: 20-digit sequences sort as numbers
    if (const std::optional<uint64_t> first = ParseWalSegmentFileName(name);
        first && !any_segment) {
      any_segment = true;
      gap.first_segment = name;
      gap.first_sequence = *first;
    }
    if (snapshot_format::ParseFileName(name) == covered && covered > 0) gap.snapshot = name;
  }
  if (!any_segment || gap.first_sequence <= covered + 1) return std::nullopt;
  return gap;
}

// Replays the log over *state as the server's start would, with its cut at the first
// corruption (truncate_corrupt_wal) so that the report says where a repair would cut.
void CheckLog(Env* env, const std::string& dir, uint64_t covered, Database* state,
              Examination* found, std::ostream& out) {
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
  out << "log: " << found->report.wal_segments << " segments, " << records << " records"
      << (stopped ? " read before the damage" : "");
  if (records > 0) out << " (sequences " << first << " to " << last << ")";
  out << "\n";
  for (const auto& [type, count] : by_type) {
    out << "  " << EffectName(type) << ": " << count << "\n";
  }
  for (const std::string& stray : found->report.stray_segments) {
    out << "log: skipped " << stray << ": a stray, not part of this log (its name falls inside "
        << "records already read; the server skips it too, docs/wal_format.md)\n";
  }
  if (!found->log_error.ok()) {
    out << "log: DAMAGED: " << found->log_error.message() << "\n";
    if (found->log_error.code() == StatusCode::kCorruption) {
      found->gap = FindLogGap(env, dir, covered);
    }
    return;
  }
  const WalTail& tail = found->report.tail;
  if (tail.kind == WalTail::Kind::kTornWrite) {
    out << "log: torn tail in " << tail.file << " at offset " << tail.offset << " ("
        << tail.bytes_dropped << " bytes; " << tail.reason
        << "): normal after a crash, the server cuts it at start\n";
  } else if (tail.kind == WalTail::Kind::kCorruptionDropped) {
    out << "log: DAMAGED: first bad record in " << tail.file << " at offset " << tail.offset << " ("
        << tail.reason << "); a repair drops " << tail.records_dropped << " records ("
        << tail.bytes_dropped << " bytes) and " << tail.segments_dropped << " later segments\n";
  }
}

// Whether the previous generation could stand in for the snapshot a start loads, were that
// one to rot: the snapshot before it (or, with none, the log from its first record) and the
// log after it must replay through the newest one's sequence. A start never reads them, so
// only this finds them broken; the server starts either way, so it is a warning.
void CheckPreviousGeneration(Env* env, const std::string& dir, const Examination& found,
                             std::ostream& out) {
  if (found.report.snapshot_path.empty()) return;  // nothing for it to stand in for
  const uint64_t newest = found.report.snapshot.wal_sequence;
  Database scratch;
  RecoveryReport previous;
  Result<uint64_t> covered = LoadNewestSnapshot(env, dir, &scratch, &previous, newest);
  Status status = covered.status();
  if (status.ok()) status = ReplayWal(env, dir, *covered, &scratch, {}, &previous);
  if (status.ok() && previous.log_last_sequence < newest) {
    status =
        Status::Corruption("the log ends at record " + std::to_string(previous.log_last_sequence) +
                           ", before record " + std::to_string(newest));
  }
  const std::string base = previous.snapshot_path.empty()
                               ? std::string("the log from its first record")
                               : previous.snapshot_path + " and the log after it";
  if (!status.ok()) {
    out << "previous generation: WARNING: " << base << " cannot stand in for "
        << found.report.snapshot_path << " if it is damaged: " << status.message() << "\n";
    return;
  }
  out << "previous generation: ok (" << base << " replay through record " << newest << ")\n";
}

// One pass over the directory, printing what it finds. The scratch state goes at return.
Examination Examine(Env* env, const std::string& dir, std::ostream& out) {
  Examination found;
  auto state = std::make_unique<Database>();
  const uint64_t covered = CheckSnapshots(env, dir, &state, &found, out);
  CheckLog(env, dir, covered, state.get(), &found, out);
  state.reset();
  if (found.sound()) CheckPreviousGeneration(env, dir, found, out);
  return found;
}

// What to do about damage a cut cannot repair.
std::string Remedy(const Examination& found) {
  if (!found.snapshots_sound) {
    return "a snapshot is damaged, and neither the previous generation nor the log can stand "
           "in for it: restore a backup, or start empty by moving every snapshot-* and wal-* "
           "file away (all data is lost)";
  }
  if (!found.report.damaged_snapshots.empty()) {
    return "the newest snapshot is damaged, and the previous generation cannot stand in for "
           "it (its log does not continue it): restore a backup, or start empty by moving "
           "every snapshot-* and wal-* file away (all data is lost)";
  }
  if (found.gap) {
    const LogGap& gap = *found.gap;
    return "records " + std::to_string(gap.covered + 1) + " to " +
           std::to_string(gap.first_sequence - 1) + " are in no file (" +
           (gap.snapshot.empty()
                ? std::string("there is no snapshot")
                : "snapshot " + gap.snapshot + " ends at " + std::to_string(gap.covered)) +
           ", the log starts with " + gap.first_segment +
           "): if this is a backup copy, it was taken while a snapshot removed segments: take it "
           "again; otherwise restore a backup";
  }
  return "restore a backup";
}

// Prints the last line of a check and returns its exit status.
int Verdict(const Examination& found) {
  if (found.sound()) {
    std::cout << "sound\n";
    return kExitSound;
  }
  if (found.snapshots_sound && found.log_error.ok()) {
    std::cout << "DAMAGED: the server would refuse to start (podium-check --repair cuts the log "
                 "at the bad record)\n";
    return kExitDamaged;
  }
  std::cout << "DAMAGED: the server would refuse to start, and a cut cannot repair this: "
            << Remedy(found) << " (docs/operations.md)\n";
  return kExitDamaged;
}

// A plain check, which a live server may change the directory under: a pass that finds damage
// counts only if the directory's snapshots and segments held still for it.
int CheckUntilSettled(Env* env, const std::string& dir) {
  std::string last_pass;
  for (int pass = 1; pass <= kCheckPassesMax; ++pass) {
    const Result<std::vector<std::string>> before = ListDataFiles(env, dir);
    std::ostringstream out;
    const Examination found = Examine(env, dir, out);
    if (found.sound() || SameFiles(before, ListDataFiles(env, dir))) {
      std::cout << out.str();
      return Verdict(found);
    }
    std::cout << "pass " << pass << " of " << kCheckPassesMax
              << " found damage, but the directory's snapshots or segments changed during it "
                 "(a live server finished a snapshot and removed what it covers): checking "
                 "again\n";
    last_pass = out.str();
  }
  std::cout << "the last pass found (the directory changed under it too):\n" << last_pass;
  std::cout << "UNSETTLED: the directory's snapshots or segments changed during each of "
            << kCheckPassesMax
            << " passes (a live server taking snapshots), so nothing above shows damage: check "
               "again, or check a backup copy\n";
  return kExitUnsettled;
}

// Asks at a terminal (unless --yes); says so when the answer is no.
bool Confirm() {
  if (FLAGS_yes) return true;
  if (!::isatty(STDIN_FILENO)) {
    std::cout << "not a terminal: pass --yes to repair without asking; nothing was changed\n";
    return false;
  }
  std::cout << "Truncate the log there? Everything after it is lost. [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) std::cout << "\n";  // end of input: the line was not ended
  if (answer == "y" || answer == "Y" || answer == "yes") return true;
  std::cout << "not repaired; nothing was changed\n";
  return false;
}

int Repair(Env* env, const std::string& dir, const Examination& found) {
  if (!found.snapshots_sound || !found.log_error.ok()) {
    std::cout << "--repair only cuts the log at a bad record, and cannot repair this: "
              << Remedy(found) << "; nothing was changed\n";
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
  return Verdict(Examine(env, dir, std::cout));
}

int Run(const std::string& dir) {
  PosixEnv posix_env;
  Env* env = &posix_env;
  std::unique_ptr<OpenHookEnv> hooked_env;
  if (const char* hook = std::getenv(kOpenHookVariable); hook != nullptr && *hook != '\0') {
    hooked_env = std::make_unique<OpenHookEnv>(&posix_env, hook);
    env = hooked_env.get();
  }
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
  if (FLAGS_repair) return Repair(env, dir, Examine(env, dir, std::cout));
  if (DirectoryLock::HeldByServer(dir)) {
    std::cout << "note: " << DirectoryLock::InUse(dir)
              << ": checking a live directory (its last segment may be in the middle of a "
                 "write, and a snapshot finishing meanwhile makes the check start again)\n";
  }
  return CheckUntilSettled(env, dir);
}

// gflags' own parser exits 1 on an unknown flag and on --help, the status that means
// "damaged" here; this one sets the same flags through gflags and leaves the exit to main.
// Accepts what gflags does: -flag or --flag, =value or the next argument, --noflag for a bool,
// "--" before arguments that start with '-'. Sets *help for --help (and -h, --helpshort,
// --helpfull); appends the other arguments to *arguments.
Status ParseFlags(int argc, char** argv, bool* help, std::vector<std::string>* arguments) {
  bool flags_ended = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (flags_ended || arg.size() < 2 || arg[0] != '-') {
      arguments->emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t equals = arg.find('=');
    std::string name(arg.substr(0, equals));
    std::optional<std::string> value;
    if (equals != std::string_view::npos) value = std::string(arg.substr(equals + 1));
    if (name == "help" || name == "h" || name == "helpshort" || name == "helpfull") {
      *help = true;
      continue;
    }
    gflags::CommandLineFlagInfo info;
    if (!gflags::GetCommandLineFlagInfo(name.c_str(), &info)) {
      const std::string negated = name.substr(std::min<size_t>(2, name.size()));
      if (name.starts_with("no") && !value &&
          gflags::GetCommandLineFlagInfo(negated.c_str(), &info) && info.type == "bool") {
        name = negated;
        value = "false";
      } else {
        return Status::InvalidArgument("unknown flag " + std::string(argv[i]));
      }
    }
    if (!value && info.type == "bool") value = "true";
    if (!value && i + 1 == argc) return Status::InvalidArgument("--" + name + " needs a value");
    if (!value) value = argv[++i];
    if (gflags::SetCommandLineOption(name.c_str(), value->c_str()).empty()) {
      return Status::InvalidArgument("bad value for --" + name + ": '" + *value + "'");
    }
  }
  return Status::Ok();
}

// The directory to check, from --data_dir or the one argument; an error is a usage error.
Result<std::string> DirectoryToCheck(const std::vector<std::string>& arguments) {
  if (!FLAGS_data_dir.empty() && !arguments.empty()) {
    return Status::InvalidArgument("the directory is given twice (--data_dir " + FLAGS_data_dir +
                                   " and " + arguments.front() + ")");
  }
  if (arguments.size() > 1) return Status::InvalidArgument("more than one directory given");
  const std::string dir = arguments.empty() ? FLAGS_data_dir : arguments.front();
  if (dir.empty()) return Status::InvalidArgument("no directory given");
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return Status::InvalidArgument("no such directory: " + dir +
                                     " (a server would create it and start empty)");
    }
    return Status::InvalidArgument("cannot stat " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(info.st_mode)) return Status::InvalidArgument("not a directory: " + dir);
  return dir;
}

int Main(int argc, char** argv) {
  gflags::SetUsageMessage(std::string("checks a podium-server data directory, and repairs a "
                                      "damaged log; docs/operations.md\n  ") +
                          kUsage +
                          "\n  exit status: 0 sound, 1 damaged (or not repaired), 2 usage "
                          "error, 3 a live server kept changing the directory");
  bool help = false;
  std::vector<std::string> arguments;
  Status parsed = ParseFlags(argc, argv, &help, &arguments);
  if (parsed.ok() && help) {
    gflags::ShowUsageWithFlagsRestrict(argv[0], "podium_check");
    return kExitSound;
  }
  Result<std::string> dir = parsed.ok() ? DirectoryToCheck(arguments) : Result<std::string>(parsed);
  if (!dir.ok()) {
    std::cerr << "podium-check: " << dir.status().message() << "\nusage: " << kUsage
              << " (--help for more)\n";
    return kExitUsage;
  }
  return Run(*dir);
}

}  // namespace
}  // namespace podium::storage

int main(int argc, char** argv) { return podium::storage::Main(argc, argv); }
