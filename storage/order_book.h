// OrderBook: the shop's catalog, points, coupons, likes and orders with holds, next to the
// lock-free stock counters. docs/orders.md is the model (states, amounts, idempotency, expiry);
// this header is the contract of the engine the order commands call.
//
// Concurrency. One mutex guards everything here: every operation is a few hash lookups, and the
// rules that cost money ("5 orders of 1000 points against 3000 -> exactly 3", "one coupon, one
// order") need the check and the change of a balance or coupon to be one step. Stock stays in
// the lock-free StockTable: ORDER.PLACE checks every item's units, then reserves each with one
// compare-and-swap (logged under the product's stripe lock like every stock change,
// Database::WithStockOrder), so STOCK.* traffic never waits for the book. Under the stripes no
// one else changes those counters, so a sold-out order takes nothing; without a log (no
// stripes) a reservation that loses a race after the check gives back what it took. Lock
// order: the book's mutex, then a stock stripe; stock commands take only a stripe.
//
// Time is a parameter (now_ms, Unix milliseconds). Every operation that reads or changes an
// order first expires it if its hold deadline has passed; ExpireDue does the same for the
// earliest deadlines, called by the event loops' sweep timer.
//
// Errors (storage::Status), each changing nothing: InvalidArgument for malformed input or a
// rule broken (not enough points, another user's coupon, an order not pending), NotFound for an
// unknown product, brand, coupon or order, SoldOut ("<product> <available>") for a shortage,
// LimitExceeded past a bound of storage/limits.h.
//
// Durability: every change is logged, while the book's lock (and for stock, the items' stripe
// locks) is held, as one kBook WAL record of final values (storage/book_effects.h), so a
// command's changes replay together and in per-cell order.
//
// Ranking events: the book keeps what a confirm's, a like's or an unlike's ranking events are
// made of (a paid order's items and paid time, the sequence of a like or an unlike, which
// carries its time), so a retried command can apply them again (storage/book_events.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/sorted_set.h"
#include "storage/status.h"

namespace podium::storage {

class Database;

enum class OrderState : uint8_t { kPending, kPaid, kCancelled, kExpired };
// PRODUCT.LIST orders: newest first, cheapest first, most liked first (ties: product id as
// text, as a sorted set orders equal scores).
enum class ProductSort : uint8_t { kLatest, kPriceAscending, kLikesDescending };
enum class CouponKind : uint8_t { kFixed, kPercent };
enum class CouponState : uint8_t { kAvailable, kHeld, kUsed };
std::string_view OrderStateName(OrderState state);    // "PENDING", "PAID", ...
std::string_view CouponKindName(CouponKind kind);     // "FIXED", "PERCENT"
std::string_view CouponStateName(CouponState state);  // "AVAILABLE", "HELD", "USED"

struct Product {
  uint64_t id = 0;
  uint64_t brand = 0;
  int64_t price = 0;
  std::string name;
  int64_t created_ms = 0;
};

// A product as PRODUCT.GET shows it.
struct ProductView {
  Product product;
  int64_t likes = 0;
  std::optional<int64_t> stock;  // nullopt: no stock counter
  int64_t held = 0;
};

struct Coupon {
  std::string id;
  uint64_t user = 0;
  CouponKind kind = CouponKind::kFixed;
  int64_t value = 0;
  CouponState state = CouponState::kAvailable;
  std::string order;  // the order holding or using it; empty when available
};

struct OrderItem {
  uint64_t product = 0;
  int64_t quantity = 0;
  int64_t unit_price = 0;  // from the catalog at placement; ignored in a request
};

struct OrderRequest {
  std::string id;
  uint64_t user = 0;
  int64_t hold_ms = 0;
  std::vector<OrderItem> items;
  std::string coupon;  // empty: none
  int64_t points = 0;
};

struct OrderRecord {
  std::string id;
  uint64_t user = 0;
  OrderState state = OrderState::kPending;
  int64_t hold_ms = 0;
  std::vector<OrderItem> items;
  std::string coupon;
  int64_t total = 0;
  int64_t discount = 0;
  int64_t points = 0;
  int64_t pay = 0;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  int64_t paid_ms = 0;  // when it became PAID; 0 otherwise (and in logs from before it was kept)
};

// A like's or an unlike's sequence: its time in Unix ms shifted left by kLikeSequenceTimeShift,
// plus a count that keeps sequences increasing (within a millisecond, or if the clock steps
// back). So sequences order LIKE.LIST, are never reused (a restart that lost the highest one
// comes back at a later millisecond), and tell the time of their ranking event.
inline constexpr int kLikeSequenceTimeShift = 20;  // a million per ms: more than one lock passes
inline constexpr int64_t kLikeSequenceTimeMsMax = INT64_MAX >> kLikeSequenceTimeShift;  // 2248
inline int64_t LikeSequenceTimeMs(uint64_t sequence) {
  return static_cast<int64_t>(sequence >> kLikeSequenceTimeShift);
}

// What LIKE.ADD or LIKE.DEL did. `sequence` is that of the like (Like) or the unlike (Unlike)
// in force after the call, made by it (changed) or before it; 0 when there is none (an unlike
// of what was never liked, or one logged before unlikes were kept).
struct LikeChange {
  bool changed = false;
  uint64_t sequence = 0;
  bool operator==(const LikeChange&) const = default;
};

class OrderBook {
 public:
  // `db` provides the stock counters and the log; it must outlive the book.
  explicit OrderBook(Database* db);
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;

  // Catalog.
  Status PutBrand(uint64_t id, std::string_view name);
  Status PutProduct(uint64_t id, uint64_t brand, int64_t price, std::string_view name,
                    int64_t now_ms);
  std::optional<ProductView> GetProduct(uint64_t id);
  // A page of the catalog in `sort` order, all products or one brand's (brand_filter).
  // O(log n + count): each order is an index kept in step with the records.
  std::vector<ProductView> ListProducts(ProductSort sort, size_t offset, size_t count,
                                        std::optional<uint64_t> brand_filter);

  // Points. A charge is refused (LimitExceeded) when the balance plus the points the user's
  // pending orders hold would pass kPointsMax; since placing moves points from the balance into
  // the hold and a refund moves them back, no balance ever passes kPointsMax.
  int64_t Points(uint64_t user);
  Result<int64_t> ChargePoints(uint64_t user, int64_t amount);  // the new balance

  // Coupons.
  Status IssueCoupon(std::string_view id, uint64_t user, CouponKind kind, int64_t value);
  std::optional<Coupon> GetCoupon(std::string_view id);

  // Orders. Place returns the order as placed (state PENDING), also for a retry of the same
  // request, whatever the order's state is now. Confirm stamps paid_ms with now_ms.
  Result<OrderRecord> Place(const OrderRequest& request, int64_t now_ms);
  Result<OrderRecord> Confirm(std::string_view id, int64_t now_ms);
  Result<OrderRecord> Cancel(std::string_view id, int64_t now_ms);
  std::optional<OrderRecord> Get(std::string_view id, int64_t now_ms);
  // The user's order ids, most recent first.
  std::vector<std::string> ListOrders(uint64_t user, size_t offset, size_t count);
  // Expires up to `max_orders` pending orders whose deadline has passed; returns how many.
  size_t ExpireDue(int64_t now_ms, size_t max_orders);
  // Units of `product` held by pending orders.
  int64_t Held(uint64_t product);

  // Recovery (storage/book_effects.h): each assigns one cell's final value and rebuilds what
  // is derived from it (units held, like counts, a user's order list, the deadline queue).
  void RestoreBrand(uint64_t id, std::string_view name);
  void RestoreProduct(const Product& product);
  void RestorePoints(uint64_t user, int64_t balance);
  void RestoreCoupon(const Coupon& coupon);
  void RestoreOrder(const OrderRecord& order);
  void RestoreLike(uint64_t user, uint64_t product, uint64_t sequence);  // 0: not liked
  // Not liked, the last unlike having this sequence (>= 1).
  void RestoreUnlike(uint64_t user, uint64_t product, uint64_t sequence);

  // Snapshots: appends one book entry per cell (brands, products, points, coupons, orders in
  // each user's placement order, likes and unlikes) to *out, holding the book's lock
  // meanwhile; returns how many.
  uint64_t AppendSnapshotEntries(std::string* out);

  // Likes. NotFound for a product not in the catalog. A change gets a new sequence (from
  // now_ms, kLikeSequenceTimeShift); an unlike's is kept until the user likes the product again.
  Result<LikeChange> Like(uint64_t user, uint64_t product, int64_t now_ms);
  Result<LikeChange> Unlike(uint64_t user, uint64_t product, int64_t now_ms);
  int64_t LikeCount(uint64_t product);
  std::vector<uint64_t> LikedProducts(uint64_t user, size_t offset, size_t count);

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>()(text);
    }
  };
  template <typename Value>
  using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

  // A user's likes: by product, and by when (a sequence number), for LIKE.LIST; and the
  // products the user unliked (and has not liked again since), with the unlike's sequence.
  struct UserLikes {
    std::unordered_map<uint64_t, uint64_t> sequence_of;  // product -> sequence
    std::map<uint64_t, uint64_t> by_sequence;            // sequence -> product
    std::unordered_map<uint64_t, uint64_t> unliked_of;   // product -> unlike's sequence
  };

  // Held by mutex_.
  Status CheckRequestLocked(const OrderRequest& request, OrderRecord* order);
  // Both run with the items' stripe locks held; they append the counters' new units to
  // *entries (Reserve only when every item was reserved).
  Status ReserveStockLocked(const OrderRecord& order, std::string* entries);
  void ReleaseStockLocked(const std::vector<OrderItem>& items, size_t count,
                          std::string* entries);
  OrderRecord* FindLiveLocked(std::string_view id, int64_t now_ms);  // expires it if due
  // Cancel or expire: gives everything back and logs it.
  void EndLocked(OrderRecord& order, OrderState state);
  void LogLocked(const std::string& entries);  // one kBook record, if a log is open
  // A pending order's units (held_) and points (points_held_).
  void AdjustHeldLocked(const OrderRecord& order, int64_t sign);
  Result<OrderRecord*> FinalizableLocked(std::string_view id, int64_t now_ms);

  // The catalog's orders (a sorted set each: product ids scored by created time, price,
  // likes), for all products and per brand; changed with the records they index.
  struct ProductIndexes {
    SortedSet latest;
    SortedSet price;
    SortedSet likes;
  };
  void IndexLocked(const Product& product);    // adds or re-scores it
  void UnindexLocked(const Product& product);  // before its brand changes
  ProductView ViewLocked(const Product& product);
  uint64_t NextLikeSequenceLocked(int64_t now_ms);
  // Removes the user's like of product, if any, and counts it out (the caller re-indexes).
  void DropLikeLocked(UserLikes& likes, uint64_t product);

  Database* const db_;
  std::mutex mutex_;
  ProductIndexes all_products_;
  std::unordered_map<uint64_t, ProductIndexes> products_of_brand_;
  std::unordered_map<uint64_t, std::string> brands_;
  std::unordered_map<uint64_t, Product> products_;
  std::unordered_map<uint64_t, int64_t> points_;
  std::unordered_map<uint64_t, int64_t> points_held_;  // user -> points of pending orders
  StringMap<Coupon> coupons_;
  StringMap<OrderRecord> orders_;
  std::unordered_map<uint64_t, std::vector<std::string>> orders_of_user_;  // oldest first
  std::unordered_map<uint64_t, int64_t> held_;                             // product -> units
  // Pending orders by deadline, earliest on top; an entry whose order is no longer pending
  // is dropped when it comes up.
  using Deadline = std::pair<int64_t, std::string>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::unordered_map<uint64_t, UserLikes> likes_of_user_;
  std::unordered_map<uint64_t, int64_t> like_counts_;
  uint64_t like_sequence_ = 0;
};

}  // namespace podium::storage
