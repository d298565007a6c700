#include "storage/book_events.h"

#include <glog/logging.h>
#include <xxhash.h>

#include "storage/limits.h"

namespace podium::storage {

std::string BookEventId(std::string_view kind, std::string_view key) {
  std::string readable;
  readable.reserve(kind.size() + 1 + key.size());
  readable.append(kind).append(":").append(key);
  if (readable.size() <= kIdBytesMax) return readable;
  const XXH128_hash_t digest = XXH3_128bits(readable.data(), readable.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(kind);
  id.push_back('#');
  for (uint64_t half : {digest.high64, digest.low64}) {
    for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(half >> shift) & 0xF]);
  }
  CHECK_LE(id.size(), kIdBytesMax) << "an event kind of " << kind.size() << " bytes";
  return id;
}

std::vector<BookEvent> OrderEvents(const OrderRecord& order) {
  CHECK(order.state == OrderState::kPaid) << order.id;
  const int64_t ts_ms = order.paid_ms != 0 ? order.paid_ms : order.created_ms;
  std::vector<BookEvent> events;
  events.reserve(order.items.size());
  for (const OrderItem& item : order.items) {
    events.push_back({BookEventId("order", order.id + ":" + std::to_string(item.product)),
                      RankEventKind::kOrder, item.product, ts_ms, item.quantity, item.unit_price});
  }
  return events;
}

BookEvent LikeEvent(bool like, uint64_t user, uint64_t product, uint64_t sequence) {
  DCHECK_NE(sequence, 0u);
  const std::string key =
      std::to_string(user) + ":" + std::to_string(product) + ":" + std::to_string(sequence);
  return {BookEventId(like ? "like" : "unlike", key),
          like ? RankEventKind::kLike : RankEventKind::kUnlike, product,
          LikeSequenceTimeMs(sequence)};
}

}  // namespace podium::storage
