#include "storage/book_effects.h"

#include <vector>

#include "storage/coding.h"
#include "storage/database.h"
#include "storage/limits.h"

namespace podium::storage {
namespace {

// Live balances stay within kPointsMax (OrderBook::ChargePoints), but a log or snapshot
// written before that rule may hold any balance its refunds reached, and the book carries such
// a balance on (and logs it again): a decoder accepts every non-negative int64.
constexpr int64_t kBalanceDecodedMax = INT64_MAX;
static_assert(kPointsMax <= kBalanceDecodedMax);

void Frame(BookTag tag, const std::string& payload, std::string* out) {
  out->push_back(static_cast<char>(tag));
  AppendLengthPrefixed(out, payload);
}

std::string& Scratch() {
  thread_local std::string payload;
  payload.clear();
  return payload;
}

bool ReadI64(ByteReader& reader, int64_t min, int64_t max, int64_t* value) {
  uint64_t raw = 0;
  if (!reader.ReadU64(&raw)) return false;
  *value = static_cast<int64_t>(raw);
  return *value >= min && *value <= max;
}

bool ReadId(ByteReader& reader, size_t min_bytes, std::string* id) {
  std::string_view bytes;
  if (!reader.ReadLengthPrefixed(&bytes) || bytes.size() < min_bytes ||
      bytes.size() > kIdBytesMax) {
    return false;
  }
  id->assign(bytes);
  return true;
}

bool ReadName(ByteReader& reader, std::string* name) {
  std::string_view bytes;
  if (!reader.ReadLengthPrefixed(&bytes) || bytes.empty() || bytes.size() > kNameBytesMax) {
    return false;
  }
  name->assign(bytes);
  return true;
}

bool ReadProduct(ByteReader& reader, uint64_t* product) {
  return reader.ReadU64(product) && *product <= kProductIdMax;
}

bool DecodeOrder(ByteReader& reader, OrderRecord* order) {
  uint8_t state = 0;
  uint64_t items = 0;
  if (!ReadId(reader, 1, &order->id) || !reader.ReadU64(&order->user) ||
      !reader.ReadU8(&state) || state > static_cast<uint8_t>(OrderState::kExpired) ||
      !ReadI64(reader, 1, kHoldMsMax, &order->hold_ms) || !ReadId(reader, 0, &order->coupon) ||
      !ReadI64(reader, 0, kAmountMax, &order->total) ||
      !ReadI64(reader, 0, kAmountMax, &order->discount) ||
      !ReadI64(reader, 0, kAmountMax, &order->points) ||
      !ReadI64(reader, 0, kAmountMax, &order->pay) ||
      !ReadI64(reader, 0, INT64_MAX / 2, &order->created_ms) ||
      !ReadI64(reader, 0, INT64_MAX / 2, &order->expires_ms) || !reader.ReadVarint(&items) ||
      items < 1 || items > kOrderItemsMax) {
    return false;
  }
  order->state = static_cast<OrderState>(state);
  order->items.resize(items);
  for (OrderItem& item : order->items) {
    if (!ReadProduct(reader, &item.product) ||
        !ReadI64(reader, 1, kOrderQuantityMax, &item.quantity) ||
        !ReadI64(reader, 0, kAmountMax, &item.unit_price)) {
      return false;
    }
  }
  // paid_ms, absent from entries written before it was kept (they read as 0).
  order->paid_ms = 0;
  return reader.empty() || ReadI64(reader, 0, INT64_MAX / 2, &order->paid_ms);
}

}  // namespace

void AppendStockEntry(uint64_t product, int64_t units, std::string* out) {
  std::string& payload = Scratch();
  AppendU64(&payload, product);
  AppendU64(&payload, static_cast<uint64_t>(units));
  Frame(BookTag::kStockSet, payload, out);
}

void AppendBrandEntry(uint64_t brand, std::string_view name, std::string* out) {
  std::string& payload = Scratch();
  AppendU64(&payload, brand);
  AppendLengthPrefixed(&payload, name);
  Frame(BookTag::kBrand, payload, out);
}

void AppendProductEntry(const Product& product, std::string* out) {
  std::string& payload = Scratch();
  AppendU64(&payload, product.id);
  AppendU64(&payload, product.brand);
  AppendU64(&payload, static_cast<uint64_t>(product.price));
  AppendU64(&payload, static_cast<uint64_t>(product.created_ms));
  AppendLengthPrefixed(&payload, product.name);
  Frame(BookTag::kProduct, payload, out);
}

void AppendPointsEntry(uint64_t user, int64_t balance, std::string* out) {
  std::string& payload = Scratch();
  AppendU64(&payload, user);
  AppendU64(&payload, static_cast<uint64_t>(balance));
  Frame(BookTag::kPoints, payload, out);
}

void AppendCouponEntry(const Coupon& coupon, std::string* out) {
  std::string& payload = Scratch();
  AppendLengthPrefixed(&payload, coupon.id);
  AppendU64(&payload, coupon.user);
  payload.push_back(static_cast<char>(coupon.kind));
  AppendU64(&payload, static_cast<uint64_t>(coupon.value));
  payload.push_back(static_cast<char>(coupon.state));
  AppendLengthPrefixed(&payload, coupon.order);
  Frame(BookTag::kCoupon, payload, out);
}

void AppendOrderEntry(const OrderRecord& order, std::string* out) {
  std::string& payload = Scratch();
  AppendLengthPrefixed(&payload, order.id);
  AppendU64(&payload, order.user);
  payload.push_back(static_cast<char>(order.state));
  AppendU64(&payload, static_cast<uint64_t>(order.hold_ms));
  AppendLengthPrefixed(&payload, order.coupon);
  for (int64_t amount : {order.total, order.discount, order.points, order.pay, order.created_ms,
                         order.expires_ms}) {
    AppendU64(&payload, static_cast<uint64_t>(amount));
  }
  AppendVarint(&payload, order.items.size());
  for (const OrderItem& item : order.items) {
    AppendU64(&payload, item.product);
    AppendU64(&payload, static_cast<uint64_t>(item.quantity));
    AppendU64(&payload, static_cast<uint64_t>(item.unit_price));
  }
  AppendU64(&payload, static_cast<uint64_t>(order.paid_ms));
  Frame(BookTag::kOrder, payload, out);
}

void AppendLikeEntry(uint64_t user, uint64_t product, uint64_t sequence, std::string* out) {
  std::string& payload = Scratch();
  AppendU64(&payload, user);
  AppendU64(&payload, product);
  AppendU64(&payload, sequence);
  Frame(BookTag::kLike, payload, out);
}

void AppendUnlikeEntry(uint64_t user, uint64_t product, uint64_t sequence, std::string* out) {
  DCHECK_NE(sequence, 0u);
  std::string& payload = Scratch();
  AppendU64(&payload, user);
  AppendU64(&payload, product);
  AppendU64(&payload, sequence);
  Frame(BookTag::kUnlike, payload, out);
}

Status DecodeBookEntry(uint8_t tag, std::string_view payload, BookEntry* entry) {
  ByteReader reader(payload);
  bool ok = false;
  entry->tag = static_cast<BookTag>(tag);
  switch (entry->tag) {
    case BookTag::kStockSet:
      ok = ReadProduct(reader, &entry->id) && ReadI64(reader, 0, kStockUnitsMax, &entry->value);
      break;
    case BookTag::kBrand:
      ok = reader.ReadU64(&entry->id) && ReadName(reader, &entry->name);
      break;
    case BookTag::kProduct: {
      Product& product = entry->product_record;
      ok = ReadProduct(reader, &product.id) && reader.ReadU64(&product.brand) &&
           ReadI64(reader, 0, kAmountMax, &product.price) &&
           ReadI64(reader, 0, INT64_MAX / 2, &product.created_ms) &&
           ReadName(reader, &product.name);
      break;
    }
    case BookTag::kPoints:
      ok = reader.ReadU64(&entry->id) && ReadI64(reader, 0, kBalanceDecodedMax, &entry->value);
      break;
    case BookTag::kCoupon: {
      Coupon& coupon = entry->coupon;
      uint8_t kind = 0;
      uint8_t state = 0;
      ok = ReadId(reader, 1, &coupon.id) && reader.ReadU64(&coupon.user) &&
           reader.ReadU8(&kind) && kind <= static_cast<uint8_t>(CouponKind::kPercent) &&
           ReadI64(reader, 1, kind == 0 ? kAmountMax : 100, &coupon.value) &&
           reader.ReadU8(&state) && state <= static_cast<uint8_t>(CouponState::kUsed) &&
           ReadId(reader, 0, &coupon.order);
      coupon.kind = static_cast<CouponKind>(kind);
      coupon.state = static_cast<CouponState>(state);
      break;
    }
    case BookTag::kOrder:
      ok = DecodeOrder(reader, &entry->order);
      break;
    case BookTag::kLike:
      ok = reader.ReadU64(&entry->id) && ReadProduct(reader, &entry->product) &&
           ReadI64(reader, 0, INT64_MAX, &entry->value);
      break;
    case BookTag::kUnlike:
      ok = reader.ReadU64(&entry->id) && ReadProduct(reader, &entry->product) &&
           ReadI64(reader, 1, INT64_MAX, &entry->value);
      break;
    default:
      return Status::InvalidArgument("unknown book entry tag " + std::to_string(tag));
  }
  if (!ok || !reader.empty()) {
    return Status::InvalidArgument("malformed book entry (tag " + std::to_string(tag) + ")");
  }
  return Status::Ok();
}

Status ReadBookEntry(std::string_view* bytes, BookEntry* entry) {
  ByteReader reader(*bytes);
  uint8_t tag = 0;
  std::string_view payload;
  if (!reader.ReadU8(&tag) || !reader.ReadLengthPrefixed(&payload)) {
    return Status::InvalidArgument("truncated book entry");
  }
  bytes->remove_prefix(bytes->size() - reader.remaining());
  return DecodeBookEntry(tag, payload, entry);
}

void ApplyBookEntry(const BookEntry& entry, Database* db) {
  OrderBook& book = db->orders();
  switch (entry.tag) {
    case BookTag::kStockSet:
      CHECK(db->stock().Set(entry.id, entry.value).ok());  // decoded in range
      return;
    case BookTag::kBrand:
      book.RestoreBrand(entry.id, entry.name);
      return;
    case BookTag::kProduct:
      book.RestoreProduct(entry.product_record);
      return;
    case BookTag::kPoints:
      book.RestorePoints(entry.id, entry.value);
      return;
    case BookTag::kCoupon:
      book.RestoreCoupon(entry.coupon);
      return;
    case BookTag::kOrder:
      book.RestoreOrder(entry.order);
      return;
    case BookTag::kLike:
      book.RestoreLike(entry.id, entry.product, static_cast<uint64_t>(entry.value));
      return;
    case BookTag::kUnlike:
      book.RestoreUnlike(entry.id, entry.product, static_cast<uint64_t>(entry.value));
      return;
  }
}

Status ApplyBookRecord(std::string_view payload, Database* db) {
  std::vector<BookEntry> entries;
  while (!payload.empty()) {
    if (Status status = ReadBookEntry(&payload, &entries.emplace_back()); !status.ok()) {
      return status;
    }
  }
  if (entries.empty()) return Status::InvalidArgument("empty book record");
  for (const BookEntry& entry : entries) ApplyBookEntry(entry, db);
  return Status::Ok();
}

}  // namespace podium::storage
