// Catalog, points, coupons, orders and likes: BRAND.PUT, PRODUCT.PUT, PRODUCT.GET, PRODUCT.LIST,
// POINTS.GET, POINTS.CHARGE, COUPON.ISSUE, COUPON.GET, ORDER.PLACE, ORDER.CONFIRM, ORDER.CANCEL,
// ORDER.GET, ORDER.LIST, LIKE.ADD, LIKE.DEL, LIKE.COUNT, LIKE.LIST.
//
// Thin wrappers over storage::OrderBook (docs/orders.md is the model; docs/protocol.md has the
// reply shapes). Every argument is read before the book is called, and the book changes nothing
// when it answers an error, so an error reply never follows a change. Records (a product, a
// coupon, an order) are replied as flat field, value pairs, as Redis's HGETALL does: a client
// reads them into a map, and a field added later breaks nobody.
//
// ORDER.CONFIRM, LIKE.ADD and LIKE.DEL also feed the rankings, after the book's change is
// logged; a retry that finds the change done applies the same events again
// (storage/book_events.h), which is how a crash between the two records is made good.
#include <glog/logging.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "storage/book_events.h"
#include "storage/database.h"
#include "storage/limits.h"
#include "storage/order_book.h"
#include "storage/ranking.h"

namespace podium::server {
namespace {

using protocol::StatusCode;
using storage::OrderBook;

// Reads `offset count` at index, count at most kListCountMax.
bool ReadPage(CommandContext& context, size_t index, size_t* offset, size_t* count) {
  int64_t first = 0;
  int64_t size = 0;
  if (!ReadInt64(context, index, &first) || !ReadInt64(context, index + 1, &size)) return false;
  if (first < 0 || size < 0 || size > static_cast<int64_t>(storage::kListCountMax)) {
    context.reply.Error(StatusCode::kErr, "offset must be >= 0 and count 0.." +
                                              std::to_string(storage::kListCountMax));
    return false;
  }
  *offset = static_cast<size_t>(first);
  *count = static_cast<size_t>(size);
  return true;
}

void Field(protocol::ReplyWriter& reply, std::string_view name, int64_t value) {
  reply.Bytes(name);
  reply.Integer(value);
}

void Field(protocol::ReplyWriter& reply, std::string_view name, std::string_view value) {
  reply.Bytes(name);
  reply.Bytes(value);
}

// ---- Catalog --------------------------------------------------------------------------------

void BrandPutCommand(CommandContext& context) {
  uint64_t brand = 0;
  if (!ReadIntegerId(context, 0, "brand", &brand)) return;
  const protocol::Argument& name = context.arg(1);
  storage::Status status = context.db.orders().PutBrand(brand, name.bytes);
  if (!status.ok()) {
    ReplyStatus(context, status);
    return;
  }
  context.reply.Ok();
}

void ProductPutCommand(CommandContext& context) {
  uint64_t product = 0;
  uint64_t brand = 0;
  int64_t price = 0;
  if (!ReadProductId(context, 0, &product) || !ReadIntegerId(context, 1, "brand", &brand) ||
      !ReadInt64(context, 2, &price)) {
    return;
  }
  storage::Status status =
      context.db.orders().PutProduct(product, brand, price, context.arg(3).bytes, context.now_ms);
  if (!status.ok()) {
    ReplyStatus(context, status);
    return;
  }
  context.reply.Ok();
}

void ReplyProduct(protocol::ReplyWriter& reply, const storage::ProductView* view) {
  reply.ArrayHeader(16);
  Field(reply, "id", static_cast<int64_t>(view->product.id));
  Field(reply, "brand", static_cast<int64_t>(view->product.brand));
  Field(reply, "price", view->product.price);
  Field(reply, "name", view->product.name);
  Field(reply, "created_ms", view->product.created_ms);
  Field(reply, "likes", view->likes);
  reply.Bytes("stock");
  if (view->stock.has_value()) {
    reply.Integer(*view->stock);
  } else {
    reply.Nil();
  }
  Field(reply, "held", view->held);
}

void ProductGetCommand(CommandContext& context) {
  uint64_t product = 0;
  if (!ReadProductId(context, 0, &product)) return;
  const std::optional<storage::ProductView> view = context.db.orders().GetProduct(product);
  if (!view.has_value()) {
    context.reply.Nil();
    return;
  }
  ReplyProduct(context.reply, &*view);
}

// PRODUCT.LIST LATEST|PRICE_ASC|LIKES_DESC offset count [BRAND brand]
void ProductListCommand(CommandContext& context) {
  storage::ProductSort sort = storage::ProductSort::kLatest;
  if (ArgumentIs(context, 0, "PRICE_ASC")) {
    sort = storage::ProductSort::kPriceAscending;
  } else if (ArgumentIs(context, 0, "LIKES_DESC")) {
    sort = storage::ProductSort::kLikesDescending;
  } else if (!ArgumentIs(context, 0, "LATEST")) {
    context.reply.Error(StatusCode::kErr, "sort must be LATEST, PRICE_ASC or LIKES_DESC");
    return;
  }
  size_t offset = 0;
  size_t count = 0;
  if (!ReadPage(context, 1, &offset, &count)) return;
  std::optional<uint64_t> brand;
  if (context.argc() == 5 && ArgumentIs(context, 3, "BRAND")) {
    uint64_t id = 0;
    if (!ReadIntegerId(context, 4, "brand", &id)) return;
    brand = id;
  } else if (context.argc() != 3) {
    ReplySyntaxError(context);
    return;
  }
  const std::vector<storage::ProductView> page =
      context.db.orders().ListProducts(sort, offset, count, brand);
  context.reply.ArrayHeader(page.size());
  for (const storage::ProductView& view : page) ReplyProduct(context.reply, &view);
}

// ---- Points and coupons ---------------------------------------------------------------------

void PointsGetCommand(CommandContext& context) {
  uint64_t user = 0;
  if (!ReadIntegerId(context, 0, "user", &user)) return;
  context.reply.Integer(context.db.orders().Points(user));
}

void PointsChargeCommand(CommandContext& context) {
  uint64_t user = 0;
  int64_t amount = 0;
  if (!ReadIntegerId(context, 0, "user", &user) || !ReadInt64(context, 1, &amount)) return;
  storage::Result<int64_t> balance = context.db.orders().ChargePoints(user, amount);
  if (!balance.ok()) {
    ReplyStatus(context, balance.status());
    return;
  }
  context.reply.Integer(*balance);
}

void CouponIssueCommand(CommandContext& context) {
  std::string_view coupon;
  uint64_t user = 0;
  int64_t value = 0;
  if (!ReadBytesId(context, 0, "coupon", &coupon) || !ReadIntegerId(context, 1, "user", &user)) {
    return;
  }
  storage::CouponKind kind = storage::CouponKind::kFixed;
  if (ArgumentIs(context, 2, "PERCENT")) {
    kind = storage::CouponKind::kPercent;
  } else if (!ArgumentIs(context, 2, "FIXED")) {
    context.reply.Error(StatusCode::kErr, "coupon kind must be FIXED or PERCENT");
    return;
  }
  if (!ReadInt64(context, 3, &value)) return;
  storage::Status status = context.db.orders().IssueCoupon(coupon, user, kind, value);
  if (!status.ok()) {
    ReplyStatus(context, status);
    return;
  }
  context.reply.Ok();
}

void CouponGetCommand(CommandContext& context) {
  std::string_view id;
  if (!ReadBytesId(context, 0, "coupon", &id)) return;
  const std::optional<storage::Coupon> coupon = context.db.orders().GetCoupon(id);
  if (!coupon.has_value()) {
    context.reply.Nil();
    return;
  }
  protocol::ReplyWriter& reply = context.reply;
  reply.ArrayHeader(12);
  Field(reply, "id", coupon->id);
  Field(reply, "user", static_cast<int64_t>(coupon->user));
  Field(reply, "kind", storage::CouponKindName(coupon->kind));
  Field(reply, "value", coupon->value);
  Field(reply, "state", storage::CouponStateName(coupon->state));
  Field(reply, "order", coupon->order);
}

// ---- Orders ---------------------------------------------------------------------------------

void ReplyPlaced(protocol::ReplyWriter& reply, const storage::OrderRecord& order) {
  reply.ArrayHeader(14);
  Field(reply, "order", order.id);
  Field(reply, "status", storage::OrderStateName(order.state));
  Field(reply, "total", order.total);
  Field(reply, "discount", order.discount);
  Field(reply, "points", order.points);
  Field(reply, "pay", order.pay);
  Field(reply, "expires_ms", order.expires_ms);
}

void ReplyOrder(protocol::ReplyWriter& reply, const storage::OrderRecord& order) {
  reply.ArrayHeader(22);
  Field(reply, "order", order.id);
  Field(reply, "user", static_cast<int64_t>(order.user));
  Field(reply, "status", storage::OrderStateName(order.state));
  Field(reply, "total", order.total);
  Field(reply, "discount", order.discount);
  Field(reply, "points", order.points);
  Field(reply, "pay", order.pay);
  Field(reply, "coupon", order.coupon);
  Field(reply, "created_ms", order.created_ms);
  Field(reply, "expires_ms", order.expires_ms);
  reply.Bytes("items");
  reply.ArrayHeader(order.items.size());
  for (const storage::OrderItem& item : order.items) {
    reply.ArrayHeader(3);
    reply.Integer(static_cast<int64_t>(item.product));
    reply.Integer(item.quantity);
    reply.Integer(item.unit_price);
  }
}

// ORDER.PLACE order user hold_ms n product qty [product qty ...] [COUPON id] [POINTS amount]
void OrderPlaceCommand(CommandContext& context) {
  storage::OrderRequest request;
  std::string_view id;
  int64_t count = 0;
  if (!ReadBytesId(context, 0, "order", &id) || !ReadIntegerId(context, 1, "user", &request.user) ||
      !ReadInt64(context, 2, &request.hold_ms) || !ReadInt64(context, 3, &count)) {
    return;
  }
  request.id = std::string(id);
  if (count < 1 || count > static_cast<int64_t>(storage::kOrderItemsMax)) {
    context.reply.Error(count < 1 ? StatusCode::kErr : StatusCode::kLimit,
                        "an order has 1 to " + std::to_string(storage::kOrderItemsMax) + " items");
    return;
  }
  const size_t items_end = 4 + 2 * static_cast<size_t>(count);
  if (context.argc() < items_end) {
    context.reply.Error(StatusCode::kErr, "the order names " + std::to_string(count) +
                                              " items but lists fewer");
    return;
  }
  for (size_t index = 4; index < items_end; index += 2) {
    storage::OrderItem item;
    if (!ReadProductId(context, index, &item.product) ||
        !ReadInt64(context, index + 1, &item.quantity)) {
      return;
    }
    request.items.push_back(item);
  }
  bool coupon_seen = false;
  bool points_seen = false;
  for (size_t index = items_end; index < context.argc(); index += 2) {
    if (index + 1 >= context.argc()) {
      ReplySyntaxError(context);
      return;
    }
    if (ArgumentIs(context, index, "COUPON") && !coupon_seen) {
      std::string_view coupon;
      if (!ReadBytesId(context, index + 1, "coupon", &coupon)) return;
      request.coupon = std::string(coupon);
      coupon_seen = true;
    } else if (ArgumentIs(context, index, "POINTS") && !points_seen) {
      if (!ReadInt64(context, index + 1, &request.points)) return;
      points_seen = true;
    } else {
      ReplySyntaxError(context);
      return;
    }
  }
  storage::Result<storage::OrderRecord> order = context.db.orders().Place(request, context.now_ms);
  if (!order.ok()) {
    ReplyStatus(context, order.status());
    return;
  }
  ReplyPlaced(context.reply, *order);
}

// The ranking namespace the shop's own events go to (docs/rankings.md).
constexpr std::string_view kShopRankingNamespace = "all";

// Applies the book's ranking events. `retry`: the change was done by an earlier command, and
// these events were applied then unless a crash lost them; the rankings count each id once.
// A retry's event may be refused for a window that has expired: expected, so not a warning.
void ApplyBookEvents(CommandContext& context, const std::vector<storage::BookEvent>& events,
                     bool retry) {
  for (const storage::BookEvent& event : events) {
    storage::Result<bool> applied =
        context.db.rankings().Apply(kShopRankingNamespace, event.view(), context.now_ms);
    if (applied.ok()) continue;
    if (retry) {
      VLOG(1) << "ranking event " << event.id << " again: " << applied.status().ToString();
    } else {
      LOG(WARNING) << "ranking event " << event.id << ": " << applied.status().ToString();
    }
  }
}

// A paid order counts for the ranking: one ORDER event per item. A confirm of an order that is
// already PAID (a retry) answers as before and applies its events again.
void OrderConfirmCommand(CommandContext& context) {
  std::string_view id;
  if (!ReadBytesId(context, 0, "order", &id)) return;
  OrderBook& book = context.db.orders();
  storage::Result<storage::OrderRecord> order = book.Confirm(id, context.now_ms);
  if (!order.ok()) {
    if (const std::optional<storage::OrderRecord> paid = book.Get(id, context.now_ms);
        paid.has_value() && paid->state == storage::OrderState::kPaid) {
      ApplyBookEvents(context, storage::OrderEvents(*paid), /*retry=*/true);
    }
    ReplyStatus(context, order.status());
    return;
  }
  ApplyBookEvents(context, storage::OrderEvents(*order), /*retry=*/false);
  ReplyOrder(context.reply, *order);
}

void OrderCancelCommand(CommandContext& context) {
  std::string_view id;
  if (!ReadBytesId(context, 0, "order", &id)) return;
  storage::Result<storage::OrderRecord> order = context.db.orders().Cancel(id, context.now_ms);
  if (!order.ok()) {
    ReplyStatus(context, order.status());
    return;
  }
  ReplyOrder(context.reply, *order);
}

void OrderGetCommand(CommandContext& context) {
  std::string_view id;
  if (!ReadBytesId(context, 0, "order", &id)) return;
  const std::optional<storage::OrderRecord> order = context.db.orders().Get(id, context.now_ms);
  if (!order.has_value()) {
    context.reply.Nil();
    return;
  }
  ReplyOrder(context.reply, *order);
}

void OrderListCommand(CommandContext& context) {
  uint64_t user = 0;
  size_t offset = 0;
  size_t count = 0;
  if (!ReadIntegerId(context, 0, "user", &user) || !ReadPage(context, 1, &offset, &count)) return;
  const std::vector<std::string> ids = context.db.orders().ListOrders(user, offset, count);
  context.reply.ArrayHeader(ids.size());
  for (const std::string& id : ids) context.reply.Bytes(id);
}

// ---- Likes ----------------------------------------------------------------------------------

void LikeChange(CommandContext& context, bool add) {
  uint64_t user = 0;
  uint64_t product = 0;
  if (!ReadIntegerId(context, 0, "user", &user) || !ReadProductId(context, 1, &product)) return;
  OrderBook& book = context.db.orders();
  storage::Result<storage::LikeChange> change =
      add ? book.Like(user, product, context.now_ms) : book.Unlike(user, product, context.now_ms);
  if (!change.ok()) {
    ReplyStatus(context, change.status());
    return;
  }
  // The LIKE or UNLIKE event of the like or unlike in force: this one's, or (no change) the
  // earlier one's again.
  if (change->sequence != 0) {
    ApplyBookEvents(context, {storage::LikeEvent(add, user, product, change->sequence)},
                    /*retry=*/!change->changed);
  }
  context.reply.Integer(change->changed ? 1 : 0);
}

void LikeAddCommand(CommandContext& context) { LikeChange(context, true); }
void LikeDelCommand(CommandContext& context) { LikeChange(context, false); }

void LikeCountCommand(CommandContext& context) {
  uint64_t product = 0;
  if (!ReadProductId(context, 0, &product)) return;
  context.reply.Integer(context.db.orders().LikeCount(product));
}

void LikeListCommand(CommandContext& context) {
  uint64_t user = 0;
  size_t offset = 0;
  size_t count = 0;
  if (!ReadIntegerId(context, 0, "user", &user) || !ReadPage(context, 1, &offset, &count)) return;
  const std::vector<uint64_t> products = context.db.orders().LikedProducts(user, offset, count);
  context.reply.ArrayHeader(products.size());
  for (uint64_t product : products) context.reply.Integer(static_cast<int64_t>(product));
}

}  // namespace

void RegisterOrderCommands(CommandRegistry& registry) {
  using protocol::Opcode;
  constexpr uint32_t kWrite = kCommandWrite | kCommandFast;
  constexpr uint32_t kRead = kCommandReadOnly | kCommandFast;
  // No keys of the keyspace: first_key 0.
  registry.Add({Opcode::kBrandPut, 3, kWrite, 0, 0, 0, BrandPutCommand});
  registry.Add({Opcode::kProductPut, 5, kWrite, 0, 0, 0, ProductPutCommand});
  registry.Add({Opcode::kProductGet, 2, kRead, 0, 0, 0, ProductGetCommand});
  registry.Add({Opcode::kProductList, -4, kRead, 0, 0, 0, ProductListCommand});
  registry.Add({Opcode::kPointsGet, 2, kRead, 0, 0, 0, PointsGetCommand});
  registry.Add({Opcode::kPointsCharge, 3, kWrite, 0, 0, 0, PointsChargeCommand});
  registry.Add({Opcode::kCouponIssue, 5, kWrite, 0, 0, 0, CouponIssueCommand});
  registry.Add({Opcode::kCouponGet, 2, kRead, 0, 0, 0, CouponGetCommand});
  registry.Add({Opcode::kOrderPlace, -7, kWrite, 0, 0, 0, OrderPlaceCommand});
  registry.Add({Opcode::kOrderConfirm, 2, kWrite, 0, 0, 0, OrderConfirmCommand});
  registry.Add({Opcode::kOrderCancel, 2, kWrite, 0, 0, 0, OrderCancelCommand});
  registry.Add({Opcode::kOrderGet, 2, kRead, 0, 0, 0, OrderGetCommand});
  registry.Add({Opcode::kOrderList, 4, kRead, 0, 0, 0, OrderListCommand});
  registry.Add({Opcode::kLikeAdd, 3, kWrite, 0, 0, 0, LikeAddCommand});
  registry.Add({Opcode::kLikeDel, 3, kWrite, 0, 0, 0, LikeDelCommand});
  registry.Add({Opcode::kLikeCount, 2, kRead, 0, 0, 0, LikeCountCommand});
  registry.Add({Opcode::kLikeList, 4, kRead, 0, 0, 0, LikeListCommand});
}

}  // namespace podium::server
