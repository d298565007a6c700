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

}  // namespace podium::storage
