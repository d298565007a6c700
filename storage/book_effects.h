// Book entries: how the order book's state (storage/order_book.h) is written to the WAL and to
// snapshots, and applied back at recovery.
//
// An entry assigns the final value of one cell, as every WAL effect does (storage/effects.h):
// a stock counter's units, a brand, a product, a user's points balance, a coupon, an order (its
// whole record, state included), or whether a user likes a product (liked, unliked with the
// unlike's sequence, or neither). What the book derives
// (units held per product, like counts, a user's order list, the deadline queue) is rebuilt
// from the entries as they are applied, never logged, so it cannot disagree with them.
//
// A WAL record of type kBook (docs/wal_format.md) is a sequence of entries that one command
// changed together: ORDER.PLACE logs its items' stock counters, the points balance, the coupon
// and the order in one record, under the book's lock and the items' stock stripe locks, so
// replay sees all of it or none of it, in per-cell order. A snapshot's book section holds one
// entry per cell (docs/snapshot_format.md).
//
// Entry layout: u8 tag, varint payload length, payload (docs/wal_format.md, "Book entries").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/order_book.h"
#include "storage/status.h"

namespace podium::storage {

class Database;

enum class BookTag : uint8_t {
  kStockSet = 1,
  kBrand = 2,
  kProduct = 3,
  kPoints = 4,
  kCoupon = 5,
  kOrder = 6,
  kLike = 7,
  kUnlike = 8,
};

// One decoded entry; which fields mean something depends on the tag.
struct BookEntry {
  BookTag tag = BookTag::kStockSet;
  uint64_t id = 0;         // product (stock), brand, user (points, like)
  uint64_t product = 0;    // like, unlike
  int64_t value = 0;       // stock units, points balance, like sequence (0: not liked),
                           // unlike sequence
  std::string name;        // brand
  Product product_record;  // product
  Coupon coupon;
  OrderRecord order;
};

// Encoders: append one entry to *out.
void AppendStockEntry(uint64_t product, int64_t units, std::string* out);
void AppendBrandEntry(uint64_t brand, std::string_view name, std::string* out);
void AppendProductEntry(const Product& product, std::string* out);
void AppendPointsEntry(uint64_t user, int64_t balance, std::string* out);
void AppendCouponEntry(const Coupon& coupon, std::string* out);
void AppendOrderEntry(const OrderRecord& order, std::string* out);
void AppendLikeEntry(uint64_t user, uint64_t product, uint64_t sequence, std::string* out);
void AppendUnlikeEntry(uint64_t user, uint64_t product, uint64_t sequence, std::string* out);

// Decodes the payload of one entry with the given tag; InvalidArgument if it is malformed or
// out of range (storage/limits.h).
Status DecodeBookEntry(uint8_t tag, std::string_view payload, BookEntry* entry);
// Reads the entry at the front of *bytes and advances past it.
Status ReadBookEntry(std::string_view* bytes, BookEntry* entry);

// Applies one entry to the database (the stock table or the book).
void ApplyBookEntry(const BookEntry& entry, Database* db);
// A kBook record: decodes every entry first, then applies them all (a bad record changes
// nothing).
Status ApplyBookRecord(std::string_view payload, Database* db);

}  // namespace podium::storage
