// FaultInjectionEnv: an in-memory Env for crash tests (LevelDB's fault_injection_test is the
// model, made stricter about directory entries). It keeps apart what a disk keeps apart: a
// file's bytes, and the directory entries that name the file.
//
// Bytes: per file, every byte written and how many of them a Sync made durable.
// Entries: two name -> file maps. The live one is what the running program sees; creations,
// removals and renames change it at once. The durable one is what a crash leaves: each
// directory's entries as its last SyncDir saw them (a SyncDir of one directory commits nothing
// in another).
//
// What SimulateCrash() leaves, exactly:
// - The durable names, each naming the file it named at its directory's last SyncDir. So a
//   file created since then is gone; a file removed since then is back; a file renamed since
//   then is back under its old name, and the file that rename replaced, if any, is back under
//   the new name. A RemovalPolicy (below) may let some unsynced removals stand instead.
// - In each of those files, its synced bytes, then of its unsynced bytes what the CrashPolicy
//   keeps (none without one): a prefix of them, then a run of zeros (a torn write: the page
//   reached the disk partly, or the file's size grew before its data did). A file that was
//   removed or replaced comes back with the bytes it had synced, like any other.
// A reserve (WritableFile::Reserve) is zeros appended to the contents, durable at the next
// Sync like any bytes; an append over it ends the durable prefix where the append starts.
//
// Durable at once: Truncate (as in PosixEnv, which fsyncs the file before it returns), the
// truncating open of an existing file by NewWritableFile, and CreateDir. A crash stops them
// only before they start (the call fails and changes nothing), never halfway, where a real one
// may have changed the file without returning; and a crash never undoes a truncating open.
// Leaving that out is harmless for this codebase: a cut only drops bytes that are not log
// records (a closed segment's reserve of zeros, which a reader takes as the end anyway; a torn
// tail, or one the operator chose to drop, which the next recovery finds again), and the only
// files reopened for writing are a snapshot's .tmp (ignored when left over) and a WAL segment
// with no record, rewritten with the same header.
//
// Not modelled, on purpose: renames across directories (CHECKed; the storage engine renames a
// snapshot within its data directory only), hard links (a file has one name), and
// directories beyond their names (CreateDir remembers them, GetChildren lists the files
// under one).
//
// Thread-safety: every call, of the env and of its files, may come from any thread: one mutex
// (recursive, so that a crash policy may look at the env) orders them, as a server's WAL
// thread and its snapshot writer share one env in the crash tests. MutableContents hands out a
// reference: use it only while no other thread writes. Files opened before a crash must not
// be used after it (CHECKed): the writer that held them died in the crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "storage/file.h"

namespace podium::storage {

class FaultInjectionEnv final : public Env {
 public:
  // What survives of one file's unsynced bytes at a crash: the first `bytes_kept` of them, then
  // `zero_bytes` zero bytes (bytes_kept + zero_bytes <= the unsynced bytes).
  struct UnsyncedSurvival {
    uint64_t bytes_kept = 0;
    uint64_t zero_bytes = 0;
  };
  // Chooses the survival of each file that has unsynced bytes at the crash.
  using CrashPolicy =
      std::function<UnsyncedSurvival(const std::string& path, uint64_t unsynced_bytes)>;
  // Whether the removal of `path` reached the disk although no SyncDir followed it: asked of
  // each name that is durable but gone from the live names (a RemoveFile, or a RenameFile's
  // old name). A file system orders its directory updates only at a directory sync, so a
  // removal may reach the disk before an earlier change in the same directory.
  using RemovalPolicy = std::function<bool(const std::string& path)>;

  FaultInjectionEnv() = default;
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status CreateDir(const std::string& dir) override;
  Status SyncDir(const std::string& dir) override;

  // A power cut (see the top of the file). Without a policy every unsynced byte is lost;
  // without a removal policy every unsynced entry change is undone. Also ends
  // CrashAfterOperations.
  void SimulateCrash(const CrashPolicy& policy = nullptr, const RemovalPolicy& removals = nullptr);

  // The machine dies after `operations` more changing calls (create, append, sync, truncate,
  // remove, rename, directory sync): every one after that fails with IoError and changes
  // nothing, until SimulateCrash. Lets a test stop a writer between any two of its calls.
  void CrashAfterOperations(uint64_t operations) {
    std::lock_guard<std::recursive_mutex> lock(device_.mutex);
    device_.operations_left = operations;
  }

  // Test access to the bytes of the file a live name names (all written, synced or not);
  // CHECKs that it exists.
  std::string& MutableContents(const std::string& path);
  uint64_t SyncedBytes(const std::string& path) const;
  bool FileExists(const std::string& path) const;

  // Counts sync calls (file and directory), for tests that check group commit.
  uint64_t sync_calls() const {
    std::lock_guard<std::recursive_mutex> lock(device_.mutex);
    return device_.sync_calls;
  }

  // Shared with the file objects; public only so that they can name it.
  struct FileState {
    std::string contents;
    uint64_t synced_bytes = 0;
  };
  struct DeviceState {
    mutable std::recursive_mutex mutex;  // held through every call of the env and its files
    uint64_t generation = 0;  // bumped by every crash; file objects carry the one they saw
    uint64_t sync_calls = 0;
    std::optional<uint64_t> operations_left;  // set by CrashAfterOperations
    // Counts one changing call; IoError once the machine is down.
    Status TakeOperation();
  };

 private:
  std::shared_ptr<FileState> Find(const std::string& path) const;
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path, bool truncate);

  using Names = std::map<std::string, std::shared_ptr<FileState>>;  // path -> file

  Names files_;          // the live names
  Names durable_files_;  // per directory, its names as its last SyncDir saw them
  std::set<std::string> dirs_;
  DeviceState device_;
};

}  // namespace podium::storage
