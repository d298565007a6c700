#include "storage/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace podium::storage {
namespace {

Status PosixError(std::string_view what, const std::string& path, int error_number) {
  std::string message(what);
  message += " ";
  message += path;
  message += ": ";
  message += std::strerror(error_number);
  return Status::IoError(std::move(message));
}

// Zeros for WritableFile::Reserve, written a block at a time.
constexpr size_t kZeroBlockBytes = size_t{64} << 10;
constexpr char kZeroBlock[kZeroBlockBytes] = {};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size), length_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    CHECK_GE(fd_, 0) << "append to closed " << path_;
    Status status = WriteAt(size_, data);
    size_ += data.size();  // on failure the content past the old size is unknown anyway
    if (status.ok()) length_ = std::max(length_, size_);
    return status;
  }
  Status Reserve(uint64_t bytes) override {
    CHECK_GE(fd_, 0) << "reserve in closed " << path_;
    const uint64_t end = size_ + bytes;
    while (length_ < end) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(end - length_, kZeroBlockBytes));
      if (Status status = WriteAt(length_, std::string_view(kZeroBlock, chunk)); !status.ok()) {
        return status;
      }
      length_ += chunk;
    }
    return Status::Ok();
  }
  Status Flush() override { return Status::Ok(); }  // nothing is buffered in user space
  Status Sync() override {
    CHECK_GE(fd_, 0) << "sync of closed " << path_;
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    CHECK_GE(fd_, 0) << "double close of " << path_;
    const int result = ::close(fd_);
    fd_ = -1;
    if (result != 0) return PosixError("close", path_, errno);
    return Status::Ok();
  }
  uint64_t size() const override { return size_; }

 private:
  Status WriteAt(uint64_t offset, std::string_view data) {
    while (!data.empty()) {
      const ssize_t written = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (written < 0) {
        if (errno == EINTR) continue;
        return PosixError("pwrite", path_, errno);
      }
      CHECK_LE(static_cast<size_t>(written), data.size());
      data.remove_prefix(static_cast<size_t>(written));
      offset += static_cast<uint64_t>(written);
    }
    return Status::Ok();
  }

  const std::string path_;
  int fd_;
  uint64_t size_;    // where the next append goes
  uint64_t length_;  // the file's length: size_ plus any reserve past it
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, std::string* out) override {
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::read(fd_, out->data() + done, n - done);
      if (got < 0) {
        if (errno == EINTR) continue;
        return PosixError("read", path_, errno);
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    out->resize(done);
    return Status::Ok();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out->data() + done, n - done, offset + done);
      if (got < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread", path_, errno);
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    out->resize(done);
    return Status::Ok();
  }

 private:
  const std::string path_;
  const int fd_;
};

Result<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path, int extra_flags) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | extra_flags, 0644);
  if (fd < 0) return PosixError("open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error_number = errno;
    ::close(fd);
    return PosixError("fstat", path, error_number);
  }
  return std::unique_ptr<WritableFile>(
      new PosixWritableFile(path, fd, static_cast<uint64_t>(info.st_size)));
}

Result<int> OpenForRead(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PosixError("open", path, errno);
  return fd;
}

}  // namespace

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

Result<std::unique_ptr<WritableFile>> PosixEnv::NewWritableFile(const std::string& path) {
  return OpenForAppend(path, O_TRUNC);
}

Result<std::unique_ptr<WritableFile>> PosixEnv::NewAppendableFile(const std::string& path) {
  return OpenForAppend(path, 0);
}

Result<std::unique_ptr<SequentialFile>> PosixEnv::NewSequentialFile(const std::string& path) {
  Result<int> fd = OpenForRead(path);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, *fd));
}

Result<std::unique_ptr<RandomAccessFile>> PosixEnv::NewRandomAccessFile(const std::string& path) {
  Result<int> fd = OpenForRead(path);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, *fd));
}

Result<std::vector<std::string>> PosixEnv::GetChildren(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return PosixError("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error_number = errno;
  ::closedir(handle);
  if (error_number != 0) return PosixError("readdir", dir, error_number);
  return names;
}

Status PosixEnv::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
  return Status::Ok();
}

Status PosixEnv::RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename to " + to, from, errno);
  return Status::Ok();
}

Result<uint64_t> PosixEnv::FileSize(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return PosixError("stat", path, errno);
  return static_cast<uint64_t>(info.st_size);
}

Status PosixEnv::Truncate(const std::string& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return PosixError("open", path, errno);
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    status = PosixError("ftruncate", path, errno);
  } else if (::fsync(fd) != 0) {
    status = PosixError("fsync", path, errno);
  }
  ::close(fd);
  return status;
}

Status PosixEnv::CreateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError("mkdir", dir, errno);
  return Status::Ok();
}

Status PosixEnv::SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("open", dir, errno);
  const int result = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (result != 0) return PosixError("fsync", dir, error_number);
  return Status::Ok();
}

}  // namespace podium::storage
