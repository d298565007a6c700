#include "storage/database.h"

#include <xxhash.h>

namespace podium::storage {

std::string_view Database::HashTag(std::string_view key) {
  const size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

size_t Database::ShardOf(std::string_view key) {
  const std::string_view tag = HashTag(key);
  return static_cast<size_t>(XXH3_64bits(tag.data(), tag.size()) % kShardCount);
}

void Database::WaitForStockChanges() {
  for (StockStripe& stripe : stock_stripes_) {
    const std::lock_guard<std::mutex> lock(stripe.mutex);
  }
}

Database::StripeLocks::StripeLocks(Database* db, std::span<const uint64_t> products) : db_(db) {
  for (uint64_t product : products) held_.set(StockStripeOf(product));
  for (size_t stripe = 0; stripe < kStockStripeCount; ++stripe) {
    if (held_.test(stripe)) db_->stock_stripes_[stripe].mutex.lock();
  }
}

Database::StripeLocks::~StripeLocks() {
  for (size_t stripe = kStockStripeCount; stripe-- > 0;) {
    if (held_.test(stripe)) db_->stock_stripes_[stripe].mutex.unlock();
  }
}

}  // namespace podium::storage
