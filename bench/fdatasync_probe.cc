// What one write + fdatasync costs on this machine's disk, the three ways a log can be written:
//   append   each write grows the file (what a WAL without a reserve does, and Redis's AOF);
//   reserve  writes land on zeros written ahead, a megabyte at a time, as WalWriter does
//            (docs/wal_format.md, "Writing"): no size or block map change to commit;
//   overwrite  the whole file written and synced first, then written over.
// docs/benchmarks.md quotes it next to the fsync-always figures.
//
// Usage: fdatasync_probe [dir] [writes] [bytes per write]   (defaults: /tmp 10000 500)
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr size_t kReserveBytes = size_t{1} << 20;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::exit(1);
  }
}

void WriteAt(int fd, const std::string& bytes, size_t offset) {
  Check(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(bytes.size()),
        "pwrite");
}

void Run(const char* mode, const std::string& path, int writes, size_t bytes) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  Check(fd >= 0, "open");
  const std::string zeros(kReserveBytes, '\0');
  const std::string record(bytes, 'r');
  const std::string_view name(mode);
  size_t reserved = 0;
  if (name == "overwrite") {
    for (; reserved < static_cast<size_t>(writes) * bytes + kReserveBytes;
         reserved += zeros.size()) {
      WriteAt(fd, zeros, reserved);
    }
    Check(::fdatasync(fd) == 0, "fdatasync");
  }
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(writes));
  size_t offset = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < writes; ++i) {
    const auto before = std::chrono::steady_clock::now();
    if (name == "reserve" && offset + bytes > reserved) {
      WriteAt(fd, zeros, reserved);
      reserved += zeros.size();
    }
    WriteAt(fd, record, offset);
    Check(::fdatasync(fd) == 0, "fdatasync");
    offset += bytes;
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before)
            .count());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(micros.begin(), micros.end());
  std::printf("%-9s %7.0f syncs/s  p50 %6.1f us  p90 %6.1f us  p99 %7.1f us\n", mode,
              writes / seconds, micros[micros.size() / 2], micros[micros.size() * 9 / 10],
              micros[micros.size() * 99 / 100]);
  ::close(fd);
  ::unlink(path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  const int writes = argc > 2 ? std::atoi(argv[2]) : 10'000;
  const size_t bytes = argc > 3 ? static_cast<size_t>(std::atoll(argv[3])) : 500;
  Check(writes > 0 && bytes > 0, "arguments");
  const std::string path = dir + "/fdatasync_probe." + std::to_string(::getpid());
  for (const char* mode : {"append", "reserve", "overwrite"}) Run(mode, path, writes, bytes);
  return 0;
}
