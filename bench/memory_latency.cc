// Dependent-load latency of this machine: a random pointer chase over buffers of growing size.
// Any structure bigger than the caches pays about the figure printed for its size per miss, so
// docs/benchmarks.md quotes it next to the sorted-set figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

namespace {

constexpr size_t kCacheLineBytes = 64;
constexpr int kHops = 10'000'000;

struct alignas(kCacheLineBytes) Line {
  size_t next;
};

double NanosecondsPerHop(size_t buffer_bytes) {
  const size_t lines = buffer_bytes / sizeof(Line);
  std::vector<size_t> order(lines);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  std::vector<Line> buffer(lines);
  for (size_t i = 0; i < lines; ++i) buffer[order[i]].next = order[(i + 1) % lines];
  size_t at = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int hop = 0; hop < kHops; ++hop) at = buffer[at].next;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (at == lines) std::puts("");  // keeps the chase from being optimised away
  return std::chrono::duration<double, std::nano>(elapsed).count() / kHops;
}

}  // namespace

int main() {
  for (size_t megabytes : {1, 4, 16, 64, 256}) {
    std::printf("%4zu MB: %6.1f ns per dependent load\n", megabytes,
                NanosecondsPerHop(megabytes << 20));
  }
  return 0;
}
