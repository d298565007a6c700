// LazyFree: frees big sorted sets on a thread of its own, as Redis's lazyfree does, so that
// deleting a million-member set (DEL, SET over it, an expiry, a ZUNIONSTORE's old destination)
// costs the thread that deletes it a push, not the ~20 ms of freeing its nodes and members on an
// event loop. A set of fewer than kLazyFreeMembersMin members is freed at once: handing it over
// would cost more than freeing it.
//
// Thread-safety: Free may be called from any thread (under a shard lock, typically). The set
// must be out of every structure others can reach, its watches dropped (SortedSet::DropWatches,
// under the lock its readers take).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/sorted_set.h"

namespace podium::storage {

inline constexpr size_t kLazyFreeMembersMin = 4096;

class LazyFree {
 public:
  LazyFree();
  ~LazyFree();  // frees what is still queued, then stops the thread
  LazyFree(const LazyFree&) = delete;
  LazyFree& operator=(const LazyFree&) = delete;

  // Frees `set` now if it is small, else later on the thread.
  void Free(std::unique_ptr<SortedSet> set);
  // Waits until everything handed over so far is freed (for tests and for INFO's figures).
  void Drain();
  // Sets freed on the thread so far.
  uint64_t freed() const;

 private:
  void Run();

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable drained_;
  std::deque<std::unique_ptr<SortedSet>> queue_;
  bool freeing_ = false;  // the thread holds a set it took off the queue
  bool stopping_ = false;
  uint64_t freed_ = 0;
  std::thread thread_;
};

}  // namespace podium::storage
