// Heap figures for INFO: jemalloc's own counters when the server runs on jemalloc (normal
// builds), zero under the sanitizers, which replace the allocator.
#pragma once

#include <cstddef>
#include <string>

namespace podium::server {

struct MemoryStats {
  size_t allocated_bytes = 0;  // bytes the program holds (jemalloc "stats.allocated")
  size_t resident_bytes = 0;   // bytes of physical memory jemalloc maps ("stats.resident")
  bool available = false;
  // jemalloc's "opt.thp": "always" when the heap asks for transparent huge pages (main.cc),
  // "default" or "never" when MALLOC_CONF said so, "not supported" on a kernel without them;
  // empty without jemalloc.
  std::string transparent_huge_pages;
};

MemoryStats ReadMemoryStats();

}  // namespace podium::server
