#include "storage/order_book.h"

#include <algorithm>
#include <unordered_set>

#include "storage/book_effects.h"
#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/effects.h"
#include "storage/limits.h"

namespace podium::storage {
namespace {

Status CheckName(std::string_view what, std::string_view name) {
  if (!name.empty() && name.size() <= kNameBytesMax) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " name must be 1.." +
                                 std::to_string(kNameBytesMax) + " bytes");
}

Status CheckId(std::string_view what, std::string_view id) {
  if (!id.empty() && id.size() <= kIdBytesMax) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " id must be 1.." +
                                 std::to_string(kIdBytesMax) + " bytes");
}

Status CheckAmount(std::string_view what, int64_t amount, int64_t min) {
  if (amount >= min && amount <= kAmountMax) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " " + std::to_string(amount) +
                                 " out of range [" + std::to_string(min) + ", " +
                                 std::to_string(kAmountMax) + "]");
}

// What a retry must repeat to count as the same order.
bool SameRequest(const OrderRecord& order, const OrderRequest& request) {
  if (order.user != request.user || order.hold_ms != request.hold_ms ||
      order.coupon != request.coupon || order.points != request.points ||
      order.items.size() != request.items.size()) {
    return false;
  }
  for (size_t i = 0; i < order.items.size(); ++i) {
    if (order.items[i].product != request.items[i].product ||
        order.items[i].quantity != request.items[i].quantity) {
      return false;
    }
  }
  return true;
}

template <typename T>
std::vector<T> Page(const std::vector<T>& newest_last, size_t offset, size_t count) {
  std::vector<T> page;
  for (size_t i = offset; i < newest_last.size() && page.size() < count; ++i) {
    page.push_back(newest_last[newest_last.size() - 1 - i]);
  }
  return page;
}

}  // namespace

std::string_view OrderStateName(OrderState state) {
  switch (state) {
    case OrderState::kPending:
      return "PENDING";
    case OrderState::kPaid:
      return "PAID";
    case OrderState::kCancelled:
      return "CANCELLED";
    case OrderState::kExpired:
      return "EXPIRED";
  }
  return "UNKNOWN";
}

std::string_view CouponKindName(CouponKind kind) {
  return kind == CouponKind::kFixed ? "FIXED" : "PERCENT";
}

std::string_view CouponStateName(CouponState state) {
  switch (state) {
    case CouponState::kAvailable:
      return "AVAILABLE";
    case CouponState::kHeld:
      return "HELD";
    case CouponState::kUsed:
      return "USED";
  }
  return "UNKNOWN";
}

OrderBook::OrderBook(Database* db) : db_(db) { CHECK(db_ != nullptr); }

// ---- Catalog --------------------------------------------------------------------------------

Status OrderBook::PutBrand(uint64_t id, std::string_view name) {
  if (Status status = CheckName("brand", name); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  brands_[id] = std::string(name);
  std::string entries;
  AppendBrandEntry(id, name, &entries);
  LogLocked(entries);
  return Status::Ok();
}

Status OrderBook::PutProduct(uint64_t id, uint64_t brand, int64_t price, std::string_view name,
                             int64_t now_ms) {
  if (id > kProductIdMax) return Status::InvalidArgument("product id out of range");
  if (Status status = CheckName("product", name); !status.ok()) return status;
  if (Status status = CheckAmount("price", price, 0); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!brands_.contains(brand)) return Status::NotFound("brand " + std::to_string(brand));
  auto [it, created] = products_.try_emplace(id);
  Product& product = it->second;
  if (created) {
    product.created_ms = now_ms;
  } else {
    UnindexLocked(product);
  }
  product.id = id;
  product.brand = brand;
  product.price = price;
  product.name = std::string(name);
  IndexLocked(product);
  std::string entries;
  AppendProductEntry(product, &entries);
  LogLocked(entries);
  return Status::Ok();
}

ProductView OrderBook::ViewLocked(const Product& product) {
  ProductView view;
  view.product = product;
  const auto likes = like_counts_.find(product.id);
  view.likes = likes == like_counts_.end() ? 0 : likes->second;
  // Under the stripe (after the book's lock, the order Place takes them in), as STOCK.GET.
  if (Result<int64_t> units =
          db_->WithStockOrder(product.id, [&] { return db_->stock().Get(product.id); });
      units.ok()) {
    view.stock = *units;
  }
  const auto held = held_.find(product.id);
  view.held = held == held_.end() ? 0 : held->second;
  return view;
}

std::optional<ProductView> OrderBook::GetProduct(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = products_.find(id);
  if (it == products_.end()) return std::nullopt;
  return ViewLocked(it->second);
}

std::vector<ProductView> OrderBook::ListProducts(ProductSort sort, size_t offset, size_t count,
                                                 std::optional<uint64_t> brand_filter) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ProductView> page;
  const ProductIndexes* indexes = &all_products_;
  if (brand_filter.has_value()) {
    const auto it = products_of_brand_.find(*brand_filter);
    if (it == products_of_brand_.end()) return page;
    indexes = &it->second;
  }
  const SortedSet& set = sort == ProductSort::kLatest           ? indexes->latest
                         : sort == ProductSort::kPriceAscending ? indexes->price
                                                                : indexes->likes;
  const Order order = sort == ProductSort::kPriceAscending ? Order::kAscending : Order::kDescending;
  if (count == 0) return page;
  set.RangeByRank(offset, offset + count - 1, order, [&](const MemberKey& member, double) {
    page.push_back(ViewLocked(products_.find(member.integer())->second));
  });
  return page;
}

void OrderBook::IndexLocked(const Product& product) {
  const MemberKey member = MemberKey::FromInteger(product.id);
  const auto likes = like_counts_.find(product.id);
  const double like_count = likes == like_counts_.end() ? 0 : static_cast<double>(likes->second);
  for (ProductIndexes* indexes : {&all_products_, &products_of_brand_[product.brand]}) {
    // Scores are integers below 2^53 (times, prices <= 10^12, counts): exact as doubles.
    CHECK(indexes->latest.Set(member, static_cast<double>(product.created_ms)).ok());
    CHECK(indexes->price.Set(member, static_cast<double>(product.price)).ok());
    CHECK(indexes->likes.Set(member, like_count).ok());
  }
}

void OrderBook::UnindexLocked(const Product& product) {
  const MemberKey member = MemberKey::FromInteger(product.id);
  for (ProductIndexes* indexes : {&all_products_, &products_of_brand_[product.brand]}) {
    indexes->latest.Remove(member);
    indexes->price.Remove(member);
    indexes->likes.Remove(member);
  }
}

// ---- Points and coupons ---------------------------------------------------------------------

int64_t OrderBook::Points(uint64_t user) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = points_.find(user);
  return it == points_.end() ? 0 : it->second;
}

Result<int64_t> OrderBook::ChargePoints(uint64_t user, int64_t amount) {
  if (Status status = CheckAmount("amount", amount, 1); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t& balance = points_[user];
  const auto held_points = points_held_.find(user);
  const int64_t held = held_points == points_held_.end() ? 0 : held_points->second;
  // balance + held + amount <= kPointsMax, written so that nothing overflows (a balance loaded
  // from a log written before the rule may be anything up to INT64_MAX).
  const int64_t room = kPointsMax - amount;
  if (balance > room || held > room - balance) {
    return Status::LimitExceeded("balance " + std::to_string(balance) + " plus " +
                                 std::to_string(held) + " held by pending orders plus " +
                                 std::to_string(amount) + " would pass " +
                                 std::to_string(kPointsMax));
  }
  balance += amount;
  DCHECK(balance + held <= kPointsMax);
  std::string entries;
  AppendPointsEntry(user, balance, &entries);
  LogLocked(entries);
  return balance;
}

Status OrderBook::IssueCoupon(std::string_view id, uint64_t user, CouponKind kind,
                              int64_t value) {
  if (Status status = CheckId("coupon", id); !status.ok()) return status;
  const int64_t max = kind == CouponKind::kPercent ? 100 : kAmountMax;
  if (value < 1 || value > max) {
    return Status::InvalidArgument("coupon value " + std::to_string(value) +
                                   " out of range [1, " + std::to_string(max) + "]");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = coupons_.find(id);
  if (it != coupons_.end()) {
    const Coupon& coupon = it->second;
    if (coupon.user == user && coupon.kind == kind && coupon.value == value) return Status::Ok();
    return Status::InvalidArgument("coupon " + std::string(id) + " exists with other contents");
  }
  const Coupon& coupon = coupons_
                            .emplace(std::string(id), Coupon{std::string(id), user, kind, value,
                                                             CouponState::kAvailable, {}})
                            .first->second;
  std::string entries;
  AppendCouponEntry(coupon, &entries);
  LogLocked(entries);
  return Status::Ok();
}

std::optional<Coupon> OrderBook::GetCoupon(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = coupons_.find(id);
  if (it == coupons_.end()) return std::nullopt;
  return it->second;
}

// ---- Orders ---------------------------------------------------------------------------------

// Fills order (items priced, amounts) from the request, or says what is wrong with it.
Status OrderBook::CheckRequestLocked(const OrderRequest& request, OrderRecord* order) {
  if (Status status = CheckId("order", request.id); !status.ok()) return status;
  if (request.hold_ms < 1 || request.hold_ms > kHoldMsMax) {
    return Status::InvalidArgument("hold_ms " + std::to_string(request.hold_ms) +
                                   " out of range [1, " + std::to_string(kHoldMsMax) + "]");
  }
  if (request.items.empty()) return Status::InvalidArgument("an order needs at least one item");
  if (request.items.size() > kOrderItemsMax) {
    return Status::LimitExceeded("an order has at most " + std::to_string(kOrderItemsMax) +
                                 " items");
  }
  std::unordered_set<uint64_t> seen;
  int64_t total = 0;
  for (const OrderItem& item : request.items) {
    if (item.quantity < 1 || item.quantity > kOrderQuantityMax) {
      return Status::InvalidArgument("quantity " + std::to_string(item.quantity) +
                                     " of product " + std::to_string(item.product) +
                                     " out of range [1, " + std::to_string(kOrderQuantityMax) +
                                     "]");
    }
    if (!seen.insert(item.product).second) {
      return Status::InvalidArgument("product " + std::to_string(item.product) +
                                     " appears twice in the order");
    }
    const auto product = products_.find(item.product);
    if (product == products_.end()) {
      return Status::NotFound("product " + std::to_string(item.product));
    }
    total += item.quantity * product->second.price;  // <= kAmountMax + 10^18: no overflow
    if (total > kAmountMax) {
      return Status::LimitExceeded("order total passes " + std::to_string(kAmountMax));
    }
    order->items.push_back({item.product, item.quantity, product->second.price});
  }
  int64_t discount = 0;
  if (!request.coupon.empty()) {
    const auto it = coupons_.find(request.coupon);
    if (it == coupons_.end()) return Status::NotFound("coupon " + request.coupon);
    const Coupon& coupon = it->second;
    if (coupon.user != request.user) {
      return Status::InvalidArgument("coupon " + request.coupon + " belongs to another user");
    }
    if (coupon.state != CouponState::kAvailable) {
      return Status::InvalidArgument("coupon " + request.coupon + " is " +
                                     std::string(CouponStateName(coupon.state)));
    }
    discount = coupon.kind == CouponKind::kFixed ? std::min(coupon.value, total)
                                                 : total * coupon.value / 100;
  }
  if (Status status = CheckAmount("points", request.points, 0); !status.ok()) return status;
  const auto balance = points_.find(request.user);
  const int64_t available = balance == points_.end() ? 0 : balance->second;
  if (request.points > available) {
    return Status::InvalidArgument("not enough points: balance " + std::to_string(available) +
                                   ", asked " + std::to_string(request.points));
  }
  if (request.points > total - discount) {
    return Status::InvalidArgument("points " + std::to_string(request.points) +
                                   " exceed the amount due " + std::to_string(total - discount));
  }
  order->id = request.id;
  order->user = request.user;
  order->hold_ms = request.hold_ms;
  order->coupon = request.coupon;
  order->total = total;
  order->discount = discount;
  order->points = request.points;
  order->pay = total - discount - request.points;
  return Status::Ok();
}

// Takes every item's units, or none. With a log open the stripes are held, so no other change
// of these counters can run between the check and the takes: a sold-out order takes nothing,
// and no counter passes through a value no record holds (the snapshot's stock pass reads the
// counters without the stripes, storage/snapshot_capture.h). Without a log the takes are
// lock-free and may still lose a race after the check; what was taken is then given back,
// which nothing can observe durably since nothing is logged or snapshotted.
Status OrderBook::ReserveStockLocked(const OrderRecord& order, std::string* entries) {
  for (const OrderItem& item : order.items) {  // CheckRequestLocked refused a product twice
    // A catalog product without a stock counter has nothing to sell.
    Result<int64_t> available = db_->stock().Get(item.product);
    if (!available.ok() || *available < item.quantity) {
      return Status::SoldOut(std::to_string(item.product) + " " +
                             std::to_string(available.ok() ? *available : 0));
    }
  }
  std::vector<int64_t> left(order.items.size());
  for (size_t i = 0; i < order.items.size(); ++i) {
    const OrderItem& item = order.items[i];
    Result<Reservation> reservation = db_->stock().TryReserve(item.product, item.quantity);
    if (!reservation.ok() || !reservation->reserved) {
      CHECK(db_->log() == nullptr)
          << "stock of " << item.product << " changed under its stripe lock";
      ReleaseStockLocked(order.items, i, nullptr);
      const int64_t available = reservation.ok() ? reservation->units : 0;
      return Status::SoldOut(std::to_string(item.product) + " " + std::to_string(available));
    }
    left[i] = reservation->units;
  }
  for (size_t i = 0; i < order.items.size(); ++i) {
    AppendStockEntry(order.items[i].product, left[i], entries);
  }
  return Status::Ok();
}

void OrderBook::ReleaseStockLocked(const std::vector<OrderItem>& items, size_t count,
                                   std::string* entries) {
  for (size_t i = 0; i < count; ++i) {
    const OrderItem& item = items[i];
    Result<int64_t> released = db_->stock().Release(item.product, item.quantity);
    // Units that were taken always fit back: nothing but a restock past kStockUnitsMax in
    // between could refuse them, and then they are lost to the bound, loudly.
    if (!released.ok()) {
      LOG(ERROR) << "giving back " << item.quantity << " units of product " << item.product
                 << ": " << released.status().ToString();
      continue;
    }
    if (entries != nullptr) AppendStockEntry(item.product, *released, entries);
  }
}

void OrderBook::LogLocked(const std::string& entries) {
  if (db_->log() == nullptr) return;
  db_->log()->Append(static_cast<uint8_t>(EffectType::kBook), entries);
}

void OrderBook::AdjustHeldLocked(const OrderRecord& order, int64_t sign) {
  if (order.state != OrderState::kPending) return;
  for (const OrderItem& item : order.items) held_[item.product] += sign * item.quantity;
  if (order.points > 0) {
    int64_t& held = points_held_[order.user];
    held += sign * order.points;
    DCHECK_GE(held, 0);
    if (held == 0) points_held_.erase(order.user);
  }
}

namespace {
std::vector<uint64_t> ProductsOf(const std::vector<OrderItem>& items) {
  std::vector<uint64_t> products;
  products.reserve(items.size());
  for (const OrderItem& item : items) products.push_back(item.product);
  return products;
}
}  // namespace

Result<OrderRecord> OrderBook::Place(const OrderRequest& request, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto existing = orders_.find(request.id); existing != orders_.end()) {
    if (!SameRequest(existing->second, request)) {
      return Status::InvalidArgument("order " + request.id + " exists with other contents");
    }
    OrderRecord placed = existing->second;
    placed.state = OrderState::kPending;  // the original reply
    placed.paid_ms = 0;
    return placed;
  }
  OrderRecord order;
  if (Status status = CheckRequestLocked(request, &order); !status.ok()) return status;
  order.state = OrderState::kPending;
  order.created_ms = now_ms;
  order.expires_ms = now_ms + request.hold_ms;
  // Reserve, change the book and log it all as one record while the stripes are held.
  const std::vector<uint64_t> products = ProductsOf(order.items);
  Status status = db_->WithStockOrderOfAll(products, [&] {
    std::string entries;
    if (Status reserved = ReserveStockLocked(order, &entries); !reserved.ok()) return reserved;
    if (order.points > 0) {
      int64_t& balance = points_[order.user];
      balance -= order.points;
      AppendPointsEntry(order.user, balance, &entries);
    }
    if (!order.coupon.empty()) {
      Coupon& coupon = coupons_.find(order.coupon)->second;
      coupon.state = CouponState::kHeld;
      coupon.order = order.id;
      AppendCouponEntry(coupon, &entries);
    }
    AdjustHeldLocked(order, +1);
    orders_of_user_[order.user].push_back(order.id);
    deadlines_.emplace(order.expires_ms, order.id);
    AppendOrderEntry(order, &entries);
    LogLocked(entries);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return orders_.emplace(order.id, std::move(order)).first->second;
}

void OrderBook::EndLocked(OrderRecord& order, OrderState state) {
  DCHECK(order.state == OrderState::kPending);
  DCHECK(state == OrderState::kCancelled || state == OrderState::kExpired);
  const std::vector<uint64_t> products = ProductsOf(order.items);
  db_->WithStockOrderOfAll(products, [&] {
    std::string entries;
    ReleaseStockLocked(order.items, order.items.size(), &entries);
    AdjustHeldLocked(order, -1);
    if (order.points > 0) {
      // The rule of ChargePoints keeps balance + held <= kPointsMax, so the refund fits; only
      // a book loaded from a log written before the rule could pass INT64_MAX here.
      int64_t& balance = points_[order.user];
      if (balance > INT64_MAX - order.points) {
        LOG(ERROR) << "refunding " << order.points << " points of order " << order.id
                   << " to balance " << balance << " of user " << order.user
                   << " passes INT64_MAX; the balance stops there";
        balance = INT64_MAX;
      } else {
        balance += order.points;
      }
      AppendPointsEntry(order.user, balance, &entries);
    }
    if (!order.coupon.empty()) {
      Coupon& coupon = coupons_.find(order.coupon)->second;
      coupon.state = CouponState::kAvailable;
      coupon.order.clear();
      AppendCouponEntry(coupon, &entries);
    }
    order.state = state;
    AppendOrderEntry(order, &entries);
    LogLocked(entries);
  });
}

OrderRecord* OrderBook::FindLiveLocked(std::string_view id, int64_t now_ms) {
  const auto it = orders_.find(id);
  if (it == orders_.end()) return nullptr;
  OrderRecord& order = it->second;
  if (order.state == OrderState::kPending && order.expires_ms <= now_ms) {
    EndLocked(order, OrderState::kExpired);
  }
  return &order;
}

Result<OrderRecord*> OrderBook::FinalizableLocked(std::string_view id, int64_t now_ms) {
  OrderRecord* order = FindLiveLocked(id, now_ms);
  if (order == nullptr) return Status::NotFound("order " + std::string(id));
  if (order->state != OrderState::kPending) {
    return Status::InvalidArgument("order " + std::string(id) + " is " +
                                   std::string(OrderStateName(order->state)));
  }
  return order;
}

Result<OrderRecord> OrderBook::Confirm(std::string_view id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<OrderRecord*> found = FinalizableLocked(id, now_ms);
  if (!found.ok()) return found.status();
  OrderRecord& order = **found;
  std::string entries;
  AdjustHeldLocked(order, -1);
  if (!order.coupon.empty()) {
    Coupon& coupon = coupons_.find(order.coupon)->second;
    coupon.state = CouponState::kUsed;
    AppendCouponEntry(coupon, &entries);
  }
  order.state = OrderState::kPaid;
  order.paid_ms = now_ms;
  AppendOrderEntry(order, &entries);
  LogLocked(entries);
  return order;
}

Result<OrderRecord> OrderBook::Cancel(std::string_view id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<OrderRecord*> found = FinalizableLocked(id, now_ms);
  if (!found.ok()) return found.status();
  EndLocked(**found, OrderState::kCancelled);
  return **found;
}

std::optional<OrderRecord> OrderBook::Get(std::string_view id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  const OrderRecord* order = FindLiveLocked(id, now_ms);
  if (order == nullptr) return std::nullopt;
  return *order;
}

std::vector<std::string> OrderBook::ListOrders(uint64_t user, size_t offset, size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = orders_of_user_.find(user);
  if (it == orders_of_user_.end()) return {};
  return Page(it->second, offset, count);
}

size_t OrderBook::ExpireDue(int64_t now_ms, size_t max_orders) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t expired = 0;
  while (expired < max_orders && !deadlines_.empty() && deadlines_.top().first <= now_ms) {
    const std::string id = deadlines_.top().second;
    deadlines_.pop();
    const auto it = orders_.find(id);
    if (it == orders_.end() || it->second.state != OrderState::kPending) continue;
    EndLocked(it->second, OrderState::kExpired);
    ++expired;
  }
  return expired;
}

int64_t OrderBook::Held(uint64_t product) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = held_.find(product);
  return it == held_.end() ? 0 : it->second;
}

// ---- Likes ----------------------------------------------------------------------------------

uint64_t OrderBook::NextLikeSequenceLocked(int64_t now_ms) {
  const int64_t time_ms = std::clamp<int64_t>(now_ms, 0, kLikeSequenceTimeMsMax);
  CHECK_LT(like_sequence_, static_cast<uint64_t>(INT64_MAX));
  like_sequence_ =
      std::max(like_sequence_ + 1, static_cast<uint64_t>(time_ms) << kLikeSequenceTimeShift);
  return like_sequence_;
}

void OrderBook::DropLikeLocked(UserLikes& likes, uint64_t product) {
  const auto it = likes.sequence_of.find(product);
  if (it == likes.sequence_of.end()) return;
  likes.by_sequence.erase(it->second);
  likes.sequence_of.erase(it);
  --like_counts_[product];
  DCHECK_GE(like_counts_[product], 0);
}

Result<LikeChange> OrderBook::Like(uint64_t user, uint64_t product, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!products_.contains(product)) return Status::NotFound("product " + std::to_string(product));
  UserLikes& likes = likes_of_user_[user];
  if (const auto it = likes.sequence_of.find(product); it != likes.sequence_of.end()) {
    return LikeChange{false, it->second};
  }
  const uint64_t sequence = NextLikeSequenceLocked(now_ms);
  likes.sequence_of.emplace(product, sequence);
  likes.by_sequence.emplace(sequence, product);
  likes.unliked_of.erase(product);
  ++like_counts_[product];
  IndexLocked(products_.find(product)->second);
  std::string entries;
  AppendLikeEntry(user, product, sequence, &entries);
  LogLocked(entries);
  return LikeChange{true, sequence};
}

Result<LikeChange> OrderBook::Unlike(uint64_t user, uint64_t product, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!products_.contains(product)) return Status::NotFound("product " + std::to_string(product));
  const auto user_likes = likes_of_user_.find(user);
  if (user_likes == likes_of_user_.end()) return LikeChange{};
  UserLikes& likes = user_likes->second;
  if (!likes.sequence_of.contains(product)) {
    const auto unliked = likes.unliked_of.find(product);
    return LikeChange{false, unliked == likes.unliked_of.end() ? 0 : unliked->second};
  }
  DropLikeLocked(likes, product);
  const uint64_t sequence = NextLikeSequenceLocked(now_ms);
  likes.unliked_of[product] = sequence;
  IndexLocked(products_.find(product)->second);
  std::string entries;
  AppendUnlikeEntry(user, product, sequence, &entries);
  LogLocked(entries);
  return LikeChange{true, sequence};
}

int64_t OrderBook::LikeCount(uint64_t product) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = like_counts_.find(product);
  return it == like_counts_.end() ? 0 : it->second;
}

std::vector<uint64_t> OrderBook::LikedProducts(uint64_t user, size_t offset, size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<uint64_t> page;
  const auto it = likes_of_user_.find(user);
  if (it == likes_of_user_.end()) return page;
  const auto& by_sequence = it->second.by_sequence;
  auto cursor = by_sequence.rbegin();
  for (size_t skipped = 0; skipped < offset && cursor != by_sequence.rend(); ++skipped) ++cursor;
  for (; cursor != by_sequence.rend() && page.size() < count; ++cursor) {
    page.push_back(cursor->second);
  }
  return page;
}

// ---- Recovery and snapshots ----------------------------------------------------------------

void OrderBook::RestoreBrand(uint64_t id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  brands_[id] = std::string(name);
}

void OrderBook::RestoreProduct(const Product& product) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, created] = products_.try_emplace(product.id, product);
  if (!created) {
    UnindexLocked(it->second);
    it->second = product;
  }
  IndexLocked(product);
}

void OrderBook::RestorePoints(uint64_t user, int64_t balance) {
  std::lock_guard<std::mutex> lock(mutex_);
  points_[user] = balance;
}

void OrderBook::RestoreCoupon(const Coupon& coupon) {
  std::lock_guard<std::mutex> lock(mutex_);
  coupons_[coupon.id] = coupon;
}

void OrderBook::RestoreOrder(const OrderRecord& order) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, created] = orders_.try_emplace(order.id, order);
  if (created) {
    orders_of_user_[order.user].push_back(order.id);
  } else {
    AdjustHeldLocked(it->second, -1);
    it->second = order;
  }
  AdjustHeldLocked(order, +1);
  if (order.state == OrderState::kPending) deadlines_.emplace(order.expires_ms, order.id);
}

void OrderBook::RestoreLike(uint64_t user, uint64_t product, uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mutex_);
  UserLikes& likes = likes_of_user_[user];
  DropLikeLocked(likes, product);
  likes.unliked_of.erase(product);
  if (sequence != 0) {
    likes.sequence_of.emplace(product, sequence);
    likes.by_sequence.emplace(sequence, product);
    ++like_counts_[product];
    like_sequence_ = std::max(like_sequence_, sequence);
  }
  if (const auto it = products_.find(product); it != products_.end()) IndexLocked(it->second);
}

void OrderBook::RestoreUnlike(uint64_t user, uint64_t product, uint64_t sequence) {
  DCHECK_NE(sequence, 0u);
  std::lock_guard<std::mutex> lock(mutex_);
  UserLikes& likes = likes_of_user_[user];
  DropLikeLocked(likes, product);
  likes.unliked_of[product] = sequence;
  like_sequence_ = std::max(like_sequence_, sequence);
  if (const auto it = products_.find(product); it != products_.end()) IndexLocked(it->second);
}

uint64_t OrderBook::AppendSnapshotEntries(std::string* out) {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t count = 0;
  for (const auto& [id, name] : brands_) AppendBrandEntry(id, name, out), ++count;
  for (const auto& [id, product] : products_) AppendProductEntry(product, out), ++count;
  for (const auto& [user, balance] : points_) AppendPointsEntry(user, balance, out), ++count;
  for (const auto& [id, coupon] : coupons_) AppendCouponEntry(coupon, out), ++count;
  for (const auto& [user, ids] : orders_of_user_) {
    for (const std::string& id : ids) AppendOrderEntry(orders_.find(id)->second, out), ++count;
  }
  for (const auto& [user, likes] : likes_of_user_) {
    for (const auto& [sequence, product] : likes.by_sequence) {
      AppendLikeEntry(user, product, sequence, out);
      ++count;
    }
    for (const auto& [product, sequence] : likes.unliked_of) {
      AppendUnlikeEntry(user, product, sequence, out);
      ++count;
    }
  }
  return count;
}

}  // namespace podium::storage
