// The storage engine's only door to the file system: a tiny Env in LevelDB's style.
//
// The WAL and the snapshots do all their I/O through an Env so that tests can swap the real
// file system (PosixEnv) for FaultInjectionEnv (storage/fault_injection_file.h), which keeps
// only what was synced and can crash and tear writes at will. Every fallible call returns a
// Status or a Result; nothing here throws.
//
// Paths are plain strings; a file's directory is the part before its last '/'. A file object
// owns its descriptor and closes it when destroyed (errors on that implicit close are lost:
// call Close() to see them). Thread-safety: a file object is used by one thread at a time; an
// Env may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace podium::storage {

// Appends to the end of a file.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` or fails. After a failure the file's content past the last
  // successful append is unknown; the caller must not append again.
  virtual Status Append(std::string_view data) = 0;
  // Hands buffered bytes to the operating system (no durability).
  virtual Status Flush() = 0;
  // Makes every byte appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Makes the `bytes` after size() exist as written zeros (durable at the next Sync) unless
  // they already do, so that appends into them change neither the file's length nor its block
  // map: a sync then has no metadata to commit (docs/wal_format.md, "Writing"). size() does
  // not change; the file's length on disk becomes at least size() + bytes, and its end reads
  // as zeros until appends overwrite them. Env::Truncate cuts the reserve off.
  virtual Status Reserve(uint64_t bytes) = 0;
  // Closes the file; further calls are programmer errors.
  virtual Status Close() = 0;
  // Bytes in the file: its size when opened plus what was appended (a reserve not included).
  virtual uint64_t size() const = 0;
};

// Reads a file from its start to its end.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Replaces *out with the next up to `n` bytes; fewer only at the end of the file (empty at
  // the end).
  virtual Status Read(size_t n, std::string* out) = 0;
};

// Reads any part of a file.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Replaces *out with up to `n` bytes starting at `offset`; fewer only at the end of the file.
  virtual Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates `path`, or truncates it if it exists, for appending.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if needed.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // The names (not paths) of the entries of `dir`, without "." and "..", in no given order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Replaces `to` atomically if it exists.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Cuts `path` to `size` bytes (size <= its size) and makes the new size durable.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Creates `dir`; ok if it already exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  // Makes the creations, removals and renames of entries in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
};

// The real file system (POSIX): descriptors opened with O_CLOEXEC, Sync is fdatasync, SyncDir
// fsyncs the directory. WritableFile does not buffer: the WAL writer hands it whole batches,
// each written with pwrite at size().
class PosixEnv final : public Env {
 public:
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
};

// An Env that hands every call to another one, for an Env that changes only a few calls (a
// test's hook, say), as LevelDB's EnvWrapper. `base` must outlive it.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* base) : base_(base) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return base_->NewWritableFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return base_->NewAppendableFile(path);
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return base_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_->Truncate(path, size);
  }
  Status CreateDir(const std::string& dir) override { return base_->CreateDir(dir); }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }

 private:
  Env* const base_;
};

// "<dir>/<name>".
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace podium::storage
