#include "storage/fault_injection_file.h"

#include <algorithm>
#include <set>

namespace podium::storage {
namespace {

using FileState = FaultInjectionEnv::FileState;

std::string ParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

class MemoryWritableFile final : public WritableFile {
 public:
  MemoryWritableFile(std::shared_ptr<FileState> state, FaultInjectionEnv::DeviceState* device)
      : state_(std::move(state)),
        device_(device),
        generation_(device->generation),
        size_(state_->contents.size()) {}

  // Overwrites a reserve in place. The durable prefix then ends where the write starts: a
  // crash may lose the new bytes, and with them the zeros they replaced (a file that ends
  // early reads the same as one that ends in zeros).
  Status Append(std::string_view data) override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    CheckUsable();
    Status status = device_->TakeOperation();
    if (!status.ok()) return status;
    std::string& contents = state_->contents;
    CHECK_LE(size_, contents.size());
    state_->synced_bytes = std::min(state_->synced_bytes, size_);
    contents.replace(size_, std::min<uint64_t>(data.size(), contents.size() - size_), data);
    size_ += data.size();
    return Status::Ok();
  }
  Status Reserve(uint64_t bytes) override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    CheckUsable();
    Status status = device_->TakeOperation();
    if (!status.ok()) return status;
    if (state_->contents.size() < size_ + bytes) state_->contents.resize(size_ + bytes, '\0');
    return Status::Ok();
  }
  Status Flush() override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    CheckUsable();
    return Status::Ok();
  }
  Status Sync() override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    CheckUsable();
    Status status = device_->TakeOperation();
    if (!status.ok()) return status;
    ++device_->sync_calls;
    state_->synced_bytes = state_->contents.size();
    return Status::Ok();
  }
  Status Close() override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    CheckUsable();
    closed_ = true;
    return Status::Ok();
  }
  uint64_t size() const override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    return size_;
  }

 private:
  void CheckUsable() const {
    CHECK(!closed_) << "use of a closed file";
    CHECK_EQ(generation_, device_->generation) << "use of a file opened before a crash";
  }

  const std::shared_ptr<FileState> state_;
  FaultInjectionEnv::DeviceState* const device_;
  const uint64_t generation_;
  uint64_t size_;  // where the next append goes; the contents may go on with a reserve
  bool closed_ = false;
};

class MemoryRandomAccessFile final : public RandomAccessFile {
 public:
  MemoryRandomAccessFile(std::shared_ptr<FileState> state, FaultInjectionEnv::DeviceState* device)
      : state_(std::move(state)), device_(device) {}

  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    std::lock_guard<std::recursive_mutex> lock(device_->mutex);
    const std::string& contents = state_->contents;
    if (offset >= contents.size()) {
      out->clear();
      return Status::Ok();
    }
    out->assign(contents, offset, std::min<uint64_t>(n, contents.size() - offset));
    return Status::Ok();
  }

 private:
  const std::shared_ptr<FileState> state_;
  FaultInjectionEnv::DeviceState* const device_;
};

class MemorySequentialFile final : public SequentialFile {
 public:
  MemorySequentialFile(std::shared_ptr<FileState> state, FaultInjectionEnv::DeviceState* device)
      : file_(std::move(state), device) {}

  Status Read(size_t n, std::string* out) override {
    Status status = file_.Read(position_, n, out);
    position_ += out->size();
    return status;
  }

 private:
  MemoryRandomAccessFile file_;
  uint64_t position_ = 0;
};

}  // namespace

Status FaultInjectionEnv::DeviceState::TakeOperation() {
  if (!operations_left.has_value()) return Status::Ok();
  if (*operations_left == 0) return Status::IoError("simulated crash: the machine is down");
  --*operations_left;
  return Status::Ok();
}

// Callers hold device_.mutex.
std::shared_ptr<FileState> FaultInjectionEnv::Find(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::OpenWritable(const std::string& path,
                                                                      bool truncate) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  if (dirs_.count(ParentDir(path)) == 0) return Status::IoError("no directory for " + path);
  Status status = device_.TakeOperation();
  if (!status.ok()) return status;
  std::shared_ptr<FileState>& state = files_[path];
  // A new file's name is live at once, durable at its directory's next SyncDir.
  if (state == nullptr) state = std::make_shared<FileState>();
  if (truncate) {
    state->contents.clear();
    state->synced_bytes = 0;  // a truncating open is durable at once (see the header)
  }
  return std::unique_ptr<WritableFile>(new MemoryWritableFile(state, &device_));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  return OpenWritable(path, /*truncate=*/true);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  return OpenWritable(path, /*truncate=*/false);
}

Result<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(
    const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  std::shared_ptr<FileState> state = Find(path);
  if (state == nullptr) return Status::IoError("no such file " + path);
  return std::unique_ptr<SequentialFile>(new MemorySequentialFile(std::move(state), &device_));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  std::shared_ptr<FileState> state = Find(path);
  if (state == nullptr) return Status::IoError("no such file " + path);
  return std::unique_ptr<RandomAccessFile>(new MemoryRandomAccessFile(std::move(state), &device_));
}

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  if (dirs_.count(dir) == 0) return Status::IoError("no such directory " + dir);
  std::vector<std::string> names;
  for (const auto& [path, state] : files_) {
    if (ParentDir(path) == dir) names.push_back(path.substr(dir.size() + 1));
  }
  return names;
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  Status status = device_.TakeOperation();
  if (!status.ok()) return status;
  if (files_.erase(path) == 0) return Status::IoError("no such file " + path);
  return Status::Ok();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  CHECK_EQ(ParentDir(from), ParentDir(to)) << "a rename across directories is not modelled";
  Status status = device_.TakeOperation();
  if (!status.ok()) return status;
  auto it = files_.find(from);
  if (it == files_.end()) return Status::IoError("no such file " + from);
  std::shared_ptr<FileState> state = it->second;
  files_.erase(it);
  files_[to] = std::move(state);
  return Status::Ok();
}

Result<uint64_t> FaultInjectionEnv::FileSize(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  std::shared_ptr<FileState> state = Find(path);
  if (state == nullptr) return Status::IoError("no such file " + path);
  return static_cast<uint64_t>(state->contents.size());
}

Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  std::shared_ptr<FileState> state = Find(path);
  if (state == nullptr) return Status::IoError("no such file " + path);
  CHECK_LE(size, state->contents.size()) << "Truncate only shrinks " << path;
  Status status = device_.TakeOperation();
  if (!status.ok()) return status;
  state->contents.resize(size);
  state->synced_bytes = size;  // Truncate makes the new size durable; the rest was synced too
  return Status::Ok();
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  dirs_.insert(dir);
  return Status::Ok();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  if (dirs_.count(dir) == 0) return Status::IoError("no such directory " + dir);
  Status status = device_.TakeOperation();
  if (!status.ok()) return status;
  ++device_.sync_calls;
  // The directory's durable names become its live ones: its creations, removals and renames
  // since the last SyncDir are on disk now.
  std::erase_if(durable_files_, [&](const auto& entry) { return ParentDir(entry.first) == dir; });
  for (const auto& [path, state] : files_) {
    if (ParentDir(path) == dir) durable_files_[path] = state;
  }
  return Status::Ok();
}

void FaultInjectionEnv::SimulateCrash(const CrashPolicy& policy, const RemovalPolicy& removals) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  ++device_.generation;
  device_.operations_left.reset();
  if (removals) {
    std::erase_if(durable_files_, [&](const auto& entry) {
      return files_.count(entry.first) == 0 && removals(entry.first);
    });
  }
  files_ = durable_files_;
  std::set<const FileState*> files_seen;  // no hard links: a file has one name
  for (auto& [path, state_pointer] : files_) {
    CHECK(files_seen.insert(state_pointer.get()).second) << "a second name for a file: " << path;
    FileState& state = *state_pointer;
    CHECK_LE(state.synced_bytes, state.contents.size());
    const uint64_t unsynced = state.contents.size() - state.synced_bytes;
    UnsyncedSurvival survival;
    if (unsynced > 0 && policy) survival = policy(path, unsynced);
    CHECK_LE(survival.bytes_kept + survival.zero_bytes, unsynced) << path;
    state.contents.resize(state.synced_bytes + survival.bytes_kept);
    state.contents.append(survival.zero_bytes, '\0');
    state.synced_bytes = state.contents.size();
  }
}

std::string& FaultInjectionEnv::MutableContents(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  std::shared_ptr<FileState> state = Find(path);
  CHECK(state != nullptr) << "no such file " << path;
  return state->contents;
}

uint64_t FaultInjectionEnv::SyncedBytes(const std::string& path) const {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  std::shared_ptr<FileState> state = Find(path);
  CHECK(state != nullptr) << "no such file " << path;
  return state->synced_bytes;
}

bool FaultInjectionEnv::FileExists(const std::string& path) const {
  std::lock_guard<std::recursive_mutex> lock(device_.mutex);
  return Find(path) != nullptr;
}

}  // namespace podium::storage
