// FaultInjectionEnv: an in-memory Env for crash tests (LevelDB's fault_injection_test is the
// model). It keeps, per file, every byte written and how many of them a Sync made durable, and
// per directory which created files a SyncDir made durable. SimulateCrash() then throws away
// what a power cut could lose: the unsynced bytes of every file, optionally keeping a prefix of
// them and a run of zeros after it (a torn write: the page reached the disk partly, or the
// file's size grew before its data did), and every file created since its directory's last
// SyncDir.
//
// A reserve (WritableFile::Reserve) is zeros appended to the contents, durable at the next
// Sync like any bytes; an append over it ends the durable prefix where the append starts.
//
// Simplifications, on purpose: removals, renames and truncations are durable at once; a file
// is identified by its path string (no hard links); directories are only names (CreateDir
// remembers them, GetChildren lists the files under one).
//
// Thread-safety: none; a test drives it from one thread. Files opened before a crash must not
// be used after it (CHECKed): the writer that held them died in the crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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

  // A power cut. Without a policy every unsynced byte is lost. Also ends CrashAfterOperations.
  void SimulateCrash(const CrashPolicy& policy = nullptr);

  // The machine dies after `operations` more changing calls (create, append, sync, truncate,
  // remove, rename, directory sync): every one after that fails with IoError and changes
  // nothing, until SimulateCrash. Lets a test stop a writer between any two of its calls.
  void CrashAfterOperations(uint64_t operations) { device_.operations_left = operations; }

  // Test access to a file's bytes (all written, synced or not); CHECKs that it exists.
  std::string& MutableContents(const std::string& path);
  uint64_t SyncedBytes(const std::string& path) const;
  bool FileExists(const std::string& path) const;

  // Counts sync calls (file and directory), for tests that check group commit.
  uint64_t sync_calls() const { return device_.sync_calls; }

  // Shared with the file objects; public only so that they can name it.
  struct FileState {
    std::string contents;
    uint64_t synced_bytes = 0;
    bool entry_durable = false;  // a SyncDir saw the file after it was created
  };
  struct DeviceState {
    uint64_t generation = 0;  // bumped by every crash; file objects carry the one they saw
    uint64_t sync_calls = 0;
    std::optional<uint64_t> operations_left;  // set by CrashAfterOperations
    // Counts one changing call; IoError once the machine is down.
    Status TakeOperation();
  };

 private:
  std::shared_ptr<FileState> Find(const std::string& path) const;
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path, bool truncate);

  std::map<std::string, std::shared_ptr<FileState>> files_;
  std::set<std::string> dirs_;
  DeviceState device_;
};

}  // namespace podium::storage
