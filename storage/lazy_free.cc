#include "storage/lazy_free.h"

#include <utility>

namespace podium::storage {

LazyFree::LazyFree() : thread_([this] { Run(); }) {}

LazyFree::~LazyFree() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

void LazyFree::Free(std::unique_ptr<SortedSet> set) {
  if (set == nullptr) return;
  if (set->size() < kLazyFreeMembersMin) return;  // freed here, as `set` goes
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(set));
  }
  work_ready_.notify_one();
}

void LazyFree::Drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  drained_.wait(lock, [&] { return queue_.empty() && !freeing_; });
}

uint64_t LazyFree::freed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return freed_;
}

void LazyFree::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, and nothing left
    std::unique_ptr<SortedSet> set = std::move(queue_.front());
    queue_.pop_front();
    freeing_ = true;
    lock.unlock();
    set.reset();
    lock.lock();
    freeing_ = false;
    ++freed_;
    if (queue_.empty()) drained_.notify_all();
  }
}

}  // namespace podium::storage
