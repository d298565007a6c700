#include "server/memory_stats.h"

#include <cstdint>

#if PODIUM_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace podium::server {

MemoryStats ReadMemoryStats() {
  MemoryStats stats;
#if PODIUM_HAVE_JEMALLOC
  uint64_t epoch = 1;
  size_t epoch_size = sizeof(epoch);
  mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size);  // refresh the cached statistics
  size_t size = sizeof(size_t);
  stats.available = mallctl("stats.allocated", &stats.allocated_bytes, &size, nullptr, 0) == 0 &&
                    mallctl("stats.resident", &stats.resident_bytes, &size, nullptr, 0) == 0;
  const char* thp = nullptr;
  size_t thp_size = sizeof(thp);
  if (mallctl("opt.thp", &thp, &thp_size, nullptr, 0) == 0 && thp != nullptr) {
    stats.transparent_huge_pages = thp;
  }
#endif
  return stats;
}

}  // namespace podium::server
